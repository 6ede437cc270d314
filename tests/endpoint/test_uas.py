"""sippet.endpoint.uas: the RFC 3261 §8.2 checks, on RFC 4475 messages where they apply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sippet import URI, CSeq, MediaType, Message, Method, NameAddr, RequestLine, SentBy, Via
from sippet.endpoint.uas import (
    Check,
    MergedRequests,
    UASPolicy,
    check_accept,
    check_content,
    check_method,
    check_request,
    check_require,
    check_uri_ours,
    check_uri_scheme,
)
from sippet.headers import TokenParams

POLICY = UASPolicy()
Torture = Callable[[str], bytes]


def status_of(response: Message | None) -> int | None:
    return None if response is None else response.start_line[0]


def request(
    method: Method | str = Method.INVITE,
    *,
    uri: str = "sip:bob@b.example",
    branch: str = "z9hG4bK1",
    host: str = "a.example",
    to_tag: str | None = None,
    body: bytes = b"",
    **extra: Any,
) -> Message:
    headers: dict[str, Any] = {
        "via": [Via((2, 0), "UDP", SentBy(host, None), {"branch": branch})],
        "from": NameAddr("", URI.parse("sip:alice@a.example"), {"tag": "f1"}),
        "to": NameAddr(
            "", URI.parse("sip:bob@b.example"), {} if to_tag is None else {"tag": to_tag}
        ),
        "call_id": "c1",
        "cseq": CSeq(1, method),
        "max_forwards": 70,
        **extra,
    }
    return Message(RequestLine(method, URI.parse(uri)), headers, body)


# -- each check on the RFC 4475 messages it is for ------------------------------------------


@pytest.mark.parametrize("name", ["unkscm", "novelsc"])
def test_unknown_request_uri_scheme_is_416(rfc4475: Torture, name: str) -> None:
    # RFC 4475 §3.3.2, §3.3.3.
    message = Message.parse(rfc4475(name))
    response = check_uri_scheme(message, POLICY)
    assert status_of(response) == 416
    assert status_of(check_request(message, POLICY)) == 416
    # A UAS that takes the scheme passes it on to the next check.
    assert (
        check_uri_scheme(message, UASPolicy(schemes={"sip", "soap.beep", "nobodyknowsthisscheme"}))
        is None
    )


def test_unknown_body_type_is_415_with_accept(rfc4475: Torture) -> None:
    # RFC 4475 §3.3.6 invut.
    message = Message.parse(rfc4475("invut"))
    response = check_content(message, POLICY)
    assert status_of(response) == 415
    assert response is not None
    assert response.headers["accept"] == [MediaType(("application", "sdp"), {})]
    assert "accept_encoding" not in response.headers
    assert status_of(check_request(message, POLICY)) == 415
    wide = UASPolicy(content_types={"application/sdp", "application/*"})
    assert check_content(message, wide) is None


def test_accept_without_sdp_is_406(rfc4475: Torture) -> None:
    # RFC 4475 §3.3.15 sdp01: the answer would be SDP, which Accept excludes.
    message = Message.parse(rfc4475("sdp01"))
    assert check_content(message, POLICY) is None  # the SDP offer itself is fine
    assert status_of(check_accept(message, POLICY)) == 406
    assert status_of(check_request(message, POLICY)) == 406
    # Not checked when the UAS answers INVITE without a body.
    assert check_accept(message, UASPolicy(answer_types={})) is None


def test_unknown_require_is_420_with_unsupported(rfc4475: Torture) -> None:
    # RFC 4475 §3.3.5 bext01: Require lists two tags; Proxy-Require is a proxy's business.
    message = Message.parse(rfc4475("bext01"))
    response = check_require(message, POLICY)
    assert status_of(response) == 420
    assert response is not None
    assert response.headers["unsupported"] == ["nothingSupportsThis", "nothingSupportsThisEither"]
    partly = UASPolicy(extensions={"nothingSupportsThis"})
    partial = check_require(message, partly)
    assert partial is not None and partial.headers["unsupported"] == ["nothingSupportsThisEither"]
    both = UASPolicy(extensions={"nothingSupportsThis", "nothingSupportsThisEither"})
    assert check_require(message, both) is None


@pytest.mark.parametrize("name", ["intmeth", "esc02"])
def test_unknown_method_is_501_with_allow(rfc4475: Torture, name: str) -> None:
    # RFC 4475 §3.1.1.2 ("Endpoint: 501 with Allow"), §3.1.1.5.
    message = Message.parse(rfc4475(name))
    response = check_method(message, POLICY)
    assert status_of(response) == 501
    assert response is not None and response.headers["allow"] == list(POLICY.methods)


def test_known_method_not_supported_is_405_with_allow(rfc4475: Torture) -> None:
    # RFC 4475 §3.3.7 regaut01: "an endpoint that is not a registrar: 405".
    message = Message.parse(rfc4475("regaut01"))
    response = check_method(message, POLICY)
    assert status_of(response) == 405
    assert response is not None
    assert response.headers["allow"] == [
        Method.INVITE,
        Method.ACK,
        Method.CANCEL,
        Method.BYE,
        Method.OPTIONS,
    ]
    registrar = UASPolicy(methods=(Method.REGISTER,))
    assert check_method(message, registrar) is None


def test_valid_requests_pass_every_check(rfc4475: Torture) -> None:
    for name in ("wsinv", "esc01", "escnull", "lwsdisp", "longreq", "semiuri", "transports"):
        message = Message.parse(rfc4475(name))
        policy = UASPolicy(
            methods=(Method.INVITE, Method.OPTIONS, Method.REGISTER, Method.ACK),
            extensions={"newfeature", "foo"},
        )
        refusal = check_request(message, policy, checks=[c for c in Check if c is not Check.MERGED])
        assert refusal is None, (name, refusal and refusal.start_line)


# -- the Request-URI predicate, order, picking checks ----------------------------------------


def test_uri_not_ours_is_404() -> None:
    ours = UASPolicy(is_ours=lambda uri: uri.user == "bob")
    assert check_uri_ours(request(), ours) is None
    assert status_of(check_uri_ours(request(uri="sip:carol@b.example"), ours)) == 404
    assert check_uri_ours(request(uri="sip:carol@b.example"), POLICY) is None  # no predicate


def test_checks_run_in_rfc_order_whatever_order_is_asked() -> None:
    # Unknown method, bad scheme and unknown Require at once: the method comes first.
    bad = request("FOO", uri="mailto:x@y", require=["x"])
    assert status_of(check_request(bad, POLICY)) == 501
    picked = [Check.REQUIRE, Check.URI_SCHEME]
    assert status_of(check_request(bad, POLICY, checks=picked)) == 416
    assert status_of(check_request(bad, POLICY, checks=[Check.REQUIRE])) == 420
    assert check_request(bad, POLICY, checks=[]) is None


def test_refusals_carry_the_to_tag_and_extra_headers() -> None:
    response = check_request(request("FOO"), POLICY, to_tag="t9", extra={"server": "s/1"})
    assert response is not None
    assert response.headers["to"].params == {"tag": "t9"}
    assert response.headers["server"] == "s/1"


def test_ack_is_never_refused() -> None:
    ack = request(Method.ACK, uri="mailto:x@y", require=["x"])
    assert check_request(ack, UASPolicy(methods=())) is None


def test_require_is_ignored_in_cancel() -> None:
    assert check_require(request(Method.CANCEL, require=["x"]), POLICY) is None


# -- content and Accept details ----------------------------------------------------------------


def test_content_encoding_and_language() -> None:
    sdp = MediaType(("application", "sdp"), {})
    gz = request(body=b"x", content_type=sdp, content_encoding=["gzip"])
    response = check_content(gz, POLICY)
    assert status_of(response) == 415 and response is not None
    assert response.headers["accept_encoding"] == [TokenParams("identity", {})]
    assert "accept" not in response.headers
    assert check_content(gz, UASPolicy(content_encodings={"gzip"})) is None
    assert (
        check_content(request(body=b"x", content_type=sdp, content_encoding=["identity"]), POLICY)
        is None
    )
    fr = request(body=b"x", content_type=sdp, content_language=["fr"])
    assert check_content(fr, POLICY) is None  # any language by default
    response = check_content(fr, UASPolicy(content_languages={"en", "de"}))
    assert response is not None
    assert response.headers["accept_language"] == [TokenParams("de", {}), TokenParams("en", {})]
    # Type, coding and language wrong at once: one 415 with the three headers.
    all_bad = request(
        body=b"x",
        content_type=MediaType(("text", "x"), {}),
        content_encoding=["br"],
        content_language=["fr"],
    )
    response = check_content(all_bad, UASPolicy(content_languages={"en"}))
    assert response is not None
    assert {"accept", "accept_encoding", "accept_language"} <= set(response.headers)


def test_optional_body_and_missing_type() -> None:
    optional = request(
        body=b"x",
        content_type=MediaType(("text", "x"), {}),
        content_disposition=TokenParams("render", {"handling": "Optional"}),
    )
    assert check_content(optional, POLICY) is None
    untyped = check_content(request(body=b"v=0"), POLICY)
    assert status_of(untyped) == 400
    assert check_content(request(), POLICY) is None  # no body


@pytest.mark.parametrize(
    ("accept", "refused"),
    [
        ([MediaType(("application", "sdp"), {})], False),
        ([MediaType(("application", "*"), {})], False),
        ([MediaType(("*", "*"), {})], False),
        ([MediaType(("text", "html"), {}), MediaType(("application", "sdp"), {"q": "0.5"})], False),
        ([MediaType(("application", "sdp"), {"q": "0"})], True),
        ([MediaType(("text", "*"), {})], True),
        ([], True),  # RFC 3261 §20.1: an empty Accept admits nothing
    ],
)
def test_accept_ranges(accept: list[MediaType], refused: bool) -> None:
    response = check_accept(request(accept=accept), POLICY)
    assert (status_of(response) == 406) is refused
    assert check_accept(request(Method.BYE, accept=accept), POLICY) is None


# -- §8.2.2.2 merged requests ---------------------------------------------------------------


def test_merged_request_is_482_and_the_first_path_is_kept() -> None:
    merged = MergedRequests(window=10.0)
    first = request(branch="z9hG4bKpathA")
    assert check_request(first, POLICY, checks=[Check.MERGED], merged=merged, now=0.0) is None
    # The same request forked back through another proxy: new branch, same ids.
    other = request(branch="z9hG4bKpathB", host="proxy2.example")
    response = check_request(other, POLICY, checks=[Check.MERGED], merged=merged, now=1.0)
    assert status_of(response) == 482
    # The first path again (a retransmission after its transaction ended) is not merged.
    assert not merged.is_merged(first, 2.0)
    # Another CSeq or method is another request; a request in a dialog is never merged.
    assert not merged.is_merged(request(Method.CANCEL, branch="z9hG4bKpathB"), 2.0)
    assert not merged.is_merged(request(branch="z9hG4bKpathC", to_tag="t"), 2.0)
    # After the window the memory is gone.
    assert not merged.is_merged(other, 11.5)
    assert len(merged) == 2  # `other` again, and the CANCEL (remembered at 2.0)


def test_merged_memory_is_bounded() -> None:
    merged = MergedRequests(window=100.0, capacity=3)
    requests = []
    for i in range(5):
        req = request(branch=f"z9hG4bK{i}")
        req.headers["call_id"] = f"call-{i}"
        requests.append(req)
        assert not merged.is_merged(req, float(i))
    assert len(merged) == 3
    # The oldest were pushed out: their forks are no longer recognised.
    fork = requests[0].copy()
    fork.headers["via"] = [request(branch="z9hG4bKother").headers["via"][0]]
    assert not merged.is_merged(fork, 5.0)
    fork4 = requests[4].copy()
    fork4.headers["via"] = [request(branch="z9hG4bKother").headers["via"][0]]
    assert merged.is_merged(fork4, 5.0)
    with pytest.raises(ValueError):
        MergedRequests(capacity=0)


def test_merged_check_needs_its_memory() -> None:
    with pytest.raises(ValueError, match="MergedRequests"):
        check_request(request(), POLICY, checks=[Check.MERGED])
