"""``python -m sippet``: the ``sippet`` command."""

from __future__ import annotations

import sys

from sippet.cli import main

sys.exit(main())
