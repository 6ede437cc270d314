"""Transaction layer cost: microseconds per life cycle and bytes per live transaction.

Not a test. Run: ``python bench/transactions.py [N]``. Messages are built outside the
timed sections (the stack parses them anyway); what is measured is the layer: create the
transaction, drive it to completion through ``TransactionLayer`` on a fake clock, remove it
(the timer that ends it included: every transaction of a run is live until the final
``handle_timers`` sweeps them, as 32 s timers keep them in a busy stack).

Two ways to give the messages:

- prebuilt: all N life cycles' messages are built first, then fed in one timed loop. Each
  message is cold in the CPU caches when the layer reads it (N * ~3 KB of messages).
- fresh: the messages of 64 life cycles are built, then those 64 are fed (timed), and so
  on: the layer reads each message soon after it was made, as it reads one the stack has
  just parsed. The layer's own state (live transactions, timer queue) grows the same way.
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


FRESH_BATCH = 64


def _server_non_invite_fresh(n: int, reliable: bool) -> tuple[float, TransactionLayer]:
    layer = TransactionLayer()
    gc.collect()
    gc.disable()
    elapsed = 0.0
    for first in range(0, n, FRESH_BATCH):
        work = [
            (r, _response(r, 200))
            for r in (
                _request(Method.OPTIONS, f"z9hG4bKs{i}")
                for i in range(first, min(n, first + FRESH_BATCH))
            )
        ]
        start = time.process_time()
        for i, (req, ok) in enumerate(work, first):
            now = i * 1e-5
            layer.receive_request(req, "src", reliable, now)
            layer.send_response(ok, now)
        elapsed += time.process_time() - start
    start = time.process_time()
    layer.handle_timers(1e9)  # Timer J of the unreliable ones
    elapsed += time.process_time() - start
    gc.enable()
    assert len(layer) == 0
    return elapsed, layer


def _client_invite_fresh(n: int, reliable: bool) -> tuple[float, TransactionLayer]:
    layer = TransactionLayer()
    gc.collect()
    gc.disable()
    elapsed = 0.0
    for first in range(0, n, FRESH_BATCH):
        work = []
        for i in range(first, min(n, first + FRESH_BATCH)):
            req = _request(Method.INVITE, f"z9hG4bKc{i}")
            work.append((req, _response(req, 180), _response(req, 200)))
        start = time.process_time()
        for i, (req, ringing, ok) in enumerate(work, first):
            now = i * 1e-5
            layer.send_request(req, "dest", reliable, now)
            layer.receive_response(ringing, now)
            layer.receive_response(ok, now)
        elapsed += time.process_time() - start
    start = time.process_time()
    layer.handle_timers(1e9)  # Timer M
    elapsed += time.process_time() - start
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
    cases = [
        ("server non-INVITE, UDP (J timer)", _server_non_invite, _server_non_invite_fresh, False),
        ("server non-INVITE, TCP (J = 0)", _server_non_invite, _server_non_invite_fresh, True),
        ("client INVITE 180+200, UDP (A, B, M)", _client_invite, _client_invite_fresh, False),
        ("client INVITE 180+200, TCP (B, M)", _client_invite, _client_invite_fresh, True),
    ]
    for mode in ("prebuilt", "fresh"):
        for label, prebuilt, fresh, reliable in cases:
            run = prebuilt if mode == "prebuilt" else fresh
            best = min(run(n, reliable)[0] for _ in range(3))
            rows.append((f"life cycle, {mode}: {label}", f"{best / n * 1e6:.2f} us"))
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
    print(f"| {'measure':<68} | {'result':>10} |")
    print(f"|{'-' * 70}|{'-' * 12}|")
    for label, value in rows:
        print(f"| {label:<68} | {value:>10} |")


if __name__ == "__main__":
    main()
