"""The dialog layer over the wire: two ``Stack``s on 127.0.0.1 (UDP), Alice's UAC and
Bob's UAS each driving a ``DialogLayer``, set up and tear down a call. Alice loses her
first ACK on purpose, so Bob's layer retransmits its 2xx (§13.3.1.4) and Alice's layer
sends the same ACK again (§13.2.2.4)."""

from __future__ import annotations

import asyncio
from typing import Any

from helpers.aio import async_test
from sippet import URI, CSeq, Message, Method, NameAddr, RequestLine, SentBy, Via
from sippet.dialogs import (
    Action,
    DeliverRequest,
    DeliverResponse,
    DialogId,
    DialogLayer,
    DialogSettings,
    DialogState,
    SendAck,
    SendRequest,
    SendResponse,
    StateChanged,
    TerminationReason,
)
from sippet.errors import TransactionError
from sippet.ids import create_branch, create_call_id, create_tag
from sippet.stack import Core, Stack
from sippet.transactions import ClientKey, ServerKey, TimerSettings
from sippet.transports import UDP

TIMEOUT = 5.0
FAST = TimerSettings(t1=0.05, t2=0.2, t4=0.25, timer_d=0.5)
FAST_DIALOGS = DialogSettings(t1=0.05, t2=0.2)


class DialogCore(Core):
    """A user agent: the stack's deliveries go through its ``DialogLayer``; the actions
    come back to the stack; one timer follows ``next_deadline()``."""

    def __init__(self, stack: Stack, layer: DialogLayer, contact: NameAddr) -> None:
        self.stack = stack
        self.layer = layer
        self.contact = contact
        self.log: list[Action] = []
        self.events: asyncio.Queue[Action] = asyncio.Queue()
        self.acks_to_lose = 0
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        self.carry_out(self.layer.receive_request(request, self.now()))

    def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        self.carry_out(self.layer.receive_response(response, self.now()))

    def carry_out(self, actions: list[Action]) -> None:
        for action in actions:
            self.log.append(action)
            self.events.put_nowait(action)
            match action:
                case SendResponse(response, _):
                    self.send_response(response)
                case SendAck(ack, _):
                    if self.acks_to_lose:
                        self.acks_to_lose -= 1  # lost on the way
                    else:
                        self.spawn(self.stack.send(ack))
                case SendRequest(request, _):
                    self.spawn(self.stack.send(request))
                case DeliverRequest(request, None) if request.start_line.method == Method.INVITE:
                    self.answer(request)
                case DeliverRequest(request, _) if request.start_line.method == Method.BYE:
                    self.carry_out(self.layer.send_response(request.to_response(200), self.now()))
        self.rearm()

    def send_response(self, response: Message) -> None:
        try:
            self.stack.send_response(response)
        except TransactionError:
            # RFC 6026: a 2xx retransmitted after its transaction ended goes statelessly.
            self.spawn(self.stack.send_stateless(response))

    def answer(self, invite: Message) -> None:
        tag = create_tag()
        for status in (180, 200):
            response = invite.to_response(status, to_tag=tag)
            response.headers["contact"] = [self.contact]
            self.carry_out(self.layer.send_response(response, self.now()))

    def rearm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.layer.next_deadline()
        if deadline is not None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_at(deadline, self.fire)

    def fire(self) -> None:
        self._timer = None
        self.carry_out(self.layer.handle_timers(self.now()))

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


async def user_agent(name: str, user: str) -> tuple[Stack, DialogCore, tuple[str, int]]:
    stack = Stack(name=name, timers=FAST)
    await stack.start()
    transport = await stack.add_transport(UDP("127.0.0.1", 0))
    host, port = transport.local_address[:2]
    via = Via((2, 0), "UDP", SentBy(host, port), {"rport": None})
    contact = NameAddr("", URI("sip", user, host=host, port=port), {})
    core = DialogCore(stack, DialogLayer(via, FAST_DIALOGS), contact)
    stack.register_core(core)
    return stack, core, (host, port)


async def next_of(core: DialogCore, kind: type, **fields: Any) -> Any:
    """The next action of class ``kind`` whose fields match, skipping the others."""
    while True:
        action = await asyncio.wait_for(core.events.get(), TIMEOUT)
        if type(action) is kind and all(getattr(action, k) == v for k, v in fields.items()):
            return action


@async_test
async def test_call_over_udp_with_a_lost_ack() -> None:
    alice_stack, alice, (alice_host, alice_port) = await user_agent("alice", "alice")
    bob_stack, bob, (bob_host, bob_port) = await user_agent("bob", "bob")
    try:
        invite = Message(
            RequestLine(Method.INVITE, URI("sip", "bob", host=bob_host, port=bob_port)),
            {
                "via": [
                    Via(
                        (2, 0),
                        "UDP",
                        SentBy(alice_host, alice_port),
                        {"branch": create_branch(), "rport": None},
                    )
                ],
                "max_forwards": 70,
                "from": NameAddr("", URI("sip", "alice", host="atlanta.example"), {"tag": "a1"}),
                "to": NameAddr("", URI("sip", "bob", host="biloxi.example"), {}),
                "call_id": create_call_id(),
                "cseq": CSeq(1, Method.INVITE),
                "contact": [alice.contact],
            },
        )
        alice.acks_to_lose = 1
        alice.layer.send_invite(invite, alice.now())
        await alice_stack.send(invite)

        confirmed = await next_of(alice, StateChanged, state=DialogState.CONFIRMED)
        dialog_id = confirmed.dialog_id
        first_ack = (await next_of(alice, SendAck)).ack
        # Bob's 2xx comes again (the ACK was lost); Alice sends the same ACK again.
        second_ack = (await next_of(alice, SendAck)).ack
        assert second_ack is first_ack
        bobs_id = DialogId(dialog_id.call_id, dialog_id.remote_tag, dialog_id.local_tag)
        arrived = await next_of(bob, DeliverRequest, dialog_id=bobs_id)
        assert arrived.request.start_line.method == Method.ACK
        assert arrived.request.headers["via"][0].branch == first_ack.headers["via"][0].branch
        bob_oks = [
            a
            for a in bob.log
            if isinstance(a, SendResponse) and a.response.start_line.status_code == 200
        ]
        assert len(bob_oks) >= 2  # the 2xx and at least one retransmission
        assert bob.layer.next_deadline() is None  # the ACK stopped them

        bye = alice.layer.create_request(dialog_id, Method.BYE, alice.now())
        assert len(alice.layer) == 0
        await alice_stack.send(bye)
        ended = await next_of(bob, StateChanged, state=DialogState.TERMINATED)
        assert ended.reason is TerminationReason.BYE
        ok = await next_of(alice, DeliverResponse)
        assert ok.response.start_line.status_code == 200
        assert ok.response.headers["cseq"] == CSeq(2, Method.BYE)
        assert len(bob.layer) == 0 and bob.layer.pending_invites == 0
    finally:
        alice.close()
        bob.close()
        await alice_stack.close()
        await bob_stack.close()
