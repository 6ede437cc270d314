"""The dialog layer's exception, kept in ``sippet.errors`` with the others and importable
from here too."""

from __future__ import annotations

from sippet.errors import DialogError

__all__ = ["DialogError"]
