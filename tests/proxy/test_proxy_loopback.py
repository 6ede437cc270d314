"""The proxy on real stacks over UDP loopback: a UAC stack, the proxy stack, UAS stacks,
in one process (RFC 3261 §16 end to end, with the transaction layer underneath)."""

from __future__ import annotations

import asyncio
import re
import socket

from helpers.aio import async_test, recvfrom
from helpers.messages import Load
from sippet import URI, CSeq, Message, Method, RequestLine
from sippet.ids import create_branch
from sippet.proxy import ProxyTarget

from .messages import code, method, ruri
from .peers import HOST, TIMEOUT, Phone, get, phone, proxy_stack


def proxy_route(port: int) -> URI:
    return URI("sip", None, None, HOST, port, {"lr": None})


async def requests_until(p: Phone, wanted: str) -> Message:
    return (await collect_until(p, wanted))[-1]


async def collect_until(p: Phone, wanted: str) -> list[Message]:
    """The requests ``p`` received, up to the first ``wanted`` one."""
    seen: list[Message] = []
    while not seen or method(seen[-1]) != wanted:
        request, _key = await get(p.requests)
        seen.append(request)
    return seen


async def responses_until_final(p: Phone) -> list[Message]:
    seen = []
    while True:
        response = await get(p.responses)
        seen.append(response)
        if code(response) >= 200:
            return seen


def in_dialog(p: Phone, invite: Message, ok: Message, kind: Method, seq: int) -> Message:
    """An ACK or BYE of the dialog ``ok`` set up (RFC 3261 §12.2.1.1): to the remote
    Contact, through the route set (the Record-Route reversed)."""
    routes = [value.uri for value in reversed(ok.headers.get("record_route", []))]
    request = p.new_request(kind, ok.headers["contact"][0].uri, routes=routes)
    request.headers["to"] = ok.headers["to"]
    request.headers["call_id"] = invite.headers["call_id"]
    request.headers["cseq"] = CSeq(seq, kind)
    return request


@async_test
async def test_a_call_through_the_proxy_follows_the_record_route() -> None:
    uas = await phone([180, 200])
    uac = await phone()
    proxy = await proxy_stack({"bob": [ProxyTarget(uas.uri)]})
    try:
        invite = uac.new_request(
            Method.INVITE, "sip:bob@example.com", routes=[proxy_route(proxy.port)]
        )
        await uac.stack.send(invite)
        ringing, ok = await responses_until_final(uac)
        assert (code(ringing), code(ok)) == (180, 200)
        assert ok.headers["via"] == invite.headers["via"]  # the proxy's Via is gone
        assert [str(v.uri) for v in ok.headers["record_route"]] == [f"sip:{HOST}:{proxy.port};lr"]
        received = await requests_until(uas, "INVITE")
        assert ruri(received) == uas.uri
        assert received.headers["max_forwards"] == 69
        assert received.headers["via"][0].sent_by.port == proxy.port
        assert "route" not in received.headers  # our own Route was removed (§16.4)
        # ACK and BYE go through the proxy: its Via is on them when they reach the UAS.
        await uac.stack.send(in_dialog(uac, invite, ok, Method.ACK, 1))
        ack = await requests_until(uas, "ACK")
        assert ack.headers["via"][0].sent_by.port == proxy.port
        await uac.stack.send(in_dialog(uac, invite, ok, Method.BYE, 2))
        bye = await requests_until(uas, "BYE")
        assert bye.headers["via"][0].sent_by.port == proxy.port
        (bye_ok,) = await responses_until_final(uac)
        assert code(bye_ok) == 200 and bye_ok.headers["cseq"].method == Method.BYE
    finally:
        for p in (uas, uac):
            await p.stack.close()
        await proxy.close()


@async_test
async def test_a_forked_call_the_answer_wins_and_the_ringing_branch_is_cancelled() -> None:
    ringing_only = await phone([180])
    answering = await phone([180, 200])
    uac = await phone()
    proxy = await proxy_stack({"bob": [ProxyTarget(ringing_only.uri), ProxyTarget(answering.uri)]})
    try:
        invite = uac.new_request(
            Method.INVITE, "sip:bob@example.com", routes=[proxy_route(proxy.port)]
        )
        await uac.stack.send(invite)
        responses = await responses_until_final(uac)
        assert code(responses[-1]) == 200
        assert responses[-1].headers["to"].params["tag"] == answering.tag
        invite_there, cancel = await collect_until(ringing_only, "CANCEL")
        assert method(invite_there) == "INVITE"
        assert cancel.headers["via"][0].branch == invite_there.headers["via"][0].branch
        # The cancelled branch's 487 stays at the proxy: the UAC sees no other final.
        await asyncio.sleep(0.3)
        assert all(code(r) < 300 for r in drain(uac.responses))
    finally:
        for p in (ringing_only, answering, uac):
            await p.stack.close()
        await proxy.close()


def drain_requests(p: Phone) -> list[tuple[Message, object]]:
    items = []
    while not p.requests.empty():
        items.append(p.requests.get_nowait())
    return items


def drain(queue: asyncio.Queue[Message]) -> list[Message]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


@async_test
async def test_a_forked_call_the_best_final_response_wins() -> None:
    busy = await phone([486])
    failing = await phone([503])
    uac = await phone()
    proxy = await proxy_stack({"bob": [ProxyTarget(busy.uri), ProxyTarget(failing.uri)]})
    try:
        invite = uac.new_request(
            Method.INVITE, "sip:bob@example.com", routes=[proxy_route(proxy.port)]
        )
        await uac.stack.send(invite)
        responses = await responses_until_final(uac)
        assert code(responses[-1]) == 486
        # The ACK of a non-2xx is hop by hop (§17.1.1.3): the caller's stays in the proxy's
        # server transaction, the proxy's own matches the callee's transaction (which
        # absorbs it). Any other ACK would reach the callee's core.
        await asyncio.sleep(0.3)
        seen = [method(request) for request, _ in drain_requests(busy)]
        assert seen == ["INVITE"]
    finally:
        for p in (busy, failing, uac):
            await p.stack.close()
        await proxy.close()


