"""A UAC that places one call: INVITE, 1xx/2xx, ACK (its own branch), a pause, BYE.

    python examples/uac_call.py sip:service@127.0.0.1:5060 [--hold SECONDS] [--timeout S]

Exit status 0 when the call was answered (2xx), acknowledged and hung up with a 2xx to the
BYE; 1 when the INVITE got a non-2xx final answer; 2 on a timeout or transport error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from sippet import URI, CSeq, MediaType, Message, Method, NameAddr, RequestLine, SentBy, Via
from sippet.ids import create_branch, create_call_id, create_tag
from sippet.stack import Core, Stack, run
from sippet.transactions import ClientKey
from sippet.transports import UDP

OFFER = (
    "v=0\r\no=uac 1 1 IN IP4 {host}\r\ns=call\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


class Caller(Core):
    """Collects final responses per client transaction; ACKs every 2xx it sees again."""

    def __init__(self) -> None:
        self.finals: dict[ClientKey, asyncio.Future[Message]] = {}
        self.ack: Message | None = None
        self.stack: Stack | None = None

    def expect(self, key: ClientKey) -> asyncio.Future[Message]:
        return self.finals.setdefault(key, asyncio.get_running_loop().create_future())

    async def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        code = response.start_line.status_code  # type: ignore[union-attr]
        print(f"<- {code} {response.start_line.reason_phrase}", flush=True)  # type: ignore[union-attr]
        is_invite = response.headers["cseq"].method == Method.INVITE
        if is_invite and 200 <= code < 300 and self.ack is not None and self.stack is not None:
            # A retransmitted 2xx (the first one was ACKed): RFC 3261 §13.2.2.4, ACK again.
            await self.stack.send(self.ack)
            return
        if client_key is None:
            return  # stray
        future = self.finals.get(client_key)
        if code >= 200 and future is not None and not future.done():
            future.set_result(response)

    def receive_error(self, reason: str, key: object) -> None:
        future = self.finals.get(key)  # type: ignore[call-overload]
        if future is not None and not future.done():
            future.set_exception(RuntimeError(reason))


def in_dialog(invite: Message, answer: Message, method: Method, seq: int, local: SentBy) -> Message:
    """A request within the dialog the 2xx ``answer`` created (RFC 3261 §12.2.1.1)."""
    contact = answer.headers.get("contact")
    target = contact[0].uri if contact else invite.start_line.request_uri  # type: ignore[union-attr]
    headers = {
        "via": [Via((2, 0), "UDP", local, {"branch": create_branch(), "rport": None})],
        "max_forwards": 70,
        "from": invite.headers["from"],
        "to": answer.headers["to"],  # with the callee's tag
        "call_id": invite.headers["call_id"],
        "cseq": CSeq(seq, method),
    }
    if answer.headers.get("record_route"):  # §12.1.2: the UAC reverses the Record-Route
        headers["route"] = list(reversed(answer.headers["record_route"]))
    return Message(RequestLine(method, target), headers)


async def call(target: URI, hold: float, timeout: float) -> int:
    caller = Caller()
    async with Stack(name="uac") as stack:
        caller.stack = stack
        family_host = "::1" if target.host and ":" in target.host else "127.0.0.1"
        transport = await stack.add_transport(UDP(host=family_host, port=0))
        stack.register_core(caller)
        host, port = transport.local_address
        local = SentBy(host, port)
        me = URI("sip", "uac", None, host, port)
        invite = Message(
            RequestLine(Method.INVITE, target),
            {
                "via": [Via((2, 0), "UDP", local, {"branch": create_branch(), "rport": None})],
                "max_forwards": 70,
                "from": NameAddr("", me, {"tag": create_tag()}),
                "to": NameAddr("", target, {}),
                "call_id": create_call_id(),
                "cseq": CSeq(1, Method.INVITE),
                "contact": [NameAddr("", me, {})],
                "content_type": MediaType(("application", "sdp"), {}),
            },
            OFFER.format(host=host),
        )
        print(f"-> INVITE {target}", flush=True)
        key = await stack.send(invite)
        assert key is not None
        try:
            answer = await asyncio.wait_for(caller.expect(key), timeout)
        except (TimeoutError, RuntimeError) as exc:
            print(f"INVITE failed: {str(exc) or 'timeout'}", flush=True)
            return 2
        if not 200 <= answer.start_line.status_code < 300:  # type: ignore[union-attr]
            return 1  # the transaction has sent the ACK of the non-2xx itself (§17.1.1.3)
        # §13.2.2.4: the ACK of a 2xx is the UAC's own request: new branch, same CSeq number.
        caller.ack = in_dialog(invite, answer, Method.ACK, 1, local)
        print("-> ACK", flush=True)
        await stack.send(caller.ack)
        await asyncio.sleep(hold)
        bye = in_dialog(invite, answer, Method.BYE, 2, local)
        print("-> BYE", flush=True)
        bye_key = await stack.send(bye)
        assert bye_key is not None
        try:
            done = await asyncio.wait_for(caller.expect(bye_key), timeout)
        except (TimeoutError, RuntimeError) as exc:
            print(f"BYE failed: {str(exc) or 'timeout'}", flush=True)
            return 2
        return 0 if 200 <= done.start_line.status_code < 300 else 1  # type: ignore[union-attr]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="the callee, e.g. sip:service@127.0.0.1:5060")
    parser.add_argument("--hold", type=float, default=1.0, help="seconds between ACK and BYE")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait per answer")
    args = parser.parse_args()
    return run(call(URI.parse(args.target), args.hold, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
