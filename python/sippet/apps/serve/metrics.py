"""``--metrics HOST:PORT``: Prometheus text over HTTP, with ``prometheus-client``.

| metric | type | what |
|---|---|---|
| ``sippet_requests_total{method}`` | counter | requests that reached the application |
| ``sippet_responses_total{class}`` | counter | final responses sent, by class (``2xx``...) |
| ``sippet_registered_contacts`` | gauge | live contacts of the AORs registered through this node |
| ``sippet_transactions`` | gauge | transactions open in the transaction layer |
| ``sippet_dialogs`` | gauge | INVITE dialogs set up through this node and not yet ended by BYE |

With ``--workers N`` each worker serves its own metrics on PORT + its number (the
counters are per process). Contacts and dialogs are what this node saw (the 200 of each
REGISTER lists every live binding of its AOR; a dialog counts from the 2xx of its INVITE to
the 2xx of its BYE); at most ``MAX_TRACKED`` AORs and dialogs are tracked.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from sippet.apps.serve.settings import ServeError
from sippet.message import Message, RequestLine, StatusLine
from sippet.registrar import aor_key

V = TypeVar("V")

MAX_TRACKED = 100_000
"""AORs and dialogs tracked for the gauges (memory bound; the oldest are dropped)."""


class Metrics:
    """An ``Observer`` of the transactions feeding a private registry."""

    def __init__(
        self, open_transactions: Callable[[], int], clock: Callable[[], float] = time.time
    ) -> None:
        self.clock = clock
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sippet_requests", "Requests received", ["method"], registry=self.registry
        )
        self.responses = Counter(
            "sippet_responses", "Final responses sent", ["class"], registry=self.registry
        )
        contacts = Gauge(
            "sippet_registered_contacts", "Live registered contacts", registry=self.registry
        )
        contacts.set_function(self._live_contacts)
        transactions = Gauge("sippet_transactions", "Open transactions", registry=self.registry)
        transactions.set_function(open_transactions)
        dialogs = Gauge("sippet_dialogs", "INVITE dialogs set up", registry=self.registry)
        dialogs.set_function(lambda: len(self._dialogs))
        self._contacts: OrderedDict[str, tuple[float, ...]] = OrderedDict()
        self._dialogs: OrderedDict[str, None] = OrderedDict()

    def serve(self, host: str, port: int) -> None:
        """Start the HTTP server (a thread of prometheus-client's)."""
        try:
            start_http_server(port, host, registry=self.registry)
        except OSError as exc:
            raise ServeError(f"cannot serve metrics on {host}:{port}: {exc.strerror}") from None

    # -- Observer ------------------------------------------------------------------------

    def request(self, request: Message) -> None:
        start = request.start_line
        assert isinstance(start, RequestLine)
        self.requests.labels(str(start.method)).inc()

    def final(self, request: Message, response: Message, seconds: float) -> None:
        start = request.start_line
        status = response.start_line
        assert isinstance(start, RequestLine) and isinstance(status, StatusLine)
        code = status.status_code
        self.responses.labels(f"{code // 100}xx").inc()
        if not 200 <= code < 300:
            return
        if start.method == "REGISTER":
            self._registered(request, response)
        elif start.method == "INVITE":
            self._remember(self._dialogs, str(request.headers.get("call_id")), None)
        elif start.method == "BYE":
            self._dialogs.pop(str(request.headers.get("call_id")), None)

    def _registered(self, request: Message, response: Message) -> None:
        now = self.clock()
        expiries = tuple(
            now + float(contact.params.get("expires") or 0)
            for contact in response.headers.get("contact", ())
        )
        self._remember(self._contacts, aor_key(request.headers["to"].uri), expiries)

    def _live_contacts(self) -> int:
        now = self.clock()
        return sum(1 for expiries in self._contacts.values() for end in expiries if end > now)

    @staticmethod
    def _remember(table: OrderedDict[str, V], key: str, value: V) -> None:
        table[key] = value
        table.move_to_end(key)
        if len(table) > MAX_TRACKED:
            table.popitem(last=False)
