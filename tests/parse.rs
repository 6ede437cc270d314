//! Message-level behaviour of `parse_message` beyond the torture files: line endings,
//! framing of datagrams, limits, header merging, every typed header shape.

use _native::core::error::reasons;
use _native::core::limits::Limits;
use _native::core::model::{HeaderKey, HeaderValue, Message, StartLine};
use _native::core::parse::parse_message;

fn parse(s: &str) -> Result<Message, _native::core::error::ParseFailure> {
    parse_message(s.as_bytes(), &Limits::default())
}

fn reason(s: &str) -> &'static str {
    match parse(s) {
        Ok(m) => panic!("parsed: {m:?}"),
        Err(e) => e.reason,
    }
}

fn get<'a>(m: &'a Message, key: &str) -> &'a HeaderValue {
    m.headers
        .iter()
        .find(|(k, _)| match k {
            HeaderKey::Known(k) => *k == key,
            HeaderKey::Raw(n) => n == key,
        })
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {:?}", m.headers))
}

const HEAD: &str = "OPTIONS sip:bob@example.com SIP/2.0\r\n\
    Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n\
    From: Alice <sip:alice@example.com>;tag=1928301774\r\n\
    To: <sip:bob@example.com>\r\n\
    Call-ID: a84b4c76e66710@pc33.example.com\r\n\
    CSeq: 63104 OPTIONS\r\n";

fn with(extra: &str) -> String {
    format!("{HEAD}{extra}Content-Length: 0\r\n\r\n")
}

pub const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport\r\n\
Max-Forwards: 70\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
Call-ID: 3848276298220188511@atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@client.atlanta.example.com;transport=udp>\r\n\
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO\r\n\
Supported: replaces, timer, 100rel\r\n\
User-Agent: sippet-bench/1.0\r\n\
Subject: Performance test\r\n\
X-Custom-Header: some opaque value\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 151\r\n\
\r\n\
v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\r\n\
s=-\r\n\
c=IN IP4 192.0.2.101\r\n\
t=0 0\r\n\
m=audio 49172 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n";

#[test]
fn typical_invite() {
    let m = parse(INVITE).unwrap();
    assert_eq!(m.headers.len(), 14);
    assert_eq!(m.body.len(), 151);
    assert_eq!(
        get(&m, "supported"),
        &HeaderValue::Tokens(vec!["replaces".into(), "timer".into(), "100rel".into()])
    );
    let HeaderValue::Tokens(allow) = get(&m, "allow") else {
        panic!()
    };
    assert_eq!(allow.len(), 10);
    assert_eq!(
        get(&m, "X-Custom-Header"),
        &HeaderValue::Raw(vec!["some opaque value".into()])
    );
    assert_eq!(
        get(&m, "content_type"),
        &HeaderValue::MediaType(Box::new(("application".into(), "sdp".into(), vec![])))
    );
    let HeaderValue::Via(v) = get(&m, "via") else {
        panic!()
    };
    assert_eq!(v[0].port, Some(5060));
    assert_eq!(v[0].params[1], ("rport".into(), None));
}

#[test]
fn line_endings_and_leading_crlf() {
    let (head, body) = INVITE.split_once("\r\n\r\n").unwrap();
    let lf = format!("{}\n\n{body}", head.replace("\r\n", "\n"));
    let m = parse(&lf).unwrap();
    // The body is what follows the empty line, byte for byte.
    assert_eq!(m.body, body.as_bytes());
    let m2 = parse(&format!("\r\n\r\n{}", with(""))).unwrap();
    assert!(matches!(m2.start_line, StartLine::Request { .. }));
    let mixed = with("Subject: x\n").replacen("\r\n", "\n", 2);
    assert_eq!(
        get(&parse(&mixed).unwrap(), "subject"),
        &HeaderValue::Text("x".into())
    );
    assert_eq!(reason("\r\n\r\n"), reasons::EMPTY_MESSAGE);
    assert_eq!(reason(""), reasons::EMPTY_MESSAGE);
}

