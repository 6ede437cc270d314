"""sippet.endpoint.uac: building requests (§8.1.1), 3xx (§8.1.3.4), 503 and the 401 hook."""

from __future__ import annotations

import pytest
from sippet import URI, CSeq, MediaType, Message, Method, NameAddr, RetryAfter
from sippet.endpoint.uac import (
    DEFAULT_REDIRECT_LIMIT,
    FollowUp,
    LocalAddress,
    RedirectTargets,
    build_request,
    next_request,
    redirect_request,
    retry_after,
)
from sippet.ids import MAGIC_COOKIE
from sippet.responses import response_to

LOCAL = LocalAddress("udp", "192.0.2.10", 5062)


def invite(**kwargs: object) -> Message:
    return build_request(
        Method.INVITE,
        "sip:bob@b.example",
        from_="sip:alice@a.example",
        local=LOCAL,
        contact="sip:alice@192.0.2.10:5062",
        **kwargs,  # type: ignore[arg-type]
    )


def test_build_request_has_every_header_of_8_1_1() -> None:
    request = invite(
        supported=["replaces"],
        allow=[Method.INVITE, Method.ACK, Method.BYE],
        body=b"v=0\r\n",
        content_type="application/SDP",
    )
    headers = request.headers
    assert request.start_line[:2] == (Method.INVITE, URI.parse("sip:bob@b.example"))
    via = headers["via"][0]
    assert (via.protocol, via.sent_by) == ("UDP", (LOCAL.host, LOCAL.port))
    assert via.branch is not None and via.branch.startswith(MAGIC_COOKIE) and len(via.branch) > 7
    assert "rport" in via.params and via.params["rport"] is None  # RFC 3581
    assert headers["max_forwards"] == 70
    assert headers["from"].uri == URI.parse("sip:alice@a.example") and headers["from"].params["tag"]
    assert headers["to"] == NameAddr("", URI.parse("sip:bob@b.example"), {})  # no tag
    assert headers["call_id"] and headers["cseq"] == CSeq(1, Method.INVITE)
    assert headers["contact"] == [NameAddr("", URI.parse("sip:alice@192.0.2.10:5062"), {})]
    assert headers["supported"] == ["replaces"] and headers["allow"][0] == Method.INVITE
    assert headers["content_type"] == MediaType(("application", "sdp"), {})
    request.validate("UDP")
    again = Message.parse(bytes(request))
    assert again.headers["via"] == headers["via"] and again.body == b"v=0\r\n"
    # Each request gets fresh identifiers.
    other = invite()
    assert other.headers["call_id"] != headers["call_id"]
    assert other.headers["via"][0].branch != via.branch
    assert other.headers["from"].params["tag"] != headers["from"].params["tag"]


def test_build_request_options() -> None:
    route = [NameAddr("", URI.parse("sip:proxy.example;lr"), {})]
    request = build_request(
        "OPTIONS",
        URI.parse("sip:bob@b.example"),
        from_=NameAddr("Alice", URI.parse("sip:alice@a.example"), {}),
        to="sip:robert@b.example",
        local=("tcp", "h.example", None),
        call_id="fixed@h",
        cseq=42,
        from_tag="ft",
        route=route,
        rport=False,
    )
    headers = request.headers
    assert headers["from"] == NameAddr("Alice", URI.parse("sip:alice@a.example"), {"tag": "ft"})
    assert headers["to"].uri.user == "robert"
    assert (headers["call_id"], headers["cseq"], headers["route"]) == (
        "fixed@h",
        CSeq(42, Method.OPTIONS),
        route,
    )
    assert "rport" not in headers["via"][0].params and "contact" not in headers
    assert "supported" not in headers and "allow" not in headers


def test_build_request_refusals() -> None:
    with pytest.raises(ValueError, match="Contact"):
        build_request("INVITE", "sip:b@h", from_="sip:a@h", local=LOCAL)
    with pytest.raises(ValueError, match="2\\*\\*31"):
        invite(cseq=2**31)
    with pytest.raises(ValueError, match="Content-Type"):
        invite(body=b"x")


def test_next_request_is_a_new_transaction_of_the_same_chain() -> None:
    first = invite()
    first.headers["via"][0].params.update(received="198.51.100.1", rport="7000")
    second = next_request(first)
    assert second.headers["cseq"] == CSeq(2, Method.INVITE)
    assert second.headers["via"][0].branch != first.headers["via"][0].branch
    assert second.headers["via"][0].params["rport"] is None
    assert "received" not in second.headers["via"][0].params
    for key in ("from", "to", "call_id", "contact"):
        assert second.headers[key] == first.headers[key]
    assert first.headers["cseq"] == CSeq(1, Method.INVITE)  # the original is untouched


def redirect(request: Message, *contacts: str, status: int = 302) -> Message:
    return response_to(
        request,
        status,
        extra={"contact": [_contact(text) for text in contacts]},
    )


def _contact(text: str) -> NameAddr:
    uri_text, _, q = text.partition(" q=")
    return NameAddr("", URI.parse(uri_text), {} if not q else {"q": q})


