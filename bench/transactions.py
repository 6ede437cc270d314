"""Transaction layer cost: microseconds per life cycle and bytes per live transaction.

Not a test. Run: ``python bench/transactions.py [N]``. Messages are built before timing
(the stack parses them anyway); what is measured is the layer: create the transaction,
drive it to completion through ``TransactionLayer`` on a fake clock, remove it.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from sippet import CSeq, Message, Method, NameAddr, RequestLine, SentBy, StatusLine, Via
from sippet.transactions import TransactionLayer
from sippet.uri import URI


def _request(method: Method, branch: str) -> Message:
    return Message(
        RequestLine(method, URI("sip", "bob", host="biloxi.com")),
        {
            "via": [Via((2, 0), "UDP", SentBy("pc33.atlanta.com", None), {"branch": branch})],
            "max_forwards": 70,
            "from": NameAddr("", URI("sip", "alice", host="atlanta.com"), {"tag": "1928"}),
            "to": NameAddr("", URI("sip", "bob", host="biloxi.com"), {}),
            "call_id": f"{branch}@pc33",
            "cseq": CSeq(1, method),
        },
    )


def _response(request: Message, status: int) -> Message:
    h = request.headers
    to = h["to"]
    if status > 100:
        to = NameAddr(to.display_name, to.uri, {"tag": "as83"})
    return Message(
        StatusLine(status, "X"),
        {"via": h["via"], "from": h["from"], "to": to, "call_id": h["call_id"], "cseq": h["cseq"]},
    )


def _server_non_invite(n: int, reliable: bool) -> tuple[float, TransactionLayer]:
    layer = TransactionLayer()
    work = [
        (r, _response(r, 200)) for r in (_request(Method.OPTIONS, f"z9hG4bKs{i}") for i in range(n))
    ]
    gc.collect()
    gc.disable()  # as timeit does: measure the layer, not collections of the corpus
    start = time.process_time()
    for i, (req, ok) in enumerate(work):
        now = i * 1e-5
        layer.receive_request(req, "src", reliable, now)
        layer.send_response(ok, now)
    layer.handle_timers(1e9)  # Timer J of the unreliable ones
    elapsed = time.process_time() - start
    gc.enable()
    assert len(layer) == 0
    return elapsed, layer


def _client_invite(n: int, reliable: bool) -> tuple[float, TransactionLayer]:
    layer = TransactionLayer()
    work = []
    for i in range(n):
        req = _request(Method.INVITE, f"z9hG4bKc{i}")
        work.append((req, _response(req, 180), _response(req, 200)))
    gc.collect()
    gc.disable()  # as timeit does: measure the layer, not collections of the corpus
    start = time.process_time()
    for i, (req, ringing, ok) in enumerate(work):
        now = i * 1e-5
        layer.send_request(req, "dest", reliable, now)
        layer.receive_response(ringing, now)
        layer.receive_response(ok, now)
    layer.handle_timers(1e9)  # Timer M
    elapsed = time.process_time() - start
    gc.enable()
    assert len(layer) == 0
    return elapsed, layer


def _bytes_per_live(n: int, start_one: Callable[[TransactionLayer, Message], Any]) -> float:
    requests = [_request(Method.INVITE, f"z9hG4bKm{i}") for i in range(n)]
    layer = TransactionLayer()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for req in requests:
        start_one(layer, req)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(layer) == n
    return (after - before) / n


def _start_client(layer: TransactionLayer, request: Message) -> None:
    layer.send_request(request, "dest", False, 0.0)


def _start_server(layer: TransactionLayer, request: Message) -> None:
    layer.receive_request(request, "src", False, 0.0)


def _empty_call_ns() -> float:
    """Calibration: the cost of an empty Python call on this machine, right now."""

    def empty() -> None:
        return None

    n = 1_000_000
    start = time.process_time()
    for _ in range(n):
        empty()
    return (time.process_time() - start) / n * 1e9


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rows = []
    for label, run, reliable in (
        ("server non-INVITE, UDP (J timer)", _server_non_invite, False),
        ("server non-INVITE, TCP (J = 0)", _server_non_invite, True),
        ("client INVITE 180+200, UDP (A, B, M)", _client_invite, False),
        ("client INVITE 180+200, TCP (B, M)", _client_invite, True),
    ):
        best = min(run(n, reliable)[0] for _ in range(3))
        rows.append((f"life cycle: {label}", f"{best / n * 1e6:.2f} us"))
    live = 20_000
    rows.append(
        ("live client INVITE in Calling (UDP)", f"{_bytes_per_live(live, _start_client):.0f} B")
    )
    rows.append(
        ("live server INVITE in Proceeding (UDP)", f"{_bytes_per_live(live, _start_server):.0f} B")
    )
    rows.append(("calibration: one empty Python call", f"{_empty_call_ns():.0f} ns"))
    print(f"Python {sys.version.split()[0]}, N = {n} life cycles (best of 3, CPU time, GC off),")
    print(f"{live} live transactions for memory (tracemalloc; messages excluded)")
    print(f"| {'measure':<58} | {'result':>10} |")
    print(f"|{'-' * 60}|{'-' * 12}|")
    for label, value in rows:
        print(f"| {label:<58} | {value:>10} |")


if __name__ == "__main__":
    main()
