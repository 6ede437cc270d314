"""Dialog layer cost: calls set up and torn down per second, and bytes per confirmed dialog.

Not a test. Run: ``python bench/dialogs.py [--calls N] [--live N] [--time-limit S]``.

- Set-up and tear-down (``--calls``, default 20,000): INVITE, 200, ACK, BYE through the
  dialog layer alone on a fake clock, UAS side and UAC side measured apart. The messages
  are parsed (as the stack would deliver them) before the timed loop; what is timed is the
  layer: creating the dialog, confirming it, the ACK (received by the UAS, built by the
  UAC), the BYE (received by the UAS, built by the UAC) and forgetting the dialog.
- Memory (``--live``, default 100,000): that many confirmed dialogs kept live at once,
  measured with ``tracemalloc`` after every message the test made has been dropped, so
  what remains is what the layer keeps (the dialog and the parsed header values it
  references: URIs, tags, Call-ID, route set). UAS after the ACK; UAC once the INVITEs are
  complete (64*T1 after their 2xx, when their ACKs are let go) and also while they are not.

Every loop is bounded by its count and by ``--time-limit`` seconds (each its own).
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable

from sippet import Message, SentBy, Via
from sippet.dialogs import DialogLayer, DialogSettings, SendAck

_UAS_VIA = Via((2, 0), "UDP", SentBy("192.0.2.4", 5060), {})
_UAC_VIA = Via((2, 0), "UDP", SentBy("192.0.2.1", 5060), {"rport": None})

_INVITE = (
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{i}a;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=a{i}\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "Call-ID: {i}c8e2b9d4f1a7@192.0.2.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:alice@192.0.2.1:5060>\r\n"
    "Record-Route: <sip:p1.example.com;lr>\r\n"
    "Content-Length: 0\r\n\r\n"
)
_IN_DIALOG = (
    "{method} sip:alice@192.0.2.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{i}{method};rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=a{i}\r\n"
    "To: Bob <sip:bob@biloxi.example.com>;tag=b{i}\r\n"
    "Call-ID: {i}c8e2b9d4f1a7@192.0.2.1\r\n"
    "CSeq: {seq} {method}\r\n"
    "Route: <sip:p1.example.com;lr>\r\n"
    "Content-Length: 0\r\n\r\n"
)


def _invite(i: int) -> Message:
    return Message.parse(_INVITE.format(i=i))


# The UAS's one Contact, shared by all its answers as an application's would be.
_BOB_CONTACT = Message.parse(
    "SIP/2.0 200 OK\r\nContact: <sip:bob@192.0.2.4:5060>\r\nContent-Length: 0\r\n\r\n"
).headers["contact"][0]


def _ok(invite: Message, i: int) -> Message:
    ok = invite.to_response(200, to_tag=f"b{i}")
    ok.headers["contact"] = [_BOB_CONTACT]
    return ok


def _parsed_ok(invite: Message, i: int) -> Message:
    """The 200 as the UAC receives it: parsed from the wire."""
    return Message.parse(_ok(invite, i).to_bytes())


def _uas_cycles(n: int, deadline: float) -> tuple[int, float]:
    layer = DialogLayer(_UAS_VIA)
    messages = []
    for i in range(n):
        invite = _invite(i)
        messages.append(
            (
                invite,
                _ok(invite, i),
                Message.parse(_IN_DIALOG.format(i=i, method="ACK", seq=1)),
                Message.parse(_IN_DIALOG.format(i=i, method="BYE", seq=2)),
            )
        )
    done = 0
    start = time.perf_counter()
    for invite, ok, ack, bye in messages:
        now = done * 0.001
        layer.receive_request(invite, now)
        layer.send_response(ok, now)
        layer.receive_request(ack, now)
        layer.receive_request(bye, now)
        done += 1
        if not done % 1024 and time.perf_counter() > deadline:
            break
    elapsed = time.perf_counter() - start
    assert len(layer) == 0
    return done, elapsed


def _uac_cycles(n: int, deadline: float) -> tuple[int, float]:
    layer = DialogLayer(_UAC_VIA)
    messages = []
    for i in range(n):
        invite = _invite(i)
        messages.append((invite, _parsed_ok(invite, i)))
    done = 0
    start = time.perf_counter()
    for invite, ok in messages:
        now = done * 0.001
        layer.send_invite(invite, now)
        actions = layer.receive_response(ok, now)
        assert type(actions[-1]) is SendAck
        dialog_id = actions[0].dialog_id  # type: ignore[union-attr]
        layer.create_request(dialog_id, "BYE", now)
        done += 1
        if not done % 1024 and time.perf_counter() > deadline:
            break
    layer.handle_timers(done * 0.001 + 64 * layer.settings.t1)
    elapsed = time.perf_counter() - start
    assert len(layer) == 0 and layer.pending_invites == 0
    return done, elapsed


def _measure(build: Callable[[], DialogLayer]) -> tuple[int, int]:
    """(live dialogs, bytes they hold) for the layer ``build`` fills."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    layer = build()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return len(layer), after - before


def _uas_live(n: int, deadline: float) -> DialogLayer:
    layer = DialogLayer(_UAS_VIA, DialogSettings(max_dialogs=max(n, 1)))
    for i in range(n):
        invite = _invite(i)
        layer.receive_request(invite, 0.0)
        layer.send_response(_ok(invite, i), 0.0)
        layer.receive_request(Message.parse(_IN_DIALOG.format(i=i, method="ACK", seq=1)), 0.0)
        if not i % 1024 and time.perf_counter() > deadline:
            break
    return layer


def _uac_live(n: int, deadline: float, complete: bool) -> DialogLayer:
    layer = DialogLayer(_UAC_VIA, DialogSettings(max_dialogs=max(n, 1)))
    for i in range(n):
        invite = _invite(i)
        layer.send_invite(invite, 0.0)
        layer.receive_response(_parsed_ok(invite, i), 0.0)
        if not i % 1024 and time.perf_counter() > deadline:
            break
    if complete:
        layer.handle_timers(64 * layer.settings.t1)
    return layer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--live", type=int, default=100_000)
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()

    def deadline() -> float:
        return time.perf_counter() + args.time_limit

    print("| side | calls | seconds | calls/s | µs per call |")
    print("|---|---:|---:|---:|---:|")
    for side, run in (("UAS", _uas_cycles), ("UAC", _uac_cycles)):
        done, elapsed = run(args.calls, deadline())
        rate = done / elapsed if elapsed else 0.0
        print(f"| {side} | {done} | {elapsed:.2f} | {rate:,.0f} | {1e6 / rate:.1f} |")

    print()
    print("| live confirmed dialogs | kept | bytes per dialog |")
    print("|---|---:|---:|")
    cases: list[tuple[str, Callable[[], DialogLayer]]] = [
        ("UAS, ACK received", lambda: _uas_live(args.live, deadline())),
        ("UAC, INVITEs complete (64*T1)", lambda: _uac_live(args.live, deadline(), True)),
        ("UAC, ACKs still held", lambda: _uac_live(args.live, deadline(), False)),
    ]
    for name, build in cases:
        live, size = _measure(build)
        print(f"| {name} | {live} | {size / max(live, 1):,.0f} |")


if __name__ == "__main__":
    main()
