"""The user agent client behind ``sippet call``: one call (RFC 3261 §13, §15).

INVITE with an SDP offer (built by ``sippet.endpoint.uac.build_request``), then each final
response goes to ``sippet.endpoint.uac.FollowUp``: a 3xx is followed to its Contacts
(§8.1.3.4), a 401/407 answered with digest credentials (``sippet.auth.DigestClient``,
§22.2), until a 2xx or a final failure. ``sippet.dialogs.DialogLayer`` keeps the dialog:
it ACKs the 2xx (and each retransmission of it, §13.2.2.4), ACKs and BYEs a 2xx from a
second fork, and builds the BYE that ends the call after ``duration`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, TextIO

from sippet import __version__
from sippet.apps.sdp import SdpSession
from sippet.auth import AuthError, DigestClient, UserCredentials
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
)
from sippet.endpoint.uac import FollowUp, LocalAddress, build_request
from sippet.errors import SippetError
from sippet.headers import NameAddr, SentBy, Via
from sippet.message import Message, StatusLine
from sippet.method import Method
from sippet.stack import Core, Stack
from sippet.transactions import ClientKey, ServerKey
from sippet.uri import URI

logger = logging.getLogger("sippet.call")

EXIT_OK = 0
EXIT_FAILED = 1
"""The call was refused (a final non-2xx with nothing left to try) or its BYE was."""
EXIT_ERROR = 2
"""No answer, or the network failed."""

ALLOW = (Method.INVITE, Method.ACK, Method.BYE, Method.CANCEL, Method.OPTIONS)


@dataclass(frozen=True)
class CallSettings:
    """``duration``: seconds between the ACK and the BYE; ``timeout``: how long to wait
    for the final response to the INVITE (beyond the transaction's own Timer B) and to
    the BYE; ``user``/``password``: digest credentials for any realm."""

    duration: float = 0.0
    timeout: float = 32.0
    user: str | None = None
    password: str = ""


class _Authenticator:
    """``DigestClient`` as ``FollowUp`` wants it: ``None`` when it cannot answer."""

    def __init__(self, client: DigestClient) -> None:
        self.client = client

    def authorize(self, request: Message, challenge: Message) -> Message | None:
        try:
            return self.client.authorize(request, challenge)
        except AuthError as exc:
            logger.info("cannot answer the challenge: %s", exc)
            return None


class CallCore(Core):
    """Feeds the dialog layer what the stack delivers and carries out its actions; the
    responses for the call come out on ``responses``."""

    def __init__(self, stack: Stack, layer: DialogLayer) -> None:
        self.stack = stack
        self.layer = layer
        self.loop = asyncio.get_running_loop()
        self.responses: asyncio.Queue[Message] = asyncio.Queue()
        self.errors: asyncio.Queue[str] = asyncio.Queue()
        self.confirmed: list[DialogId] = []
        self.forks_ended = 0
        self.requests: dict[ClientKey, Message] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

    def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        self.carry_out(self.layer.receive_response(response, self.loop.time()))

    def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        if server_key is None:
            return
        now = self.loop.time()
        for action in self.layer.receive_request(request, now):
            if isinstance(action, SendResponse):
                self._send_response(action.response)
            elif isinstance(action, DeliverRequest) and _method(action.request) in _ANSWERED:
                # A BYE or OPTIONS from the peer: 200 (a BYE ended the dialog already).
                answer = action.request.to_response(200)
                self.carry_out(self.layer.send_response(answer, now))
            elif isinstance(action, StateChanged):
                self._state(action)
        self._rearm()

    def receive_error(self, reason: str, key: ClientKey | ServerKey) -> None:
        request = self.requests.pop(key, None) if isinstance(key, ClientKey) else None
        if request is not None:
            self.carry_out(self.layer.request_failed(request, self.loop.time()))
            self.errors.put_nowait(reason)

    def carry_out(self, actions: list[Action]) -> None:
        for action in actions:
            match action:
                case SendAck(ack, _):
                    self.spawn(self.send(ack))
                case SendRequest(request, _):
                    self.forks_ended += 1
                    self.spawn(self.send(request))
                case SendResponse(response, _):
                    self._send_response(response)
                case DeliverResponse(response, _):
                    self.responses.put_nowait(response)
                case StateChanged():
                    self._state(action)
        self._rearm()

    def _state(self, change: StateChanged) -> None:
        if change.state is DialogState.CONFIRMED:
            self.confirmed.append(change.dialog_id)
        logger.info("dialog %s: %s %s", change.dialog_id, change.state, change.reason or "")

    async def send(self, request: Message) -> ClientKey | None:
        key = await self.stack.send(request)
        if key is not None:
            self.requests[key] = request
        return key

    def _send_response(self, response: Message) -> None:
        try:
            self.stack.send_response(response)
        except SippetError as exc:
            logger.info("cannot send %s: %s", response.start_line, exc)

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("cannot send: %s", task.exception())

    def _rearm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.layer.next_deadline()
        if deadline is not None:
            self._timer = self.loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self.carry_out(self.layer.handle_timers(self.loop.time()))

    async def settle(self) -> None:
        """Let the ACKs and BYEs already handed to tasks leave."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


async def place_call(
    stack: Stack,
    target: URI,
    local: LocalAddress,
    settings: CallSettings,
    out: TextIO,
) -> int:
    """Place one call from ``local`` (the transport ``stack`` sends from) to ``target``;
    print each response; return ``EXIT_OK`` when it was set up and ended cleanly."""
    loop = asyncio.get_running_loop()
    via = Via((2, 0), local.protocol, SentBy(local.host, local.port), {"rport": None})
    timers = stack.timers
    layer = DialogLayer(via, DialogSettings(t1=timers.t1, t2=timers.t2))
    core = CallCore(stack, layer)
    stack.register_core(core)
    session = SdpSession(local.host)
    contact_uri = URI("sip", "sippet", None, local.host, local.port, _transport_param(local))
    invite = build_request(
        Method.INVITE,
        target,
        from_=NameAddr("", URI("sip", settings.user or "sippet", None, local.host), {}),
        local=local,
        contact=contact_uri,
        allow=ALLOW,
        body=session.offer(),
        content_type="application/sdp",
    )
    invite.headers["user_agent"] = f"sippet/{__version__}"
    authenticator = None
    if settings.user is not None:
        client = DigestClient(default=UserCredentials(settings.user, settings.password))
        authenticator = _Authenticator(client)
    follow = FollowUp(invite, authenticator=authenticator)
    try:
        request: Message | None = invite
        final: Message | None = None
        while request is not None:
            final = await _invite(core, request, settings.timeout, out)
            if final is None:
                return EXIT_ERROR
            previous = request
            request = follow.on_final(final, loop.time())
            if request is not None and request.start_line != previous.start_line:
                print(f"  -> {request.start_line.request_uri}", file=out)  # type: ignore[union-attr]
        assert final is not None
        if not core.confirmed:
            return EXIT_FAILED
        dialog_id = core.confirmed[0]
        await asyncio.sleep(settings.duration)
        if layer.dialog(dialog_id) is None:
            print("the call was ended by the peer", file=out)
            return EXIT_OK
        bye = layer.create_request(dialog_id, Method.BYE, loop.time())
        started = loop.time()
        await core.send(bye)
        answer = await _final_for(core, bye, settings.timeout, started, out)
        await core.settle()
        if answer is None:
            return EXIT_ERROR
        code = _status(answer)
        return EXIT_OK if 200 <= code <= 299 else EXIT_FAILED
    finally:
        core.close()


async def _invite(core: CallCore, request: Message, timeout: float, out: TextIO) -> Message | None:
    loop = asyncio.get_running_loop()
    core.layer.send_invite(request, loop.time())
    started = loop.time()
    await core.send(request)
    return await _final_for(core, request, timeout, started, out)


async def _final_for(
    core: CallCore, request: Message, timeout: float, started: float, out: TextIO
) -> Message | None:
    """Print the responses to ``request`` until its final one, which is returned; ``None``
    after a transport error or ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    cseq = request.headers["cseq"]
    deadline = started + timeout
    while True:
        response_wait = asyncio.ensure_future(core.responses.get())
        error_wait = asyncio.ensure_future(core.errors.get())
        done, pending = await asyncio.wait(
            {response_wait, error_wait},
            timeout=max(deadline - loop.time(), 0.0),
            return_when=asyncio.FIRST_COMPLETED,
        )
        for task in pending:
            task.cancel()
        if error_wait in done:
            print(f"error: {error_wait.result()}", file=out, flush=True)
            return None
        if response_wait not in done:
            print(f"timeout: no final response to {cseq.method} within {timeout:g} s", file=out)
            return None
        response = response_wait.result()
        if response.headers.get("cseq") != cseq or _to_tag(response, request) is False:
            continue  # a late answer to an earlier request, or a BYE to another fork
        rtt = (loop.time() - started) * 1000.0
        status = response.start_line
        assert isinstance(status, StatusLine)
        print(
            f"{cseq.method} {status.status_code} {status.reason_phrase} ({rtt:.3f} ms)",
            file=out,
            flush=True,
        )
        if status.status_code >= 200:
            return response


def _transport_param(local: LocalAddress) -> dict[str, str | None]:
    """``;transport=`` for a Contact reached over a stream (RFC 3261 §19.1.1; RFC 7118
    §5.2 names WS and WSS alike ``ws``)."""
    protocol = local.protocol.upper()
    if protocol == "UDP":
        return {}
    return {"transport": "ws" if protocol in ("WS", "WSS") else protocol.lower()}


def _to_tag(response: Message, request: Message) -> bool | None:
    """Whether the response's To tag is the request's (None when the request had none)."""
    wanted = request.headers["to"].params.get("tag")
    if wanted is None:
        return None
    return bool(response.headers["to"].params.get("tag") == wanted)


_ANSWERED = (Method.BYE, Method.OPTIONS)


def _method(request: Message) -> str:
    return str(request.headers["cseq"].method)


def _status(response: Message) -> int:
    status = response.start_line
    assert isinstance(status, StatusLine)
    return status.status_code


__all__ = ["EXIT_ERROR", "EXIT_FAILED", "EXIT_OK", "CallCore", "CallSettings", "place_call"]