@async_test
async def test_a_cancel_from_the_caller_reaches_the_callee() -> None:
    uas = await phone([180])
    uac = await phone()
    proxy = await proxy_stack({"bob": [ProxyTarget(uas.uri)]})
    try:
        invite = uac.new_request(
            Method.INVITE, "sip:bob@example.com", routes=[proxy_route(proxy.port)]
        )
        await uac.stack.send(invite)
        assert code(await get(uac.responses)) == 180
        cancel = Message(RequestLine(Method.CANCEL, ruri(invite)), dict(invite.headers))
        cancel.headers["cseq"] = CSeq(1, Method.CANCEL)
        await uac.stack.send(cancel)
        finals = {code(await get(uac.responses)), code(await get(uac.responses))}
        assert finals == {200, 487}
        await requests_until(uas, "CANCEL")
    finally:
        for p in (uas, uac):
            await p.stack.close()
        await proxy.close()


@async_test
async def test_a_stateless_proxy_carries_a_call() -> None:
    uas = await phone([180, 200])
    uac = await phone()
    proxy = await proxy_stack({"bob": [ProxyTarget(uas.uri)]}, stateless=True)
    try:
        invite = uac.new_request(
            Method.INVITE, "sip:bob@example.com", routes=[proxy_route(proxy.port)]
        )
        await uac.stack.send(invite)
        responses = await responses_until_final(uac)
        assert [code(r) for r in responses] == [180, 200]
        assert "record_route" in responses[-1].headers
        assert proxy.stack.layer.server_count == 0  # no transaction kept
    finally:
        for p in (uas, uac):
            await p.stack.close()
        await proxy.close()


@async_test
async def test_an_unknown_user_gets_404_from_the_lookup() -> None:
    uac = await phone()
    proxy = await proxy_stack({})
    try:
        options = uac.new_request(
            Method.OPTIONS, "sip:nobody@example.com", routes=[proxy_route(proxy.port)]
        )
        await uac.stack.send(options)
        assert code(await get(uac.responses)) == 404
    finally:
        await uac.stack.close()
        await proxy.close()


async def _raw_exchange(proxy_port: int, data: bytes) -> Message:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))
    sock.setblocking(False)
    port = sock.getsockname()[1]
    try:
        # Point the torture message's Via at this socket, so the answer comes back here.
        branch = create_branch()
        data = re.sub(
            rb"Via: [^\r\n]*",
            f"Via: SIP/2.0/UDP {HOST}:{port};branch={branch}".encode(),
            data,
            count=1,
        )
        sock.sendto(data, (HOST, proxy_port))
        reply, _ = await asyncio.wait_for(recvfrom(sock, 65535), TIMEOUT)
        return Message.parse(reply)
    finally:
        sock.close()


@async_test
async def test_rfc4475_proxy_verdicts_on_the_wire(rfc4475: Load) -> None:
    proxy = await proxy_stack({})
    try:
        assert code(await _raw_exchange(proxy.port, rfc4475("zeromf"))) == 483
        bext01 = await _raw_exchange(proxy.port, rfc4475("bext01"))
        assert code(bext01) == 420
        assert bext01.headers["unsupported"] == [
            "noProxiesSupportThis",
            "norDoAnyProxiesSupportThis",
        ]
        assert code(await _raw_exchange(proxy.port, rfc4475("unkscm"))) == 416
    finally:
        await proxy.close()


@async_test
async def test_a_failing_or_slow_lookup_gets_500() -> None:
    uac = await phone()
    proxy = await proxy_stack({})

    async def slow(_request: Message) -> list[ProxyTarget]:
        await asyncio.sleep(10)
        return []

    def broken(_request: Message) -> list[ProxyTarget]:
        raise RuntimeError("location store down")

    try:
        assert proxy.stack.answer_timeouts.invite == float("inf")  # the core answers INVITEs
        for locate in (broken, slow):
            proxy.service.locate = locate
            proxy.service.lookup_timeout = 0.2
            options = uac.new_request(
                Method.OPTIONS, "sip:bob@example.com", routes=[proxy_route(proxy.port)]
            )
            await uac.stack.send(options)
            assert code(await get(uac.responses)) == 500
    finally:
        await uac.stack.close()
        await proxy.close()


@async_test
async def test_a_strict_router_next_hop_gets_the_route_as_request_uri() -> None:
    # Policy route to a strict router (no lr, §16.6 step 6 and §16.12): the request goes
    # there with that URI as Request-URI and the target pushed to the end of Route.
    strict = await phone([200])
    uac = await phone()
    target = URI.parse("sip:bob@192.0.2.22")
    strict_uri = URI("sip", None, None, HOST, strict.uri.port)
    proxy = await proxy_stack({"bob": [ProxyTarget(target)]}, outbound_route=(strict_uri,))
    try:
        options = uac.new_request(
            Method.OPTIONS, "sip:bob@example.com", routes=[proxy_route(proxy.port)]
        )
        await uac.stack.send(options)
        assert code(await get(uac.responses)) == 200
        received = await requests_until(strict, "OPTIONS")
        assert ruri(received) == strict_uri
        assert [value.uri for value in received.headers["route"]] == [target]
    finally:
        for p in (strict, uac):
            await p.stack.close()
        await proxy.close()
