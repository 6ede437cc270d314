"""Seeing each transaction of ``sippet serve``: the request that opened it and the final
response sent for it, wherever in the application that response was built (registrar,
proxy, authentication).

``ObservedStack`` is a ``Stack`` that reports every response it is asked to send;
``Observer``s receive ``request(request)`` when a request reaches the application and
``final(request, response, seconds)`` when its final response leaves. A request is matched
to its response by the top Via branch and the CSeq method (RFC 3261 §17.2.3: the same
values identify the server transaction). At most ``MAX_OPEN`` requests are remembered;
past it the oldest is forgotten (its line is not printed).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol, TextIO

from sippet.message import Message, RequestLine, StatusLine
from sippet.stack import Stack
from sippet.transactions import ClientKey

MAX_OPEN = 50_000
"""Requests waiting for their final response that are remembered (memory bound)."""


class Observer(Protocol):
    def request(self, request: Message) -> None: ...

    def final(self, request: Message, response: Message, seconds: float) -> None: ...


def _key(message: Message) -> tuple[str, str] | None:
    vias = message.headers.get("via")
    cseq = message.headers.get("cseq")
    if not vias or cseq is None:
        return None
    return str(vias[0].params.get("branch", "")), str(cseq.method)


class Transactions:
    """Pairs requests with their final responses and tells the observers."""

    def __init__(
        self, observers: Sequence[Observer], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.observers = list(observers)
        self.clock = clock
        self._open: OrderedDict[tuple[str, str], tuple[Message, float]] = OrderedDict()

    def request(self, request: Message) -> None:
        for observer in self.observers:
            observer.request(request)
        key = _key(request)
        start = request.start_line
        if key is None or not isinstance(start, RequestLine) or start.method == "ACK":
            return  # an ACK has no transaction of its own (§17.2.1, §13.3.1.4)
        self._open[key] = (request, self.clock())
        if len(self._open) > MAX_OPEN:
            self._open.popitem(last=False)

    @property
    def pending(self) -> int:
        """Requests still waiting for their final response."""
        return len(self._open)

    def response(self, response: Message) -> None:
        start = response.start_line
        if not isinstance(start, StatusLine) or start.status_code < 200:
            return
        key = _key(response)
        found = self._open.pop(key, None) if key is not None else None
        if found is None:
            return  # a 2xx retransmission, or a request forgotten past MAX_OPEN
        request, started = found
        for observer in self.observers:
            observer.final(request, response, self.clock() - started)


class ObservedStack(Stack):
    """A ``Stack`` whose sent responses go to ``transactions`` (set after construction)."""

    transactions: Transactions | None = None

    async def send(self, message: Message) -> ClientKey | None:
        if self.transactions is not None and isinstance(message.start_line, StatusLine):
            self.transactions.response(message)
        return await super().send(message)

    def send_response(self, response: Message) -> None:
        if self.transactions is not None:
            self.transactions.response(response)
        super().send_response(response)


class LinePrinter:
    """One line per transaction on ``out``: UTC time, method, From, To, status, duration
    (and the worker number when there are several workers)."""

    def __init__(self, out: TextIO, worker: int | None = None) -> None:
        self.out = out
        self.prefix = f"worker={worker} " if worker is not None else ""

    def request(self, request: Message) -> None:
        return None

    def final(self, request: Message, response: Message, seconds: float) -> None:
        start = request.start_line
        status = response.start_line
        assert isinstance(start, RequestLine) and isinstance(status, StatusLine)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        sender = _uri(request, "from")
        receiver = _uri(request, "to")
        self.out.write(
            f"{stamp} {self.prefix}{start.method} from={sender} to={receiver} "
            f"status={status.status_code} time={seconds * 1000:.1f}ms\n"
        )
        self.out.flush()


def _uri(message: Message, header: str) -> str:
    value = message.headers.get(header)
    return str(value.uri) if value is not None else "-"