#[test]
fn end_of_header_section() {
    // Ends right after a complete header line: accepted, empty body.
    let m = parse(&format!("{HEAD}Content-Length: 0\r\n")).unwrap();
    assert!(m.body.is_empty());
    let m = parse(HEAD).unwrap();
    assert!(m.body.is_empty());
    assert_eq!(
        reason(&format!("{HEAD}Content-Length: 0")),
        reasons::TRUNCATED_MESSAGE
    );
    assert_eq!(
        reason("OPTIONS sip:a@b SIP/2.0"),
        reasons::TRUNCATED_MESSAGE
    );
    assert_eq!(
        reason(&format!("{HEAD}Subject: a\r\n b")),
        reasons::TRUNCATED_MESSAGE
    );
    // Announced body missing.
    assert_eq!(
        reason(&format!("{HEAD}Content-Length: 5\r\n")),
        reasons::CONTENT_LENGTH_MISMATCH
    );
}

#[test]
fn body_framing() {
    let m = parse(&format!("{HEAD}Content-Length: 3\r\n\r\nabcdef")).unwrap();
    assert_eq!(m.body, b"abc");
    let m = parse(&format!("{HEAD}\r\nabcdef")).unwrap();
    assert_eq!(m.body, b"abcdef");
    assert_eq!(
        reason(&format!("{HEAD}Content-Length: 7\r\n\r\nabcdef")),
        reasons::CONTENT_LENGTH_MISMATCH
    );
    assert_eq!(
        reason(&format!("{HEAD}l: five\r\n\r\n")),
        reasons::INVALID_CONTENT_LENGTH
    );
    assert_eq!(
        reason(&format!("{HEAD}l: 99999999999999999999\r\n\r\n")),
        reasons::VALUE_OUT_OF_RANGE
    );
}

#[test]
fn start_lines() {
    assert_eq!(
        reason("SIP/2.0 099 Low\r\n\r\n"),
        reasons::INVALID_STATUS_CODE
    );
    assert_eq!(
        reason("SIP/2.0 700 High\r\n\r\n"),
        reasons::INVALID_STATUS_CODE
    );
    assert_eq!(
        reason("SIP/2.0 20 OK\r\n\r\n"),
        reasons::INVALID_STATUS_CODE
    );
    assert_eq!(
        reason("SIP/2.0 2x0 OK\r\n\r\n"),
        reasons::INVALID_STATUS_CODE
    );
    let m = parse("sip/2.0 180\r\n\r\n").unwrap();
    assert_eq!(
        m.start_line,
        StartLine::Status {
            version: (2, 0),
            code: 180,
            reason: String::new()
        }
    );
    let m = parse("SIP/2.0 486 Busy  Here \r\n\r\n").unwrap();
    assert!(
        matches!(m.start_line, StartLine::Status { ref reason, .. } if reason == "Busy  Here ")
    );
    assert_eq!(
        reason("SIP/2.0x 200 OK\r\n\r\n"),
        reasons::MALFORMED_VERSION
    );
    assert_eq!(
        reason("SIP/3.0 200 OK\r\n\r\n"),
        reasons::UNSUPPORTED_VERSION
    );
    assert_eq!(
        reason("OPTIONS sip:a@b SIP/2\r\n\r\n"),
        reasons::MALFORMED_VERSION
    );
    assert_eq!(
        reason("OPTIONS sip:a@b HTTP/1.1\r\n\r\n"),
        reasons::MALFORMED_VERSION
    );
    assert_eq!(
        reason("INV@ITE sip:a@b SIP/2.0\r\n\r\n"),
        reasons::INVALID_METHOD
    );
    assert_eq!(
        reason("OPTIONS sip:a@b SIP/2.0 \r\n\r\n"),
        reasons::MALFORMED_START_LINE
    );
    assert_eq!(
        reason("OPTIONS\tsip:a@b SIP/2.0\r\n\r\n"),
        reasons::MALFORMED_START_LINE
    );
    assert_eq!(
        reason("OPTIONS sip:a@b?x=y SIP/2.0\r\n\r\n"),
        reasons::REQUEST_URI_HEADERS
    );
    let m = parse("options tel:+1-555 SIP/2.0\r\n\r\n").unwrap();
    assert!(matches!(m.start_line, StartLine::Request { ref method, .. } if method == "options"));
}

