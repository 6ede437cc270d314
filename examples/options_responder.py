"""A minimal OPTIONS responder: answers every OPTIONS with 200 OK, anything else with 501.

    python examples/options_responder.py [HOST:PORT]      (default 127.0.0.1:5060)

Prints "listening on udp:HOST:PORT" when ready; stops cleanly on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from sippet import Message, Method
from sippet.stack import Core, Stack, run
from sippet.transactions import ServerKey
from sippet.transports import UDP, format_address


class OptionsResponder(Core):
    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        if server_key is None:  # an ACK without a transaction: nothing to answer
            return
        method = request.start_line.method  # type: ignore[union-attr]
        response = request.to_response(200 if method == Method.OPTIONS else 501)
        response.headers["allow"] = [Method.OPTIONS]
        self.stack.send_response(response)  # plain callback: no await needed


async def main(host: str, port: int) -> int:
    stop = asyncio.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(number, stop.set)
    async with Stack(name="options-responder") as stack:
        transport = await stack.add_transport(UDP(host=host, port=port))
        stack.register_core(OptionsResponder(stack))
        print("listening on", format_address("udp", *transport.local_address), flush=True)
        await stop.wait()
    return 0


if __name__ == "__main__":
    where = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:5060"
    host, _, port = where.rpartition(":")
    sys.exit(run(main(host.strip("[]"), int(port))))
