"""``sippet._native``: core values to Python shapes, errors, limits, the stream framer.

Each typed header kind of ``src/core/model.rs`` is parsed from a real message and checked
against the shape documented in ``sippet.headers`` (class, field values, types), so that a
change on either side of the binding shows up here.
"""

from __future__ import annotations

import datetime
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import sippet
from sippet import (
    URI,
    Auth,
    CSeq,
    DeltaParams,
    Limits,
    MediaType,
    Message,
    Method,
    MimeVersion,
    NameAddr,
    ParseError,
    RAck,
    RequestLine,
    RetryAfter,
    SentBy,
    StatusLine,
    Timestamp,
    TokenParams,
    UriParams,
    Via,
    Warning,
    _native,
)


def request(*headers: str, body: bytes = b"", method: str = "INVITE") -> bytes:
    """A request with the five mandatory headers, the given extra lines, and a body."""
    lines = [
        f"{method} sip:bob@biloxi.example.com SIP/2.0",
        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
        "Max-Forwards: 70",
        "To: Bob <sip:bob@biloxi.example.com>",
        "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.atlanta.example.com",
        f"CSeq: 314159 {method}",
        *headers,
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def headers_of(*lines: str) -> dict[str, object]:
    return Message.parse(request(*lines)).headers


def exact(value: object, cls: type) -> None:
    """``value`` is an instance of exactly ``cls`` (a named tuple, not a plain tuple)."""
    assert type(value) is cls, f"{type(value).__name__} is not {cls.__name__}"


# --- the message and its start line ------------------------------------------------------


def test_request_message_slots() -> None:
    msg = Message.parse(request(body=b"hello"))
    assert type(msg) is Message
    assert msg.wire_order is True
    assert msg.target is None
    assert msg.body == b"hello" and type(msg.body) is bytes
    exact(msg.start_line, RequestLine)
    assert msg.start_line.method is Method.INVITE
    exact(msg.start_line.request_uri, URI)
    assert msg.start_line.request_uri == URI("sip", user="bob", host="biloxi.example.com")
    assert msg.start_line.version == (2, 0)


def test_unknown_method_stays_str() -> None:
    msg = Message.parse(request(method="FOO"))
    assert msg.start_line.method == "FOO"
    assert type(msg.start_line.method) is str
    assert msg.headers["cseq"] == CSeq(314159, "FOO")
    assert type(msg.headers["cseq"].method) is str


def test_status_line() -> None:
    data = (
        b"SIP/2.0 180 Ringing Now\r\n"
        b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
        b"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
        b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
        b"Call-ID: a84b4c76e66710\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    )
    msg = Message.parse(data)
    exact(msg.start_line, StatusLine)
    assert msg.start_line == StatusLine(180, "Ringing Now", (2, 0))
    assert msg.is_response
    assert msg.headers["to"].params == {"tag": "a6c85cf"}


def test_header_order_is_wire_order() -> None:
    headers = headers_of("X-First: 1", "Subject: hi", "X-Last: 2")
    assert list(headers) == [
        "via", "max_forwards", "to", "from", "call_id", "cseq",
        "X-First", "subject", "X-Last", "content_length",
    ]  # fmt: skip


# --- one test per HeaderValue variant ----------------------------------------------------


def test_text_and_int_values() -> None:
    h = headers_of(
        "Subject: Lunch  at noon",
        "User-Agent: ExamplePhone/1.0 (beta)",
        "Organization: Example Org",
        "Server: Srv/2",
        "Priority: urgent",
        "Expires: 3600",
        "Min-Expires: 60",
    )
    assert h["call_id"] == "a84b4c76e66710@pc33.atlanta.example.com"
    assert h["subject"] == "Lunch  at noon"
    assert h["user_agent"] == "ExamplePhone/1.0 (beta)"
    assert h["organization"] == "Example Org"
    assert h["server"] == "Srv/2"
    assert h["priority"] == "urgent"
    for key, expected in (("max_forwards", 70), ("expires", 3600), ("min_expires", 60),
                          ("content_length", 0)):  # fmt: skip
        assert h[key] == expected and type(h[key]) is int


def test_token_lists_and_allow_methods() -> None:
    h = headers_of(
        "Supported: replaces, timer",
        "Require: 100rel",
        "Allow: INVITE, ACK, FOO",
        "Content-Language: en, fr",
        "In-Reply-To: 70710@saturn.bell-tel.com, 17320@saturn.bell-tel.com",
        "Allow-Events: presence, dialog",
    )
    assert h["supported"] == ["replaces", "timer"]
    assert h["require"] == ["100rel"]
    assert h["content_language"] == ["en", "fr"]
    assert h["in_reply_to"] == ["70710@saturn.bell-tel.com", "17320@saturn.bell-tel.com"]
    assert h["allow_events"] == ["presence", "dialog"]
    allow = h["allow"]
    assert isinstance(allow, list)
    assert allow[0] is Method.INVITE and allow[1] is Method.ACK
    assert allow[2] == "FOO" and type(allow[2]) is str


def test_token_params_values() -> None:
    h = headers_of(
        "Event: presence;id=7",
        "Content-Disposition: session;handling=optional",
        "Subscription-State: active;expires=600",
        "Replaces: 425928@bobster.example.org;to-tag=7743;from-tag=6472",
    )
    assert h["event"] == TokenParams("presence", {"id": "7"})
    exact(h["event"], TokenParams)
    assert h["content_disposition"] == ("session", {"handling": "optional"})
    assert h["subscription_state"] == ("active", {"expires": "600"})
    assert h["replaces"] == (
        "425928@bobster.example.org",
        {"to-tag": "7743", "from-tag": "6472"},
    )


def test_token_params_lists() -> None:
    h = headers_of(
        "Accept-Encoding: gzip;q=0.5, identity",
        "Accept-Language: da, en-gb;q=0.8",
        'Reason: SIP;cause=200;text="Call completed elsewhere"',
    )
    assert h["accept_encoding"] == [TokenParams("gzip", {"q": "0.5"}), ("identity", {})]
    for item in h["accept_encoding"]:
        exact(item, TokenParams)
    assert h["accept_language"] == [("da", {}), ("en-gb", {"q": "0.8"})]
    assert h["reason"] == [("SIP", {"cause": "200", "text": "Call completed elsewhere"})]


def test_media_types() -> None:
    h = headers_of(
        "Accept: application/sdp;level=1, text/*",
        "Content-Type: multipart/mixed;boundary=unique-boundary-1",
    )
    ct = h["content_type"]
    exact(ct, MediaType)
    assert ct.media == ("multipart", "mixed")
    assert type(ct.media) is tuple
    assert ct.params == {"boundary": "unique-boundary-1"}
    assert h["accept"] == [
        MediaType(("application", "sdp"), {"level": "1"}),
        MediaType(("text", "*"), {}),
    ]
    exact(h["accept"][1], MediaType)


def test_uri_params_lists() -> None:
    h = headers_of(
        "Call-Info: <http://wwww.example.com/alice/photo.jpg>;purpose=icon",
        "Alert-Info: <http://www.example.com/sounds/moo.wav>",
    )
    (info,) = h["call_info"]
    exact(info, UriParams)
    exact(info.uri, URI)
    assert info.uri.scheme == "http"
    assert info.uri.opaque == "//wwww.example.com/alice/photo.jpg"
    assert info.params == {"purpose": "icon"}
    assert h["alert_info"][0].params == {}


def test_auth_values_one_per_challenge() -> None:
    h = headers_of(
        'WWW-Authenticate: Digest realm="atlanta.com", nonce="84a4cc6f", qop="auth", stale=FALSE',
        'WWW-Authenticate: Digest realm="biloxi.com", nonce="xyz", algorithm=MD5',
        'Authorization: Digest username="bob", realm="biloxi.com", nonce="dcd98b", '
        'uri="sip:bob@biloxi.com", response="245f2341", nc=00000001, qop=auth',
    )
    first, second = h["www_authenticate"]
    exact(first, Auth)
    assert first.scheme == "Digest"
    assert first.params == {"realm": "atlanta.com", "nonce": "84a4cc6f", "qop": "auth",
                            "stale": "FALSE"}  # fmt: skip
    assert second.params["algorithm"] == "MD5"
    (cred,) = h["authorization"]
    assert cred.params["uri"] == "sip:bob@biloxi.com"
    assert cred.params["nc"] == "00000001"


def test_authentication_info_is_params() -> None:
    h = headers_of('Authentication-Info: nextnonce="47364c23432d2e131a5fb210812c", qop=auth')
    assert h["authentication_info"] == {"nextnonce": "47364c23432d2e131a5fb210812c",
                                        "qop": "auth"}  # fmt: skip
    assert type(h["authentication_info"]) is dict


def test_contact_star_and_name_addr_lists() -> None:
    star = Message.parse(request("Contact: *", "Expires: 0", method="REGISTER")).headers
    assert star["contact"] == "*"
    h = headers_of(
        'Contact: "Mr. Watson" <sip:watson@worcester.bell-telephone.com>;q=0.7;expires=3600, '
        "<mailto:watson@bell-telephone.com>;q=0.1",
        "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
        "Record-Route: <sip:p3.example.com;lr>",
        "P-Asserted-Identity: <tel:+15551234567>",
    )
    first, second = h["contact"]
    exact(first, NameAddr)
    assert first.display_name == "Mr. Watson"
    assert first.uri == URI("sip", user="watson", host="worcester.bell-telephone.com")
    assert first.params == {"q": "0.7", "expires": "3600"}
    assert second.display_name == ""
    assert second.uri.scheme == "mailto"
    assert [r.uri.host for r in h["route"]] == ["p1.example.com", "p2.example.com"]
    assert h["route"][0].uri.parameters == {"lr": None}
    assert h["record_route"][0].uri.parameters == {"lr": None}
    assert h["p_asserted_identity"][0].uri == URI("tel", user="+15551234567")


def test_single_name_addrs() -> None:
    h = headers_of(
        "Refer-To: <sip:carol@chicago.example.com?Replaces=abc%40d>",
        "Referred-By: <sip:alice@atlanta.example.com>",
        "Reply-To: Bob <sip:bob@biloxi.example.com>",
    )
    exact(h["from"], NameAddr)
    assert h["from"] == NameAddr(
        "Alice", URI("sip", user="alice", host="atlanta.example.com"), {"tag": "1928301774"}
    )
    assert h["refer_to"].uri.headers == {"Replaces": "abc@d"}
    assert h["referred_by"].display_name == ""
    assert h["reply_to"].display_name == "Bob"


def test_cseq_date_mime_version() -> None:
    h = headers_of("Date: Sat, 13 Nov 2010 23:29:00 GMT", "MIME-Version: 1.0")
    exact(h["cseq"], CSeq)
    assert h["cseq"] == (314159, Method.INVITE)
    assert h["cseq"].method is Method.INVITE
    assert h["date"] == datetime.datetime(2010, 11, 13, 23, 29, 0, tzinfo=datetime.UTC)
    assert h["date"].tzinfo is datetime.UTC
    exact(h["mime_version"], MimeVersion)
    assert h["mime_version"] == (1, 0)


def test_retry_after_timestamp_warning() -> None:
    h = headers_of(
        "Retry-After: 18000 (in a meeting);duration=3600",
        "Timestamp: 54.5 0.25",
        'Warning: 370 devnull "Choose a bigger pipe", 307 isi.edu "Session parameter \'foo\'"',
    )
    exact(h["retry_after"], RetryAfter)
    assert h["retry_after"] == (18000, "in a meeting", {"duration": "3600"})
    exact(h["timestamp"], Timestamp)
    assert h["timestamp"] == (54.5, 0.25)
    assert type(h["timestamp"].timestamp) is float
    first, second = h["warning"]
    exact(first, Warning)
    assert first == (370, "devnull", "Choose a bigger pipe")
    assert second == (307, "isi.edu", "Session parameter 'foo'")


def test_retry_after_and_timestamp_optional_parts() -> None:
    h = headers_of("Retry-After: 120", "Timestamp: 54")
    assert h["retry_after"] == RetryAfter(120, None, {})
    assert h["timestamp"] == Timestamp(54.0, None)


def test_via_values() -> None:
    h = Message.parse(
        request().replace(
            b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
            b"Via: SIP/2.0/tcp [2001:db8::9:1]:5061;branch=z9hG4bKa;"
            b"received=2001:db8::9:255;rport\r\n"
            b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKb",
        )
    ).headers
    first, second = h["via"]
    exact(first, Via)
    assert first.version == (2, 0)
    assert first.protocol == "TCP"
    exact(first.sent_by, SentBy)
    assert first.sent_by == ("2001:db8::9:1", 5061)
    assert first.params == {"branch": "z9hG4bKa", "received": "2001:db8::9:255", "rport": None}
    assert first.branch == "z9hG4bKa"
    assert second.sent_by == SentBy("192.0.2.1", 5060)


def test_via_without_port() -> None:
    (via,) = headers_of()["via"]
    assert via.sent_by == ("pc33.atlanta.example.com", None)


def test_delta_params_and_rack() -> None:
    h = headers_of("Session-Expires: 1800;refresher=uac", "Min-SE: 90", "RAck: 776656 1 INVITE")
    exact(h["session_expires"], DeltaParams)
    assert h["session_expires"] == (1800, {"refresher": "uac"})
    assert h["min_se"] == DeltaParams(90, {})
    exact(h["rack"], RAck)
    assert h["rack"] == (776656, 1, Method.INVITE)
    assert h["rack"].method is Method.INVITE


def test_raw_headers_keep_lines_and_first_name() -> None:
    h = headers_of("X-Custom: a, b", "x-custom: c", "a: *;audio")
    assert h["X-Custom"] == ["a, b", "c"]
    assert "x-custom" not in h
    # Compact `a` (Accept-Contact) is registered but untyped: kept raw under its canonical name.
    assert h["Accept-Contact"] == ["*;audio"]


def test_params_valueless_and_quoted() -> None:
    h = headers_of('Contact: <sip:a@b>;+sip.instance="<urn:uuid:f81d4fae>";reg-id=1;ob')
    assert h["contact"][0].params == {"+sip.instance": "<urn:uuid:f81d4fae>", "reg-id": "1",
                                      "ob": None}  # fmt: skip


def test_compact_forms_use_snake_keys() -> None:
    data = (
        b"OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n"
        b"v: SIP/2.0/UDP h;branch=z9hG4bK1\r\nt: <sip:bob@b>\r\nf: <sip:a@a>;tag=1\r\n"
        b"i: abc\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nk: path\r\nl: 0\r\n\r\n"
    )
    h = Message.parse(data).headers
    assert {"via", "to", "from", "call_id", "supported", "content_length"} <= set(h)
    assert h["supported"] == ["path"]


# --- errors ------------------------------------------------------------------------------


def test_parse_error_carries_reason_status_and_header() -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(request("Max-Forwards: 70"))
    err = info.value
    assert err.reason == "multiple_definition"
    assert err.status_code == 400
    assert err.header == "max_forwards"


def test_unsupported_version_is_505() -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(request().replace(b"SIP/2.0\r\n", b"SIP/7.0\r\n", 1))
    assert info.value.reason == "unsupported_version"
    assert info.value.status_code == 505


def test_reply_headers_on_malformed_request() -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(request("Expires: soon"))
    err = info.value
    assert err.header == "expires"
    reply = err.reply_headers
    assert reply is not None
    assert set(reply) >= {"via", "from", "to", "call_id", "cseq"}
    exact(reply["via"][0], Via)
    exact(reply["from"], NameAddr)
    assert reply["from"].params == {"tag": "1928301774"}
    assert reply["cseq"] == CSeq(314159, Method.INVITE)
    assert reply["call_id"] == "a84b4c76e66710@pc33.atlanta.example.com"


def test_date_beyond_datetime_is_a_parse_error() -> None:
    # The grammar's 4DIGIT year admits 0000, which datetime cannot hold.
    with pytest.raises(ParseError) as info:
        Message.parse(request("Date: Sat, 13 Nov 0000 23:29:00 GMT"))
    assert info.value.reason == "invalid_date"
    assert info.value.header == "date"
    assert info.value.status_code == 400


def test_no_reply_headers_for_garbage() -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(b"this is not SIP\r\n\r\n")
    assert info.value.reply_headers is None
    assert info.value.status_code == 400


def test_parse_uri_error() -> None:
    with pytest.raises(ParseError) as info:
        URI.parse("sip:")
    assert info.value.reason == "invalid_uri"


def test_parse_error_is_a_value_error_and_pickles() -> None:
    with pytest.raises(ValueError) as info:
        Message.parse(b"INVITE\r\n\r\n")
    again = pickle.loads(pickle.dumps(info.value))
    assert isinstance(again, ParseError)
    assert again.reason == info.value.reason


# --- input types and limits --------------------------------------------------------------


def test_bytes_like_inputs() -> None:
    data = request()
    expected = Message.parse(data)
    assert _native.parse_message(bytearray(data), sippet.DEFAULT_LIMITS) == expected
    assert _native.parse_message(memoryview(data), sippet.DEFAULT_LIMITS) == expected
    with pytest.raises(TypeError):
        _native.parse_message(data.decode(), sippet.DEFAULT_LIMITS)  # type: ignore[arg-type]


def test_str_input_via_message_parse() -> None:
    assert Message.parse(request().decode()) == Message.parse(request())


def test_limits_are_applied() -> None:
    data = request(body=b"x" * 100)
    with pytest.raises(ParseError) as info:
        Message.parse(data, Limits(max_message_size=len(data) - 1))
    assert info.value.reason == "message_too_large"
    assert info.value.status_code == 513
    assert Message.parse(data, Limits(max_message_size=len(data))).body == b"x" * 100
    with pytest.raises(ParseError) as info:
        Message.parse(data, Limits(max_header_count=3))
    assert info.value.reason == "too_many_headers"


def test_limits_look_alike_object() -> None:
    class Mine:
        max_message_size = 10
        max_header_count = 256
        max_line_length = 8192
        max_via_count = 70
        max_stream_buffer = 131_072

    with pytest.raises(ParseError) as info:
        _native.parse_message(request(), Mine())  # type: ignore[arg-type]
    assert info.value.reason == "message_too_large"


def test_limits_keep_dataclass_behaviour() -> None:
    limits = Limits(max_via_count=5)
    assert limits == Limits(max_via_count=5)
    assert limits != Limits()
    assert hash(limits) == hash(Limits(max_via_count=5))
    assert "_native" not in repr(limits)
    again = pickle.loads(pickle.dumps(limits))
    assert again == limits
    vias = "\r\n".join(f"Via: SIP/2.0/UDP h{i};branch=z9hG4bK{i}" for i in range(6))
    with pytest.raises(ParseError) as info:
        Message.parse(request(vias), again)
    assert info.value.reason == "too_many_vias"


def test_register_types_rejects_other_classes() -> None:
    with pytest.raises(RuntimeError):
        _native.register_types({"Message": dict})


# --- stream framer -----------------------------------------------------------------------


def test_framer_splits_and_reassembles() -> None:
    one = request(body=b"v=0\r\n")
    two = request(method="OPTIONS")
    framer = _native.StreamFramer(sippet.DEFAULT_LIMITS)
    stream = one + two
    frames: list[bytes] = []
    for i in range(0, len(stream), 7):
        frames += framer.feed(stream[i : i + 7])
    assert frames == [one, two]
    assert framer.buffered == 0
    assert Message.parse(frames[0]).body == b"v=0\r\n"


def test_framer_keepalives() -> None:
    framer = _native.StreamFramer(sippet.DEFAULT_LIMITS)
    assert framer.feed(b"\r\n\r\n") == [b"\r\n\r\n"]
    msg = request()
    assert framer.feed(msg + b"\r\n\r\n") == [msg, b"\r\n\r\n"]
    client = _native.StreamFramer(sippet.DEFAULT_LIMITS, eager_pong=True)
    assert client.feed(b"\r\n") == [b"\r\n"]


def test_framer_accepts_bytearray_and_memoryview() -> None:
    msg = request()
    framer = _native.StreamFramer(sippet.DEFAULT_LIMITS)
    assert framer.feed(bytearray(msg[:10])) == []
    assert framer.feed(memoryview(msg)[10:]) == [msg]


def test_framer_errors_are_parse_errors_and_sticky() -> None:
    framer = _native.StreamFramer(sippet.DEFAULT_LIMITS)
    no_length = request().replace(b"Content-Length: 0\r\n", b"")
    with pytest.raises(ParseError) as info:
        framer.feed(no_length)
    assert info.value.reason == "missing_content_length"
    assert framer.error is not None
    assert framer.error.reason == "missing_content_length"
    with pytest.raises(ParseError):
        framer.feed(request())


def test_framer_keeps_frames_completed_before_an_error() -> None:
    framer = _native.StreamFramer(sippet.DEFAULT_LIMITS)
    assert framer.error is None
    good = request()
    no_length = request().replace(b"Content-Length: 0\r\n", b"")
    # Two good messages and a ping, then a message the framer cannot delimit, in one read.
    assert framer.feed(good + good + b"\r\n\r\n" + no_length) == [good, good, b"\r\n\r\n"]
    assert isinstance(framer.error, ParseError)
    assert framer.error.reason == "missing_content_length"
    assert framer.error.status_code == 400
    assert framer.buffered == 0
    with pytest.raises(ParseError) as info:
        framer.feed(good)
    assert info.value.reason == "missing_content_length"


def test_framer_bounds_memory() -> None:
    framer = _native.StreamFramer(Limits(max_message_size=1000, max_stream_buffer=2000))
    big = request(body=b"x" * 2000)
    with pytest.raises(ParseError) as info:
        framer.feed(big)
    assert info.value.reason == "message_too_large"
    assert info.value.status_code == 513


_DRIFT_CHECK = """
import importlib.util, shutil, sys
import sippet._registry as registry

# A second copy of the extension has its own (empty) type registry.
copy = shutil.copy(sippet_native_path, sys.argv[1])
spec = importlib.util.spec_from_file_location("_native", copy)
fresh = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fresh)
captured = {}
registry._native = type("Capture", (), {"register_types": staticmethod(captured.update)})
registry.register()
good = captured["typed_keys"]
captured["typed_keys"] = [k for k in good if k != "rack"] + ["x_new"]
try:
    fresh.register_types(captured)
except RuntimeError as exc:
    print(exc)
captured["typed_keys"] = good
fresh.register_types(captured)
print("registered")
"""


def test_native_core_refuses_typed_headers_that_drift_from_python(tmp_path: Path) -> None:
    # sippet.headers.HEADER_SHAPES and the core's table must list the same typed headers;
    # a drift is reported at import rather than leaving a header silently untyped.
    script = f"sippet_native_path = {sippet._native.__file__!r}\n" + _DRIFT_CHECK
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "_native.so")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    refused, registered = result.stdout.splitlines()
    assert 'only in sippet.headers ["x_new"]' in refused
    assert 'only in the native core ["rack"]' in refused
    assert registered == "registered"  # the same registration, without the drift