#[test]
fn limits() {
    let small = Limits {
        max_message_size: 100,
        ..Limits::default()
    };
    let e = parse_message(with("").as_bytes(), &small).unwrap_err();
    assert_eq!((e.reason, e.status_code), (reasons::MESSAGE_TOO_LARGE, 513));

    let few = Limits {
        max_header_count: 6,
        ..Limits::default()
    };
    assert!(parse_message(with("").as_bytes(), &few).is_ok());
    let e = parse_message(with("Subject: x\r\n").as_bytes(), &few).unwrap_err();
    assert_eq!(e.reason, reasons::TOO_MANY_HEADERS);

    let short = Limits {
        max_line_length: 60,
        ..Limits::default()
    };
    let e = parse_message(with("Subject: a\r\n  b\r\n  c\r\n").as_bytes(), &short);
    assert!(e.is_ok());
    let folded = format!("Subject: {}\r\n {}\r\n", "a".repeat(30), "b".repeat(30));
    assert_eq!(
        parse_message(with(&folded).as_bytes(), &short)
            .unwrap_err()
            .reason,
        reasons::LINE_TOO_LONG
    );
    let long_start = format!("OPTIONS sip:{}@b SIP/2.0\r\n\r\n", "a".repeat(60));
    assert_eq!(
        parse_message(long_start.as_bytes(), &short)
            .unwrap_err()
            .reason,
        reasons::LINE_TOO_LONG
    );

    let vias = Limits {
        max_via_count: 2,
        ..Limits::default()
    };
    let two = with("Via: SIP/2.0/TCP b;branch=z9hG4bK2\r\n");
    assert!(parse_message(two.as_bytes(), &vias).is_ok());
    let three = with("Via: SIP/2.0/TCP b;branch=z9hG4bK2, SIP/2.0/TCP c\r\n");
    let e = parse_message(three.as_bytes(), &vias).unwrap_err();
    assert_eq!(
        (e.reason, e.header.as_deref()),
        (reasons::TOO_MANY_VIAS, Some("via"))
    );
}

