"""A UAS that answers calls with a dialog: the §8.2 checks, then the dialog layer.

    python examples/dialog_uas.py [HOST:PORT]      (default 127.0.0.1:5060)

Answers every INVITE with 200 OK (no media), keeps the dialog (the 2xx is retransmitted
until the ACK comes, RFC 3261 §13.3.1.4), and answers the BYE that ends it; prints one line
per dialog event. Prints "listening on udp:HOST:PORT" when ready; stops on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from sippet import Message, Method, NameAddr, SentBy, Via, check_request, response_to
from sippet.dialogs import DeliverRequest, DialogLayer, SendRequest, SendResponse, StateChanged
from sippet.endpoint import UASPolicy
from sippet.ids import create_tag
from sippet.stack import Core, Stack, run
from sippet.transactions import ServerKey
from sippet.transports import UDP, format_address
from sippet.uri import URI

POLICY = UASPolicy()  # INVITE, ACK, CANCEL, BYE, OPTIONS; sip: and sips:; SDP bodies


class DialogUAS(Core):
    def __init__(self, stack: Stack, host: str, port: int) -> None:
        self.stack = stack
        self.loop = asyncio.get_running_loop()
        self.contact = NameAddr("", URI("sip", host=host, port=port), {})
        # The dialog layer is sans-I/O: it takes the clock, returns actions, and tells
        # when it next needs the clock (one timer, re-armed after every input).
        self.dialogs = DialogLayer(Via((2, 0), "UDP", SentBy(host, port), {"rport": None}))
        self.timer: asyncio.TimerHandle | None = None
        self.sending: set[asyncio.Future[object]] = set()  # keep the tasks alive

    def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        if server_key is not None:  # an ACK of our 2xx has no transaction: no checks
            refusal = check_request(request, POLICY)  # 405, 416, 420, 415, 406...
            if refusal is not None:
                self.stack.send_response(refusal)
                return
        self.carry_out(self.dialogs.receive_request(request, self.loop.time()))

    def carry_out(self, actions: list[object]) -> None:
        for action in actions:
            match action:
                case SendResponse(response, _):  # ours, a 2xx retransmission, 481, 487...
                    self.stack.send_response(response)
                case SendRequest(request, _):  # a BYE when the ACK never came
                    task = asyncio.ensure_future(self.stack.send(request))
                    self.sending.add(task)
                    task.add_done_callback(self.sending.discard)
                case DeliverRequest(request, dialog_id):
                    self.answer(request, dialog_id is None)
                case StateChanged(dialog_id, state, _):
                    print(f"dialog {dialog_id.call_id}: {state.name.lower()}", flush=True)
        deadline = self.dialogs.next_deadline()
        if self.timer is not None:
            self.timer.cancel()
        self.timer = None if deadline is None else self.loop.call_at(deadline, self.on_timer)

    def answer(self, request: Message, new: bool) -> None:
        method = request.start_line.method  # type: ignore[union-attr]
        if method == Method.ACK or method == Method.CANCEL:
            return  # the ACK of our 2xx; a CANCEL the layer already answered
        if method == Method.INVITE and new:
            ok = response_to(request, 200, to_tag=create_tag())
            ok.headers["contact"] = [self.contact]  # §12.1.1: the remote target
        else:
            ok = response_to(request, 200)  # BYE, re-INVITE, OPTIONS...
        self.carry_out(self.dialogs.send_response(ok, self.loop.time()))

    def on_timer(self) -> None:
        self.timer = None
        self.carry_out(self.dialogs.handle_timers(self.loop.time()))


async def main(host: str, port: int) -> int:
    stop = asyncio.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(number, stop.set)
    async with Stack(name="dialog-uas") as stack:
        transport = await stack.add_transport(UDP(host=host, port=port))
        stack.register_core(DialogUAS(stack, *transport.local_address))
        print("listening on", format_address("udp", *transport.local_address), flush=True)
        await stop.wait()
    return 0


if __name__ == "__main__":
    where = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:5060"
    host, _, port = where.rpartition(":")
    sys.exit(run(main(host.strip("[]"), int(port))))
