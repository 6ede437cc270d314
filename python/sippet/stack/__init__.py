"""The asyncio stack: ``Stack`` (transports + transaction layer + core), ``Core``, routing."""

from __future__ import annotations

from sippet.stack.core import Core
from sippet.stack.runner import run
from sippet.stack.stack import Peer, Stack

__all__ = ["Core", "Peer", "Stack", "run"]