#[test]
fn header_lines() {
    assert_eq!(reason(&with("NoColonHere\r\n")), reasons::INVALID_HEADER);
    // A lone CR is never part of a value (RFC 3261 §25.1).
    assert_eq!(reason(&with("Subject: a\rb\r\n")), reasons::INVALID_HEADER);
    assert_eq!(
        reason(&with("Subject: a\r\n b\rc\r\n")),
        reasons::INVALID_HEADER
    );
    assert_eq!(
        reason("SIP/2.0 200 O\rK\r\n\r\n"),
        reasons::MALFORMED_START_LINE
    );
    // Lists whose grammar needs an element may not be empty (they would vanish when
    // written back); those that allow it give an empty list.
    for name in [
        "Require",
        "Proxy-Require",
        "Unsupported",
        "Content-Encoding",
        "Allow-Events",
        "In-Reply-To",
        "Reason",
        "Privacy",
    ] {
        assert_eq!(
            reason(&with(&format!("{name}:\r\n"))),
            reasons::INVALID_HEADER,
            "{name}"
        );
    }
    let m = parse(&with(
        "Supported:\r\nAllow:\r\nAccept:\r\nAccept-Encoding:\r\nAccept-Language:\r\n",
    ))
    .unwrap();
    assert_eq!(get(&m, "supported"), &HeaderValue::Tokens(vec![]));
    assert_eq!(get(&m, "accept"), &HeaderValue::MediaTypeList(vec![]));
    assert_eq!(
        get(&m, "accept_language"),
        &HeaderValue::TokenParamsList(vec![])
    );
    assert_eq!(reason(&with("Bad Name: x\r\n")), reasons::INVALID_HEADER);
    assert_eq!(
        reason("OPTIONS sip:a@b SIP/2.0\r\n folded: x\r\n\r\n"),
        reasons::INVALID_HEADER
    );
    assert_eq!(
        reason(&with("Call-ID: again\r\n")),
        reasons::MULTIPLE_DEFINITION
    );
    assert_eq!(
        reason(&with("Content-Type: a/b\r\nc: a/b\r\n")),
        reasons::MULTIPLE_DEFINITION
    );
    assert_eq!(
        reason(&with("Contact: *\r\nContact: <sip:a@b>\r\n")),
        reasons::INVALID_HEADER
    );
    assert_eq!(
        reason(&with("Contact: <sip:a@b>, *\r\n")),
        reasons::INVALID_URI
    );

    // Unknown headers: merged case-insensitively under the first wire name, one string
    // per line, never split.
    let m = parse(&with("X-Foo: a, b\r\nx-foo: c\r\nX-FOO:\r\n")).unwrap();
    assert_eq!(
        get(&m, "X-Foo"),
        &HeaderValue::Raw(vec!["a, b".into(), "c".into(), "".into()])
    );
    // Registered, untyped: canonical name, compact and long forms merged.
    let m = parse(&with(
        "a: *;audio\r\nAccept-Contact: *;video\r\nj: *;x\r\nd: proxy\r\ny: abc\r\n",
    ))
    .unwrap();
    assert_eq!(
        get(&m, "Accept-Contact"),
        &HeaderValue::Raw(vec!["*;audio".into(), "*;video".into()])
    );
    assert_eq!(
        get(&m, "Reject-Contact"),
        &HeaderValue::Raw(vec!["*;x".into()])
    );
    assert_eq!(
        get(&m, "Request-Disposition"),
        &HeaderValue::Raw(vec!["proxy".into()])
    );
    assert_eq!(get(&m, "Identity"), &HeaderValue::Raw(vec!["abc".into()]));
    // Lists merged across lines in order.
    let m = parse(&with(
        "Route: <sip:p1;lr>\r\nSupported: a\r\nRoute: <sip:p2;lr>, <sip:p3;lr>\r\nk: b\r\n",
    ))
    .unwrap();
    let HeaderValue::NameAddrList(r) = get(&m, "route") else {
        panic!()
    };
    let hosts: Vec<_> = r.iter().map(|n| n.uri.host.clone().unwrap()).collect();
    assert_eq!(hosts, ["p1", "p2", "p3"]);
    assert_eq!(
        get(&m, "supported"),
        &HeaderValue::Tokens(vec!["a".into(), "b".into()])
    );
}

/// `text` with `\u{e9}` (`é`) replaced by the given octets.
fn with_octets(text: &str, octets: &[u8]) -> Vec<u8> {
    let mut raw = text.as_bytes().to_vec();
    let i = raw.windows(2).position(|w| w == [0xc3, 0xa9]).unwrap();
    raw.splice(i..i + 2, octets.iter().copied());
    raw
}

