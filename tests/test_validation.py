"""sippet.validation: the rules a parsed message must meet before the transaction layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sippet import (
    URI,
    CSeq,
    Message,
    Method,
    NameAddr,
    RequestLine,
    SentBy,
    StatusLine,
    ValidationError,
    Via,
)
from sippet.validation import is_valid, validate


def sip(user: str | None, host: str) -> URI:
    return URI("sip", user=user, host=host)


def make_request(
    method: Method | str = Method.OPTIONS,
    cseq_method: Method | str | None = None,
    branch: str | None = "z9hG4bK74bf9",
    from_params: dict[str, str | None] | None = None,
    **extra: Any,
) -> Message:
    via_params: dict[str, str | None] = {} if branch is None else {"branch": branch}
    headers: dict[str, Any] = {
        "via": [Via((2, 0), "UDP", SentBy("pc33.atlanta.com", None), via_params)],
        "to": NameAddr("", sip("bob", "biloxi.com"), {}),
        "from": NameAddr(
            "",
            sip("alice", "atlanta.com"),
            {"tag": "9fxced76sl"} if from_params is None else from_params,
        ),
        "call_id": "3848276298220188511@atlanta.example.com",
        "cseq": CSeq(1, method if cseq_method is None else cseq_method),
        "max_forwards": 70,
    }
    headers.update(extra)
    return Message(RequestLine(method, sip("bob", "biloxi.com")), headers)


def make_response(**extra: Any) -> Message:
    response = make_request(Method.INVITE).to_response(200, to_tag="8321234356")
    response.headers.update(extra)
    return response


def reject(message: Message, reason: str, status_code: int = 400, **kwargs: Any) -> None:
    with pytest.raises(ValidationError) as info:
        message.validate(**kwargs)
    assert info.value.reason == reason
    assert info.value.status_code == status_code
    assert not message.is_valid(**kwargs)
    assert not is_valid(message, **kwargs)


def test_a_complete_request_and_response_are_valid() -> None:
    for message in (make_request(), make_response(), make_request(Method.INVITE)):
        message.validate()
        message.validate("UDP")
        validate(message, "udp")
        assert message.is_valid()
        assert message.is_valid("UDP")


def test_version_must_be_2_0() -> None:
    request = make_request()
    request.start_line = request.start_line._replace(version=(7, 0))
    reject(request, "unsupported_version", 505)
    response = make_response()
    response.start_line = StatusLine(200, "OK", (1, 0))
    reject(response, "unsupported_version", 505)


@pytest.mark.parametrize("key", ["to", "from", "cseq", "call_id", "via"])
def test_required_headers(key: str) -> None:
    request = make_request()
    del request.headers[key]
    reject(request, "missing_header")
    response = make_response()
    del response.headers[key]
    reject(response, "missing_header")


def test_empty_via_list_is_missing() -> None:
    reject(make_request(via=[]), "missing_header")


def test_missing_header_message_names_them_all() -> None:
    # RFC 4475 §3.3.1 insuf: no Call-ID, From or To.
    request = make_request()
    for key in ("call_id", "from", "to"):
        del request.headers[key]
    with pytest.raises(ValidationError, match="To, From, Call-ID"):
        request.validate()


def test_max_forwards_is_not_required() -> None:
    request = make_request()
    del request.headers["max_forwards"]
    request.validate()


def test_content_length_must_equal_body_bytes() -> None:
    request = make_request(content_length=4)
    request.body = "añb".encode()  # 4 bytes, 3 characters
    request.validate()
    request.headers["content_length"] = 3
    reject(request, "content_length_mismatch")
    request.headers["content_length"] = 0
    reject(request, "content_length_mismatch")


def test_content_length_absent_is_fine() -> None:
    request = make_request()
    request.body = b"v=0\r\n"
    request.validate()


def test_from_tag_required() -> None:
    reject(make_request(from_params={}), "missing_from_tag")
    reject(make_request(from_params={"tag": ""}), "missing_from_tag")
    reject(make_request(from_params={"tag": None}), "missing_from_tag")
    # A response may echo an untagged From (its request's, §8.2.6.2), never an empty tag.
    response = make_response()
    response.headers["from"] = response.headers["from"]._replace(params={"tag": ""})
    reject(response, "missing_from_tag")
    response.headers["from"] = response.headers["from"]._replace(params={"tag": None})
    reject(response, "missing_from_tag")


def test_response_to_an_untagged_from_goes_out() -> None:
    # RFC 4475 §3.4.1 inv2543: the request has no From tag; its responses copy that From
    # (§8.2.6.2) and must still pass, or the request could never be answered.
    request = make_request(Method.INVITE, branch=None, from_params={})
    for status in (100, 180, 200, 486):
        response = request.to_response(status)
        assert "tag" not in response.headers["from"].params
        assert "tag" in response.headers["to"].params or status == 100
        response.validate()
    # Also when the request came through an RFC 3261 proxy (its Via on top has the cookie).
    response = make_request(from_params={}).to_response(200)
    response.validate()
    # An element that refuses RFC 2543 peers refuses such responses too.
    reject(response, "missing_from_tag", allow_rfc2543=False)


def test_rfc2543_request_may_omit_the_from_tag() -> None:
    # RFC 4475 §3.4.1 inv2543: no branch at all, no From tag, no Max-Forwards.
    request = make_request(Method.INVITE, branch=None, from_params={})
    del request.headers["max_forwards"]
    request.validate()
    request.validate("UDP")
    # A branch without the magic cookie is a 2543 branch as well.
    make_request(branch="2543branch", from_params={}).validate("UDP")
    # Unless the caller refuses 2543 peers.
    reject(request, "missing_from_tag", allow_rfc2543=False)
    # An RFC 3261 peer (magic cookie) must tag From.
    reject(make_request(from_params={}), "missing_from_tag")


def test_rfc2543_origin_is_the_bottom_via() -> None:
    # A 2543 UAC behind an RFC 3261 proxy: the proxy's Via (cookie) is on top, the UAC's
    # (no cookie) at the bottom. The UAC decides about the From tag (§12.1.1).
    request = make_request(branch="z9hG4bKproxy1", from_params={})
    uac_via = Via((2, 0), "UDP", SentBy("uac.example.com", None), {"branch": "2543uac"})
    request.headers["via"].append(uac_via)
    request.validate("UDP")
    reject(request, "missing_from_tag", allow_rfc2543=False)
    # The other way round (a 3261 UAC behind a 2543 proxy) the UAC had to tag From.
    request = make_request(branch="2543proxy", from_params={})
    request.headers["via"].append(uac_via._replace(params={"branch": "z9hG4bKuac"}))
    reject(request, "missing_from_tag")


def test_cseq_method_must_equal_request_method() -> None:
    # RFC 4475 §3.1.2.17 mismatch01: OPTIONS with CSeq INVITE -> 400.
    reject(make_request(Method.OPTIONS, Method.INVITE), "cseq_method_mismatch", 400)
    # RFC 4475 §3.1.2.18 mismatch02: an unknown method with a CSeq mismatch -> 501.
    reject(make_request("NEWMETHOD", Method.INVITE), "cseq_method_mismatch", 501)
    make_request("NEWMETHOD", "NEWMETHOD").validate()
    # Methods are case-sensitive (RFC 3261 §7.1).
    reject(make_request("NEWMETHOD", "newmethod"), "cseq_method_mismatch", 501)


def test_responses_do_not_compare_cseq_with_a_method() -> None:
    make_response(cseq=CSeq(1, Method.BYE)).validate()


def test_transport_must_match_top_via_protocol() -> None:
    request = make_request()
    request.validate("UDP")
    request.validate("udp")
    reject(request, "via_protocol_mismatch", transport="TCP")
    response = make_response()
    reject(response, "via_protocol_mismatch", transport="TLS")


def test_transport_checks_the_top_via_only() -> None:
    request = make_request()
    request.headers["via"].append(Via((2, 0), "TCP", SentBy("old.example.com", None), {}))
    request.validate("UDP")


def test_transport_top_via_version() -> None:
    request = make_request()
    request.headers["via"][0] = request.headers["via"][0]._replace(version=(3, 0))
    request.validate()
    reject(request, "via_version_mismatch", transport="UDP")


def test_transport_bare_magic_cookie_branch_is_rejected() -> None:
    # RFC 4475 §3.2.1 badbranch: the branch is exactly "z9hG4bK".
    request = make_request(branch="z9hG4bK")
    request.validate()
    reject(request, "invalid_branch", transport="UDP")


def test_transport_cookie_required_when_rfc2543_refused() -> None:
    request = make_request(branch="1234")
    request.validate("UDP")
    reject(request, "invalid_branch", transport="UDP", allow_rfc2543=False)
    reject(make_request(branch=None), "invalid_branch", transport="UDP", allow_rfc2543=False)
    make_request().validate("UDP", allow_rfc2543=False)


def test_malformed_header_values_are_reported_not_crashed_on() -> None:
    bad_from: dict[str, Any] = {"from": "alice"}
    reject(make_request(**bad_from), "invalid_header")
    reject(make_request(cseq=7), "invalid_header")


# -- RFC 4475 messages, parsed -------------------------------------------------------------

DATA = Path(__file__).parent / "data" / "rfc4475"


def torture(name: str) -> Message:
    return Message.parse((DATA / f"{name}.dat").read_bytes())


def test_rfc4475_inv2543_is_accepted_as_a_2543_request() -> None:
    # §3.4.1: no branch, no From tag, no Max-Forwards, no Content-Length.
    message = torture("inv2543")
    message.validate()
    message.validate("UDP")
    with pytest.raises(ValidationError) as info:
        message.validate("UDP", allow_rfc2543=False)
    assert info.value.reason == "missing_from_tag"


def test_rfc4475_wsinv_top_via_branch_without_cookie_is_a_2543_branch() -> None:
    message = torture("wsinv")
    message.validate("UDP")
    with pytest.raises(ValidationError) as info:
        message.validate("UDP", allow_rfc2543=False)
    assert info.value.reason == "invalid_branch"


def test_rfc4475_badbranch() -> None:
    # §3.2.1: the branch is the bare cookie; the syntax is fine.
    message = torture("badbranch")
    message.validate()
    with pytest.raises(ValidationError) as info:
        message.validate("UDP")
    assert (info.value.reason, info.value.status_code) == ("invalid_branch", 400)


@pytest.mark.parametrize(
    ("name", "reason", "status_code"),
    [
        ("insuf", "missing_header", 400),
        ("mismatch01", "cseq_method_mismatch", 400),
        ("mismatch02", "cseq_method_mismatch", 501),
    ],
)
def test_rfc4475_semantic_errors(name: str, reason: str, status_code: int) -> None:
    message = torture(name)
    with pytest.raises(ValidationError) as info:
        message.validate()
    assert (info.value.reason, info.value.status_code) == (reason, status_code)


def test_rfc4475_insuf_can_still_be_answered() -> None:
    request = torture("insuf")
    response = request.to_response(400)
    again = Message.parse(bytes(response))
    assert again.headers["via"] == request.headers["via"]
    assert again.headers["cseq"] == request.headers["cseq"]


def test_rfc4475_transport_mismatch() -> None:
    message = torture("longreq")  # top Via is TCP
    message.validate("TCP")
    with pytest.raises(ValidationError) as info:
        message.validate("UDP")
    assert info.value.reason == "via_protocol_mismatch"
