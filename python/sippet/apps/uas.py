"""The user agent server behind ``sippet uas`` (RFC 3261 §8.2, §12 to §15), built on the
library's blocks: ``sippet.endpoint.uas.check_request`` refuses what an endpoint must
refuse, ``sippet.auth.DigestServer`` challenges, ``sippet.dialogs.DialogLayer`` keeps the
dialogs (2xx retransmission until the ACK, BYE when none comes, CANCEL and 487, 481, 491),
``sippet.responses`` builds every response.

- OPTIONS: 200 with Allow and Accept (§11.2).
- INVITE: a 180 Ringing (none with ``ring=0``), then after ``ring`` seconds the final
  response: 200 with an SDP answer (RFC 3264), or ``answer`` with the header fields that
  code requires (a challenge for 401/407, Contact for 3xx, Allow for 405...).
- re-INVITE: 200 with a new answer at once (same ``o=`` session id, version + 1).
- CANCEL: 200 and 487 while ringing; 200 alone once answered (§9.2); 481 for nothing.
- BYE: 200 for a dialog, 481 otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Sequence
from typing import Any

from sippet import __version__
from sippet.apps.addresses import local_address_towards
from sippet.apps.report import TransactionReport
from sippet.apps.sdp import SdpSession
from sippet.auth import DEFAULT_REALM, Algorithm, DigestServer, Users
from sippet.auth.algorithms import DEFAULT_SERVER_ALGORITHMS
from sippet.dialogs import (
    Action,
    DeliverRequest,
    DialogId,
    DialogLayer,
    DialogSettings,
    DialogState,
    SendAck,
    SendRequest,
    SendResponse,
    StateChanged,
)
from sippet.endpoint.uas import UASPolicy, check_request
from sippet.errors import SippetError, TransactionError
from sippet.headers import MediaType, NameAddr, SentBy, Via
from sippet.ids import create_tag
from sippet.message import Message, RequestLine, StatusLine
from sippet.method import Method
from sippet.resolver import literal_address
from sippet.responses import response_to
from sippet.stack import Core, Stack
from sippet.transactions import ClientKey, ServerKey, TimerSettings
from sippet.transports import Transport
from sippet.uri import URI

logger = logging.getLogger("sippet.uas")

POLICY = UASPolicy(methods=(Method.INVITE, Method.ACK, Method.BYE, Method.CANCEL, Method.OPTIONS))
"""The methods in Allow's order; sip: and sips:; no extension; SDP bodies."""

SDP = MediaType(("application", "sdp"), {})
SERVER = f"sippet/{__version__}"
OPTIONS_HEADERS = {"allow": list(POLICY.methods), "accept": [SDP], "server": SERVER}
"""What the 200 to OPTIONS adds (§11.2); no Supported: there is no extension to list."""
MIN_EXPIRES = 3600
"""The Min-Expires of a 423 sent with ``--answer 423`` (RFC 3261 §20.23)."""
EXTENSION_REQUIRED = "100rel"
"""The option tag a 421 sent with ``--answer 421`` says it requires (§21.4.15)."""


class _Call:
    """An INVITE between its arrival and its final response."""

    __slots__ = ("arrived", "key", "request", "tag", "timer")

    def __init__(self, request: Message, key: ServerKey, tag: str, arrived: float) -> None:
        self.request = request
        self.key = key
        self.tag = tag
        self.arrived = arrived
        self.timer: asyncio.TimerHandle | None = None