#[test]
fn header_section_must_be_utf8() {
    // RFC 3261 §25.1: TEXT-UTF8 / UTF8-NONASCII are well-formed UTF-8.
    let m = parse(&with("Subject: caf\u{e9} \u{263a}\r\n")).unwrap();
    assert_eq!(
        get(&m, "subject"),
        &HeaderValue::Text("caf\u{e9} \u{263a}".into())
    );
    let body = "\r\nContent-Length: 0\r\n\r\n";
    for (text, octets) in [
        (with("Subject: caf\u{e9}\r\n"), &b"\xe9"[..]),
        (with("Subject: caf\u{e9}\r\n"), b"\xc3"),
        (with("Subject: caf\u{e9}\r\n"), b"\xed\xa0\x80"), // a surrogate
        (with("Subject: caf\u{e9}\r\n"), b"\xc0\xaf"),     // overlong
        (with("X-Raw: \u{e9}\r\n"), b"\xff\xfe"),
        (with("X-\u{e9}: 1\r\n"), b"\x80"),
        (
            with("Reply-To: \"\u{e9}\" <sip:c@example.com>\r\n"),
            b"\xff",
        ),
        (with("Subject: a\r\n \u{e9}\r\n"), b"\xff"), // a folded line
        (format!("{HEAD}Subject: \u{e9}"), b"\xe9"),  // no empty line
        (format!("{HEAD}Subject: \u{e9}\r\n"), b"\xe9"),
        (
            "SIP/2.0 200 caf\u{e9}\r\nCall-ID: x\r\n\r\n".to_owned(),
            b"\xe9",
        ),
        (format!("OPTIONS sip:\u{e9}@h SIP/2.0{body}"), b"\xe9"),
        ("OPTIONS sip:\u{e9}@h SIP/2.0\r\n\r\n".to_owned(), b"\xe9"),
    ] {
        let raw = with_octets(&text, octets);
        let e = parse_message(&raw, &Limits::default()).unwrap_err();
        assert_eq!(
            (e.reason, e.status_code),
            (reasons::INVALID_UTF8, 400),
            "{}",
            String::from_utf8_lossy(&raw)
        );
    }
    // A request still offers what a stateless 400 needs (RFC 3261 §8.2.6).
    let raw = with_octets(&with("Subject: caf\u{e9}\r\n"), b"\xe9");
    let e = parse_message(&raw, &Limits::default()).unwrap_err();
    assert_eq!(e.reply_headers.len(), 5);
    // ... leaving out a value that is not UTF-8 itself.
    let raw = with_octets(
        "OPTIONS sip:b@h SIP/2.0\r\nCall-ID: \u{e9}\r\nCSeq: 1 OPTIONS\r\n\r\n",
        b"\xe9",
    );
    let e = parse_message(&raw, &Limits::default()).unwrap_err();
    assert_eq!(
        e.reply_headers,
        vec![(
            HeaderKey::Known("cseq"),
            HeaderValue::CSeq(1, "OPTIONS".into())
        )]
    );
}

#[test]
fn body_may_hold_any_octets() {
    // RFC 4475 mpart01: a binary body part.
    for end in ["\r\n\r\n", "\n\n", "\r\n\n", "\n\r\n"] {
        let text = format!(
            "{}Content-Length: 4{end}\u{e9}\u{e9}",
            HEAD.replace("\r\n", "\n")
        );
        let raw = with_octets(&text, b"\xff\x00");
        let m = parse_message(&raw, &Limits::default()).unwrap();
        assert_eq!(m.body, b"\xff\x00\xc3\xa9", "{end:?}");
    }
    // Without Content-Length the body is the rest of the datagram, octets unchanged.
    let raw = with_octets(&format!("{HEAD}\r\n\u{e9}"), b"\x80\xc3");
    assert_eq!(
        parse_message(&raw, &Limits::default()).unwrap().body,
        b"\x80\xc3"
    );
}

#[test]
fn compact_forms() {
    let msg =
        "MESSAGE sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:x@y>;tag=1\r\n\
        t: sip:a@b\r\ni: id1\r\nCSeq: 1 MESSAGE\r\nm: <sip:x@h>\r\nc: text/plain\r\ne: gzip\r\n\
        k: path\r\ns: hi\r\nu: presence\r\no: presence;id=7\r\nr: <sip:c@d>\r\nb: <sip:e@f>\r\n\
        x: 1800;refresher=uac\r\nl: 2\r\n\r\nhi";
    let m = parse(msg).unwrap();
    let keys: Vec<_> = m
        .headers
        .iter()
        .map(|(k, _)| match k {
            HeaderKey::Known(k) => *k,
            HeaderKey::Raw(_) => "raw",
        })
        .collect();
    assert_eq!(
        keys,
        [
            "via",
            "from",
            "to",
            "call_id",
            "cseq",
            "contact",
            "content_type",
            "content_encoding",
            "supported",
            "subject",
            "allow_events",
            "event",
            "refer_to",
            "referred_by",
            "session_expires",
            "content_length",
        ]
    );
    assert_eq!(m.body, b"hi");
}

