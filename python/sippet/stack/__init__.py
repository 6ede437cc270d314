"""The asyncio stack: ``Stack`` (transports + transaction layer + core), ``Core``, routing."""

from __future__ import annotations

from sippet.stack.core import Core
from sippet.stack.runner import run
from sippet.stack.stack import AnswerTimeouts, Peer, Stack

__all__ = ["AnswerTimeouts", "Core", "Peer", "Stack", "run"]