def test_redirect_targets_in_q_order_without_repeats() -> None:
    request = invite()
    targets = RedirectTargets(URI.parse("sip:bob@b.example"))
    added = targets.add(
        redirect(
            request,
            "sip:low@x.example q=0.1",
            "sip:high@x.example q=0.9",
            "sip:bob@b.example",  # the original: never again
            "sip:mid@x.example",  # no q: 1.0
            "mailto:bob@b.example",  # not reachable
        )
    )
    assert added == 3
    assert [str(u) for u in targets.pending] == [
        "sip:mid@x.example",
        "sip:high@x.example",
        "sip:low@x.example",
    ]
    # A later redirect that points back at a tried URI adds nothing (no loop).
    assert targets.add(redirect(request, "sip:high@x.example", "sip:bob@b.example")) == 0
    assert targets.next_target() == URI.parse("sip:mid@x.example")
    assert targets.add(response_to(request, 486)) == 0  # not a 3xx
    assert targets.add(redirect(request, "sip:mid@x.example;method=INVITE")) == 0
    assert targets.next_target() == URI.parse("sip:high@x.example")
    assert targets.next_target() == URI.parse("sip:low@x.example")
    assert targets.next_target() is None


def test_redirect_targets_are_bounded_and_keep_sips() -> None:
    request = invite()
    many = [f"sip:u{i}@x.example" for i in range(20)]
    targets = RedirectTargets(URI.parse("sip:bob@b.example"))
    assert targets.add(redirect(request, *many)) == DEFAULT_REDIRECT_LIMIT - 1
    secure = RedirectTargets(URI.parse("sips:bob@b.example"))
    assert secure.add(redirect(request, "sip:plain@x.example", "sips:safe@x.example")) == 1
    assert secure.pending == [URI.parse("sips:safe@x.example")]


def test_redirect_request_copies_the_uri_without_method_and_headers() -> None:
    request = invite()
    target = URI.parse("sip:carol@c.example;transport=tcp;method=INVITE?Subject=hi")
    again = redirect_request(request, target)
    assert again.start_line[1] == URI.parse("sip:carol@c.example;transport=tcp")
    assert again.headers["cseq"].seq == 2
    assert again.headers["to"] == request.headers["to"]  # §8.1.3.4: same To, From, Call-ID
    assert "subject" not in again.headers


def test_retry_after_for_503_and_500_only() -> None:
    request = invite()
    busy = response_to(request, 503, extra={"retry_after": RetryAfter(120, None, {})})
    assert retry_after(busy, 10.0) == 130.0
    assert retry_after(response_to(request, 503), 10.0) is None  # acts as a 500
    five_hundred = response_to(request, 500, extra={"retry_after": RetryAfter(5, None, {})})
    assert retry_after(five_hundred, 0.0) == 5.0
    away = response_to(request, 486, extra={"retry_after": RetryAfter(5, None, {})})
    assert retry_after(away, 0.0) is None


class Credentials:
    """A stand-in for the digest client: adds a fixed Authorization once per call."""

    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.challenges: list[int] = []

    def authorize(self, request: Message, challenge: Message) -> Message | None:
        self.challenges.append(challenge.start_line[0])
        if not self.answer:
            return None
        again = next_request(request)
        again.headers["X-Auth"] = "yes"
        return again


def test_follow_up_redirects_then_tries_the_next_target_on_failure() -> None:
    request = invite()
    follow = FollowUp(request)
    moved = follow.on_final(redirect(request, "sip:a@x.example q=0.5", "sip:b@x.example"), 0.0)
    assert moved is not None and moved.start_line[1] == URI.parse("sip:b@x.example")
    assert moved.headers["cseq"].seq == 2
    failed = follow.on_final(response_to(moved, 486), 1.0)
    assert failed is not None and failed.start_line[1] == URI.parse("sip:a@x.example")
    assert failed.headers["cseq"].seq == 3
    assert follow.on_final(response_to(failed, 404), 2.0) is None  # exhausted: failed
    assert follow.on_final(response_to(failed, 200), 3.0) is None  # success: nothing to do


def test_follow_up_answers_challenges_a_bounded_number_of_times() -> None:
    request = invite()
    credentials = Credentials()
    follow = FollowUp(request, authenticator=credentials, auth_attempts=2)
    first = follow.on_final(response_to(request, 401), 0.0)
    assert first is not None and first.headers["X-Auth"] == "yes"
    second = follow.on_final(response_to(first, 407), 1.0)
    assert second is not None and second.headers["cseq"].seq == 3
    assert follow.on_final(response_to(second, 401), 2.0) is None  # wrong credentials
    assert credentials.challenges == [401, 407]
    # Without credentials for the realm, or without an authenticator: a plain failure.
    assert (
        FollowUp(request, authenticator=Credentials(answer=False)).on_final(
            response_to(request, 401), 0.0
        )
        is None
    )
    assert FollowUp(request).on_final(response_to(request, 407), 0.0) is None


def test_follow_up_records_retry_after() -> None:
    request = invite()
    follow = FollowUp(request)
    unavailable = response_to(request, 503, extra={"retry_after": RetryAfter(30, None, {})})
    assert follow.on_final(unavailable, 100.0) is None
    assert follow.retry_at == 130.0
    with pytest.raises(ValueError):
        follow.on_final(request, 0.0)
    with pytest.raises(ValueError):
        FollowUp(unavailable)