#[test]
fn every_typed_shape() {
    let extra = "Accept: application/sdp;level=1, */*;q=0.1\r\n\
        Accept-Encoding: gzip;q=1.0, *\r\n\
        Accept-Language: da, en-gb;q=0.8\r\n\
        Alert-Info: <http://www.example.com/sounds/moo.wav>\r\n\
        Allow-Events: presence, dialog\r\n\
        Authentication-Info: nextnonce=\"47364c23432d2e131a5fb210812c\", qop=auth\r\n\
        Authorization: Digest username=\"Alice\", realm=\"atlanta.com\", nonce=\"84a4cc6f3082121f32b42a2187831a9e\", response=\"7587245234b3434cc3412213e5f113a5432\"\r\n\
        Call-Info: <http://wwww.example.com/alice/photo.jpg> ;purpose=icon\r\n\
        Content-Disposition: session;handling=optional\r\n\
        Content-Language: fr, de\r\n\
        Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n\
        Error-Info: <sip:not-in-service-recording@atlanta.com>\r\n\
        Expires: 5\r\n\
        In-Reply-To: 70710@saturn.bell-tel.com, 17320@saturn.bell-tel.com\r\n\
        MIME-Version: 1.0\r\n\
        Min-Expires: 60\r\n\
        Min-SE: 90\r\n\
        Organization: Boxes by Bob\r\n\
        P-Asserted-Identity: \"Cullen Jennings\" <sip:fluffy@cisco.com>, <tel:+14085264000>\r\n\
        P-Preferred-Identity: <sip:alice@example.com>\r\n\
        Path: <sip:P3.EXAMPLEHOME.COM;lr>\r\n\
        Priority: emergency\r\n\
        Privacy: id;user\r\n\
        Proxy-Authenticate: Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth\", nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5\r\n\
        Proxy-Authorization: Digest username=\"Alice\", realm=\"atlanta.com\"\r\n\
        Proxy-Require: foo\r\n\
        RAck: 776656 1 INVITE\r\n\
        Reason: SIP ;cause=200 ;text=\"Call completed elsewhere\"\r\n\
        Record-Route: <sip:server10.biloxi.com;lr>\r\n\
        Replaces: 425928@bobster.example.org;to-tag=7743;from-tag=6472\r\n\
        Reply-To: Bob <sip:bob@biloxi.com>\r\n\
        Require: 100rel\r\n\
        Retry-After: 18000;duration=3600\r\n\
        RSeq: 988789\r\n\
        Server: HomeServer v2\r\n\
        Service-Route: <sip:P2.HOME.EXAMPLE.COM;lr>\r\n\
        Subscription-State: active;expires=60\r\n\
        Timestamp: 54\r\n\
        Unsupported: foo\r\n\
        Warning: 307 isi.edu \"Session parameter 'foo' not understood\"\r\n\
        WWW-Authenticate: Digest realm=\"atlanta.com\", nonce=\"1\"\r\n";
    let m = parse(&with(extra)).unwrap();
    assert_eq!(m.headers.len(), 6 + 41);
    use HeaderValue as V;
    assert!(matches!(get(&m, "accept"), V::MediaTypeList(l) if l.len() == 2 && l[1].0 == "*"));
    assert!(matches!(get(&m, "accept_encoding"), V::TokenParamsList(l) if l[1].0 == "*"));
    assert!(
        matches!(get(&m, "accept_language"), V::TokenParamsList(l) if l[1].1[0].1.as_deref() == Some("0.8"))
    );
    assert!(matches!(get(&m, "alert_info"), V::UriParamsList(l) if l[0].0.scheme == "http"));
    assert!(matches!(get(&m, "authentication_info"), V::Params(p) if p.len() == 2));
    assert!(matches!(get(&m, "authorization"), V::Auth(l) if l[0].1.len() == 4));
    assert!(matches!(get(&m, "call_info"), V::UriParamsList(l) if l[0].1[0].0 == "purpose"));
    assert!(matches!(get(&m, "content_disposition"), V::TokenParams(tp) if tp.0 == "session"));
    assert!(matches!(get(&m, "date"), V::Date(d) if d.hour == 23));
    assert_eq!(get(&m, "expires"), &V::Int(5));
    assert!(matches!(get(&m, "in_reply_to"), V::Tokens(l) if l.len() == 2));
    assert_eq!(get(&m, "mime_version"), &V::MimeVersion(1, 0));
    assert_eq!(get(&m, "min_se"), &V::DeltaParams(90, vec![]));
    assert!(
        matches!(get(&m, "p_asserted_identity"), V::NameAddrList(l) if l[1].uri.scheme == "tel")
    );
    assert_eq!(get(&m, "priority"), &V::Text("emergency".into()));
    assert_eq!(
        get(&m, "privacy"),
        &V::Tokens(vec!["id".into(), "user".into()])
    );
    assert!(matches!(get(&m, "proxy_authenticate"), V::Auth(l) if l[0].1.len() == 7));
    assert_eq!(
        get(&m, "rack"),
        &V::RAck(Box::new((776656, 1, "INVITE".into())))
    );
    assert!(
        matches!(get(&m, "reason"), V::TokenParamsList(l) if l[0].1[1].1.as_deref() == Some("Call completed elsewhere"))
    );
    assert!(
        matches!(get(&m, "replaces"), V::TokenParams(tp) if tp.0 == "425928@bobster.example.org" && tp.1.len() == 2)
    );
    assert!(matches!(get(&m, "reply_to"), V::NameAddr(n) if n.display_name == "Bob"));
    assert!(
        matches!(get(&m, "retry_after"), V::RetryAfter(r) if r.0 == 18000 && r.1.is_none() && r.2.len() == 1)
    );
    assert_eq!(get(&m, "rseq"), &V::Int(988789));
    assert_eq!(get(&m, "timestamp"), &V::Timestamp(54.0, None));
    assert!(matches!(get(&m, "warning"), V::Warning(l) if l[0].0 == 307));
    assert!(matches!(get(&m, "subscription_state"), V::TokenParams(tp) if tp.0 == "active"));
}