class UASCore(Core):
    """The behaviour the module docstring describes, for the ``transports`` of ``stack``.

    ``ring``: seconds between the 180 and the final response; ``None`` sends the 180 and
    answers at once; 0 sends no 180. ``users``: challenge INVITEs outside a dialog with
    digest (realm ``realm``, ``algorithms`` offered in order). ``redirect``: the Contact
    of a 3xx ``answer``.
    """

    def __init__(
        self,
        stack: Stack,
        transports: Transport | Sequence[Transport],
        *,
        answer: int = 200,
        ring: float | None = None,
        timers: TimerSettings | None = None,
        users: Users | None = None,
        realm: str = DEFAULT_REALM,
        algorithms: Sequence[Algorithm] = DEFAULT_SERVER_ALGORITHMS,
        redirect: Sequence[URI] = (),
        report: TransactionReport | None = None,
    ) -> None:
        if 300 <= answer <= 399 and not redirect:
            raise ValueError("a 3xx answer needs a Contact to redirect to")
        self.stack = stack
        self.transports = [transports] if isinstance(transports, Transport) else list(transports)
        self.answer = answer
        self.ring = ring
        self.redirect = list(redirect)
        self.report = report if report is not None else TransactionReport(None)
        self.loop = asyncio.get_running_loop()
        timers = timers if timers is not None else stack.timers
        host, port = self.transports[0].local_address[:2]
        via = Via((2, 0), self.transports[0].protocol, SentBy(host, port), {"rport": None})
        self.layer = DialogLayer(via, DialogSettings(t1=timers.t1, t2=timers.t2))
        self.auth = (
            DigestServer(realm, users, _nonce_key(), algorithms=algorithms)
            if users is not None
            else None
        )
        # Challenges for --answer 401/407 even without a users file (nobody passes them).
        self._answer_auth = self.auth or DigestServer(
            realm, Users(), _nonce_key(), algorithms=algorithms, proxy=answer == 407
        )
        self.calls: dict[ServerKey, _Call] = {}
        self.sessions: dict[tuple[str, str], SdpSession] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._towards: dict[str, str] = {}
        self._tasks: set[asyncio.Future[Any]] = set()

    def close(self) -> None:
        for call in self.calls.values():
            if call.timer is not None:
                call.timer.cancel()
        self.calls.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- Core ---------------------------------------------------------------------------

    def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        start = request.start_line
        assert isinstance(start, RequestLine)
        method = start.method
        now = self.loop.time()
        self.report.received(request)
        if method == Method.ACK:
            self._carry_out(self.layer.receive_request(request, now))
            return
        if server_key is None:
            return
        if method == Method.CANCEL:
            # After the callbacks already queued: a transport error that ended the INVITE
            # (reported asynchronously, while a batch of datagrams is read) must reach
            # receive_error first, so that a forgotten call gets no 487.
            self.loop.call_soon(self._cancel, request)
            return
        refusal = check_request(request, POLICY, extra={"server": SERVER})
        if refusal is not None:
            self._send(refusal)
            return
        if self.auth is not None and method == Method.INVITE and not _to_tag(request):
            wall = time.time()  # nonces carry wall-clock time (sippet.auth.nonce)
            verdict = self.auth.verify(request, wall)
            if not verdict.ok:
                logger.info("%s from %s: %s", method, request.headers["from"].uri, verdict.reason)
                self._send(self.auth.refuse(request, verdict, wall))
                return
        self._carry_out(self.layer.receive_request(request, now), server_key)

    def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        # Only BYEs are sent (no ACK within 64*T1); their answers change nothing.
        status = response.start_line
        assert isinstance(status, StatusLine)
        logger.info("%s %s", status.status_code, response.headers.get("cseq"))

    def receive_error(self, reason: str, key: ClientKey | ServerKey) -> None:
        logger.info("transaction %s failed: %s", key, reason)
        if not isinstance(key, ServerKey):
            return
        call = self.calls.pop(key, None)
        if call is None:
            return
        # The INVITE can no longer be answered: forget the call and its early dialog, so
        # that a CANCEL still matching the transaction gets no 487 (RFC 6026 §8.8).
        if call.timer is not None:
            call.timer.cancel()
        headers = call.request.headers
        dialog_id = DialogId(headers["call_id"], call.tag, _tag(headers["from"]))
        self._carry_out(self.layer.terminate(dialog_id, self.loop.time()))

    # -- the dialog layer's actions -----------------------------------------------------

    def _carry_out(
        self,
        actions: list[Action],
        key: ServerKey | None = None,
        *,
        timer: bool = False,
        invite_arrived: float | None = None,
    ) -> None:
        """``invite_arrived``: when the INVITE answered in ``actions`` came, for the
        transaction line."""
        for action in actions:
            match action:
                case SendResponse(response, _):
                    self._send(response, retransmission=timer, invite_arrived=invite_arrived)
                case SendRequest(request, _):
                    self._spawn(self._send_request(request))
                case SendAck(ack, _):  # pragma: no cover - a UAS sends no INVITE
                    self._spawn(self._send_request(ack))
                case DeliverRequest(request, dialog_id):
                    self._deliver(request, dialog_id, key)
                case StateChanged(dialog_id, DialogState.TERMINATED, reason):
                    self.sessions.pop((dialog_id.call_id, dialog_id.local_tag), None)
                    self.report.call_ended(str(reason))
        self._rearm()

    def _deliver(self, request: Message, dialog_id: DialogId | None, key: ServerKey | None) -> None:
        method = request.start_line.method  # type: ignore[union-attr]
        if method == Method.INVITE and dialog_id is None and key is not None:
            self._ringing(request, key)
        elif method == Method.INVITE:
            self._final(request, 200, _to_tag(request))  # a re-INVITE: answered at once
        elif method == Method.OPTIONS:
            # Shared values: neither message is changed after this (the fast path a
            # throughput benchmark measures).
            self._send(response_to(request, 200, extra=OPTIONS_HEADERS, share=True))
        elif method == Method.BYE and dialog_id is not None:
            self._answer(request, 200)
        elif method in (Method.BYE, Method.INVITE):
            self._answer(request, 481)  # §12.2.2: a BYE without To tag names no dialog
        # ACK of our 2xx, CANCEL the layer answered: nothing to say.

    def _answer(self, request: Message, code: int) -> None:
        response = response_to(request, code, extra={"server": SERVER}, share=True)
        self._carry_out(self.layer.send_response(response, self.loop.time()))

    # -- INVITE -------------------------------------------------------------------------

    def _ringing(self, request: Message, key: ServerKey) -> None:
        call = _Call(request, key, create_tag(), self.loop.time())
        self.calls[key] = call
        if self.ring != 0:
            ringing = response_to(
                request,
                180,
                to_tag=call.tag,
                extra={"contact": [self._contact(request)], "server": SERVER},
            )
            self._carry_out(self.layer.send_response(ringing, self.loop.time()))
            if key not in self.calls:
                return  # the 180 could not be sent: the call is already forgotten
        if self.ring:
            call.timer = self.loop.call_later(self.ring, self._call_answered, call)
        else:
            self._call_answered(call)

    def _call_answered(self, call: _Call) -> None:
        call.timer = None
        if self.calls.pop(call.key, None) is None:
            return
        self._final(call.request, self.answer, call.tag, call.arrived)

    def _final(self, request: Message, code: int, tag: str, arrived: float | None = None) -> None:
        extra = self._required_headers(request, code)
        extra["server"] = SERVER
        if 200 <= code <= 299:
            extra["contact"] = [self._contact(request)]
            extra["content_type"] = SDP
        response = response_to(request, code, to_tag=tag, extra=extra)
        if 200 <= code <= 299:
            response.body = self._session(request, tag).answer(request.body)
        self._carry_out(
            self.layer.send_response(response, self.loop.time()), invite_arrived=arrived
        )

    def _required_headers(self, request: Message, code: int) -> dict[str, Any]:
        """The header fields RFC 3261 requires in a final response with this code."""
        if code in (401, 407):
            auth = self._answer_auth
            challenges = auth.challenges(time.time())
            name = "proxy_authenticate" if code == 407 else "www_authenticate"
            return {name: challenges}  # §21.4.2, §21.4.8
        if 300 <= code <= 399:
            return {"contact": [NameAddr("", uri, {}) for uri in self.redirect]}  # §21.3
        if code == 405:
            return {"allow": list(POLICY.methods)}  # §21.4.6
        if code == 415:
            return {"accept": [SDP]}  # §21.4.13
        if code == 420:
            required = request.headers.get("require") or [EXTENSION_REQUIRED]
            return {"unsupported": list(required)}  # §21.4.15
        if code == 421:
            return {"require": [EXTENSION_REQUIRED]}  # RFC 3261 §21.4.16 (421)
        if code == 423:
            return {"min_expires": MIN_EXPIRES}  # §21.4.17
        return {}

    def _session(self, request: Message, tag: str) -> SdpSession:
        key = (request.headers["call_id"], tag)
        session = self.sessions.get(key)
        if session is None:
            session = SdpSession(self._local_host(request))
            self.sessions[key] = session
        return session

    def _cancel(self, cancel: Message) -> None:
        now = self.loop.time()
        invite_key = self.stack.layer.find_invite_for_cancel(cancel)
        if invite_key is None:
            self._send(response_to(cancel, 481, extra={"server": SERVER}))  # §9.2
            return
        call = self.calls.pop(invite_key, None)
        if call is None:
            # §9.2: the INVITE was answered already: 200, and the CANCEL changes nothing.
            self._send(response_to(cancel, 200, extra={"server": SERVER}))
            return
        if call.timer is not None:
            call.timer.cancel()
        actions = self.layer.receive_request(cancel, now)  # 200, then 487
        self._carry_out(actions, invite_arrived=call.arrived)

    # -- sending ------------------------------------------------------------------------

    def _send(
        self,
        response: Message,
        *,
        retransmission: bool = False,
        invite_arrived: float | None = None,
    ) -> None:
        if "server" not in response.headers:
            response.headers["server"] = SERVER
        status = response.start_line
        assert isinstance(status, StatusLine)
        try:
            self.stack.send_response(response)
        except TransactionError:
            if 200 <= status.status_code <= 299 and response.headers["cseq"].method == "INVITE":
                # RFC 6026: a 2xx retransmitted after its transaction ended goes statelessly.
                self._spawn(self.stack.send_stateless(response))
            else:
                logger.info("cannot send %s: no transaction", status)
                return
        except SippetError as exc:
            logger.info("cannot send %s: %s", status, exc)
            return
        if status.status_code >= 200 and not retransmission:
            elapsed = None
            if invite_arrived is not None and response.headers["cseq"].method == "INVITE":
                elapsed = self.loop.time() - invite_arrived
            self.report.answered(response, elapsed)

    async def _send_request(self, request: Message) -> None:
        try:
            await self.stack.send(request)
        except SippetError as exc:
            logger.warning("cannot send %s: %s", request.start_line, exc)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("task failed", exc_info=task.exception())

    def _rearm(self) -> None:
        deadline = self.layer.next_deadline()
        if self._timer is not None:
            if deadline is not None and self._timer.when() == deadline:
                return
            self._timer.cancel()
            self._timer = None
        if deadline is not None:
            self._timer = self.loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._carry_out(self.layer.handle_timers(self.loop.time()), timer=True)

    # -- our address --------------------------------------------------------------------

    def _transport_for(self, request: Message) -> Transport:
        """Ours for the protocol of the request's top Via (how it reached us)."""
        protocol = str(request.headers["via"][0].protocol).upper()
        for transport in self.transports:
            if transport.protocol == protocol:
                return transport
        return self.transports[0]

    def _local_host(self, request: Message) -> str:
        """Our address as the caller reaches it, for Contact and SDP: the bound address,
        or when bound to a wildcard, the local address the OS routes towards the caller."""
        transport = self._transport_for(request)
        host = transport.local_address[0]
        if host not in ("0.0.0.0", "::"):
            return host
        via = request.headers["via"][0]
        remote = via.params.get("received") or via.sent_by.host
        if literal_address(remote, 5060) is None:
            return host  # a name: resolving it here would block the loop
        local = self._towards.get(remote)
        if local is None:
            local = local_address_towards(transport.family, remote, 5060) or host
            if len(self._towards) >= 1024:
                self._towards.clear()
            self._towards[remote] = local
        return local

    def _contact(self, request: Message) -> NameAddr:
        """Our Contact (§8.1.1.8) on the transport the request came by: ``;transport=``
        for a stream transport, ``sips:`` for TLS when the request was for a sips: URI."""
        transport = self._transport_for(request)
        protocol = transport.protocol
        scheme = "sip"
        params: dict[str, str | None] = {}
        request_uri = request.start_line.request_uri  # type: ignore[union-attr]
        if protocol == "TLS" and request_uri.scheme == "sips":
            scheme = "sips"
        elif protocol != "UDP":
            params["transport"] = protocol.lower()
        uri = URI(
            scheme,
            "sippet",
            None,
            self._local_host(request),
            transport.local_address[1],
            params,
        )
        return NameAddr("", uri, {})


def _nonce_key() -> bytes:
    return secrets.token_bytes(32)


def _tag(value: Any) -> str:
    return str(value.params.get("tag") or "") if value is not None else ""


def _to_tag(request: Message) -> str:
    return _tag(request.headers.get("to"))


__all__ = ["POLICY", "SERVER", "UASCore"]
