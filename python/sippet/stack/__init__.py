"""The asyncio stack: ``Stack`` (the driver), its ``TransportLayer`` and ``Ingress``, ``Core``."""

from __future__ import annotations

from sippet.stack.core import Core
from sippet.stack.runner import run
from sippet.stack.stack import AnswerTimeouts, Stack
from sippet.stack.transport_layer import Peer, TransportLayer

__all__ = ["AnswerTimeouts", "Core", "Peer", "Stack", "TransportLayer", "run"]