#[test]
fn timestamp_and_retry_after_comment_in_a_message() {
    let m = parse(&with(
        "Timestamp: 54.25 0.5\r\nRetry-After: 300 (a \\) (b) \\\\c) ;duration=60\r\n",
    ))
    .unwrap();
    assert_eq!(
        get(&m, "timestamp"),
        &HeaderValue::Timestamp(54.25, Some(0.5))
    );
    let HeaderValue::RetryAfter(r) = get(&m, "retry_after") else {
        panic!()
    };
    assert_eq!((r.0, r.1.as_deref()), (300, Some(r"a ) (b) \c")));
    for (value, want) in [
        ("inf", reasons::INVALID_HEADER),
        ("1 NaN", reasons::INVALID_HEADER),
        ("1e5", reasons::INVALID_HEADER),
        (&"9".repeat(400), reasons::VALUE_OUT_OF_RANGE),
    ] {
        let e = parse(&with(&format!("Timestamp: {value}\r\n"))).unwrap_err();
        assert_eq!(
            (e.reason, e.header.as_deref()),
            (want, Some("timestamp")),
            "{value}"
        );
    }
}

#[test]
fn a_parameter_given_twice_is_refused() {
    // RFC 3261 §19.1.1 (URI parameters), RFC 7235 §2.1 (auth parameters), and header
    // parameters, whose map could keep only one of the two values. Names compare
    // case-insensitively, as they are stored lowercased.
    for extra in [
        "Contact: <sip:a@h;transport=tcp;TRANSPORT=udp>\r\n",
        "Contact: <sip:a@h;lr;lr=on>\r\n",
        "Contact: <sip:a@h?Subject=x&Subject=y>\r\n",
        "Contact: <sip:a@h>;expires=60;Expires=3600\r\n",
        "Authorization: Digest username=\"a\", realm=\"r\", Username=\"b\"\r\n",
        "Authentication-Info: nextnonce=\"a\", nextnonce=\"b\"\r\n",
    ] {
        assert_eq!(
            reason(&with(extra)),
            reasons::MULTIPLE_DEFINITION,
            "{extra}"
        );
    }
    // A long list (checked through a set) as well as a short one.
    let many: String = (0..40).map(|i| format!(";p{i}")).collect();
    assert!(parse(&with(&format!("Contact: <sip:a@h{many}>\r\n"))).is_ok());
    assert_eq!(
        reason(&with(&format!("Contact: <sip:a@h{many};p7>\r\n"))),
        reasons::MULTIPLE_DEFINITION
    );
    // Distinct names, and the same name in two different lists, are fine.
    let m = parse(&with(
        "Contact: <sip:a@h;lr;transport=tcp>;lr;expires=60\r\n",
    ))
    .unwrap();
    assert!(matches!(get(&m, "contact"), HeaderValue::NameAddrList(v) if v.len() == 1));
}

