"""A proxy that routes by editing headers: every request goes to one configured next hop.

    python examples/stateless_proxy.py LISTEN_HOST:PORT NEXT_HOST:PORT

Requests: Max-Forwards is decremented (483 at 0), the proxy's Via goes on top, the request is
forwarded to the next hop. Responses: the proxy's Via is popped and the response follows the
next Via (RFC 3261 §16.6, §16.7). The branch is derived from the incoming one, so a CANCEL
gets the branch of the INVITE it cancels (§16.11).
"""

from __future__ import annotations

import asyncio
import hashlib
import signal
import sys

from sippet import Message, SentBy, Target, TransactionError, Via
from sippet.stack import Core, Stack, run
from sippet.transactions import ClientKey, ServerKey
from sippet.transports import UDP, format_address


class Proxy(Core):
    def __init__(self, stack: Stack, me: SentBy, next_hop: Target) -> None:
        self.stack, self.me, self.next_hop = stack, me, next_hop

    async def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        if request.headers.get("max_forwards", 70) <= 0:
            if server_key is not None:  # never answer an ACK
                await self.stack.send(request.to_response(483))
            return
        forwarded = request.copy()  # the server transaction keeps the original
        forwarded.headers["max_forwards"] = request.headers.get("max_forwards", 70) - 1
        top = request.headers["via"][0]
        seed = f"{top.branch}|{top.sent_by.host}|{top.sent_by.port}".encode()
        branch = "z9hG4bK" + hashlib.sha256(seed).hexdigest()[:24]
        forwarded.headers["via"].insert(0, Via((2, 0), "UDP", self.me, {"branch": branch}))
        forwarded.target = self.next_hop
        await self.stack.send(forwarded)  # an ACK goes out without a transaction

    async def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        vias = response.headers["via"]
        if len(vias) < 2 or vias[0].sent_by != self.me:
            return  # §18.1.2: not ours
        if response.start_line.status_code == 100:  # type: ignore[union-attr]
            return  # §16.7: a 100 is hop-by-hop
        vias.pop(0)
        try:
            await self.stack.send(response)  # to the server transaction
        except TransactionError:
            await self.stack.send_stateless(response)  # e.g. a 2xx retransmission


async def main(listen: tuple[str, int], next_hop: tuple[str, int]) -> int:
    stop = asyncio.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(number, stop.set)
    async with Stack(name="proxy") as stack:
        transport = await stack.add_transport(UDP(*listen))
        me = SentBy(*transport.local_address)
        stack.register_core(Proxy(stack, me, Target("UDP", *next_hop)))
        print("listening on", format_address("udp", *transport.local_address), flush=True)
        await stop.wait()
    return 0


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


if __name__ == "__main__":
    sys.exit(run(main(host_port(sys.argv[1]), host_port(sys.argv[2]))))
