"""A UAC that places one call on the library's blocks: ``build_request`` (RFC 3261 §8.1.1)
makes the INVITE, a ``DialogLayer`` (§12 to §15) turns the 2xx into a dialog, ACKs it
(again for each retransmitted 2xx, §13.2.2.4) and builds the BYE.

    python examples/uac_call.py sip:service@127.0.0.1:5060 [--hold SECONDS] [--timeout S]

Exit status 0 when the call was answered (2xx), acknowledged and hung up with a 2xx to the
BYE; 1 when the INVITE got a non-2xx final answer; 2 on a timeout or transport error.
(``sippet call`` is the full tool: redirects, digest, forks.)
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from sippet import URI, DialogLayer, Message, Method, SentBy, Via
from sippet.dialogs import Action, DeliverResponse, SendAck, SendRequest, StateChanged
from sippet.endpoint.uac import LocalAddress, build_request
from sippet.stack import Core, Stack, run
from sippet.transactions import ClientKey
from sippet.transports import UDP

OFFER = (
    "v=0\r\no=uac 1 1 IN IP4 {host}\r\ns=call\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


class Caller(Core):
    """Hands every response to the dialog layer and carries out what it asks; the final
    responses meant for us come out of ``finals``."""

    def __init__(self, stack: Stack, layer: DialogLayer) -> None:
        self.stack = stack
        self.layer = layer
        self.finals: asyncio.Queue[Message | str] = asyncio.Queue()

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        await self.carry_out(self.layer.receive_response(response, self.now()))

    def receive_error(self, reason: str, key: object) -> None:
        self.finals.put_nowait(reason)

    async def carry_out(self, actions: list[Action]) -> None:
        for action in actions:
            match action:
                case DeliverResponse(response, _):
                    code = response.start_line.status_code  # type: ignore[union-attr]
                    print(f"<- {code} {response.start_line.reason_phrase}", flush=True)  # type: ignore[union-attr]
                    if code >= 200:
                        self.finals.put_nowait(response)
                case SendAck(ack, _):
                    print("-> ACK", flush=True)
                    await self.stack.send(ack)
                case SendRequest(bye, _):  # a 2xx from a second fork: ACKed, then ended
                    await self.stack.send(bye)
                case StateChanged():
                    pass


async def call(target: URI, hold: float, timeout: float) -> int:
    async with Stack(name="uac") as stack:
        family_host = "::1" if target.host and ":" in target.host else "127.0.0.1"
        transport = await stack.add_transport(UDP(host=family_host, port=0))
        host, port = transport.local_address
        layer = DialogLayer(Via((2, 0), "UDP", SentBy(host, port), {"rport": None}))
        caller = Caller(stack, layer)
        stack.register_core(caller)
        me = URI("sip", "uac", None, host, port)
        invite = build_request(
            Method.INVITE,
            target,
            from_=me,
            local=LocalAddress("UDP", host, port),
            contact=me,
            body=OFFER.format(host=host).encode(),
            content_type="application/sdp",
        )
        print(f"-> INVITE {target}", flush=True)
        layer.send_invite(invite, caller.now())  # the layer ACKs the 2xx itself
        await stack.send(invite)
        answer = await _final(caller, timeout)
        if isinstance(answer, str):
            print(f"INVITE failed: {answer}", flush=True)
            return 2
        if not 200 <= answer.start_line.status_code < 300:  # type: ignore[union-attr]
            return 1  # the transaction has sent the ACK of the non-2xx itself (§17.1.1.3)
        await asyncio.sleep(hold)
        dialog = next(iter(layer))
        bye = layer.create_request(dialog.id, Method.BYE, caller.now())
        print("-> BYE", flush=True)
        await stack.send(bye)
        done = await _final(caller, timeout)
        if isinstance(done, str):
            print(f"BYE failed: {done}", flush=True)
            return 2
        return 0 if 200 <= done.start_line.status_code < 300 else 1  # type: ignore[union-attr]


async def _final(caller: Caller, timeout: float) -> Message | str:
    try:
        return await asyncio.wait_for(caller.finals.get(), timeout)
    except TimeoutError:
        return "timeout"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="the callee, e.g. sip:service@127.0.0.1:5060")
    parser.add_argument("--hold", type=float, default=1.0, help="seconds between ACK and BYE")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait per answer")
    args = parser.parse_args()
    return run(call(URI.parse(args.target), args.hold, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