#[test]
fn an_unknown_header_spelled_as_a_typed_key_is_refused() {
    // `call_id: x` is not Call-ID, and cannot be kept apart from it in the headers dict.
    let f = parse(&with("call_id: junk\r\n")).unwrap_err();
    assert_eq!(
        (f.reason, f.header.as_deref()),
        (reasons::INVALID_HEADER, Some("call_id"))
    );
    assert_eq!(
        reason(&with("max_forwards: 1\r\n")),
        reasons::INVALID_HEADER
    );
    // Other spellings are distinct keys, kept raw.
    let m = parse(&with("Call_ID: a\r\nX_call_id: b\r\n")).unwrap();
    assert_eq!(get(&m, "Call_ID"), &HeaderValue::Raw(vec!["a".into()]));
    assert_eq!(get(&m, "X_call_id"), &HeaderValue::Raw(vec!["b".into()]));
}

fn reply_failure(headers: &str) -> _native::core::error::ParseFailure {
    let raw = format!("OPTIONS sip:b@h SIP/2.0\r\n{headers}\r\n");
    parse_message(raw.as_bytes(), &Limits::default()).unwrap_err()
}

#[test]
fn raw_reply_headers_keep_the_first_line_and_skip_what_parsed() {
    const VIA: &str = "Via: SIP/2.0/UDP h;branch=z9hG4bKx\r\n";
    // A CSeq that is not a number (RFC 3261 §8.2.6.2 still wants it copied).
    let e = reply_failure(&format!("{VIA}CSeq: abc OPTIONS\r\nCall-ID: c\r\n"));
    assert_eq!(e.reply_raw, [("cseq", "abc OPTIONS".to_owned())]);
    assert_eq!(e.reply_headers.len(), 2);
    // The first line of a header wins, typed or raw: a later line is neither.
    let e = reply_failure(&format!("{VIA}CSeq: 1 OPTIONS\r\nCSeq: abc OPTIONS\r\n"));
    assert!(e.reply_raw.is_empty());
    let e = reply_failure(&format!("{VIA}CSeq: abc OPTIONS\r\nCSeq: 1 OPTIONS\r\n"));
    assert_eq!(e.reply_raw, [("cseq", "abc OPTIONS".to_owned())]);
    assert!(e
        .reply_headers
        .iter()
        .all(|(k, _)| *k != HeaderKey::Known("cseq")));
    // Folded lines come back unfolded; compact names count (`i` is Call-ID).
    let e = reply_failure(&format!("{VIA}i: a b\r\n c\r\n"));
    assert_eq!(e.reply_raw, [("call_id", "a b c".to_owned())]);
    // A Via that does not parse is left out, never raw: it could not route the response.
    let e = reply_failure("Via: SIP/2.0/UDP ;;\r\nCSeq: 1 OPTIONS\r\n");
    assert!(e.reply_raw.is_empty());
    assert!(e
        .reply_headers
        .iter()
        .all(|(k, _)| *k != HeaderKey::Known("via")));
}

#[test]
fn an_ack_gets_no_reply_headers() {
    // RFC 3261 §17: an ACK is never answered, so nothing is kept to answer it with.
    let raw = "ACK sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\
               CSeq: abc ACK\r\nCall-ID: c\r\nTo: <sip:b@h>;tag=1\r\n\r\n";
    let e = parse_message(raw.as_bytes(), &Limits::default()).unwrap_err();
    assert!(e.reply_headers.is_empty());
    assert!(e.reply_raw.is_empty());
}
