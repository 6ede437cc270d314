//! RFC 5118 IPv6 torture messages (tests/data/rfc5118: the well-formed CRLF copies, and
//! the RFC's own archive with bare LFs), plus the §4 cases written by hand.

use std::path::PathBuf;

use _native::core::limits::Limits;
use _native::core::model::{HeaderKey, HeaderValue, Message, StartLine, Uri, Via};
use _native::core::parse::parse_message;

fn load(path: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/rfc5118")
        .join(path);
    std::fs::read(p).expect("rfc5118 file")
}

fn ok(path: &str) -> Message {
    parse_message(&load(path), &Limits::default()).unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

fn ruri(m: &Message) -> &Uri {
    match &m.start_line {
        StartLine::Request { uri, .. } => uri,
        StartLine::Status { .. } => panic!("not a request"),
    }
}

fn vias(m: &Message) -> &[Via] {
    match m
        .headers
        .iter()
        .find(|(k, _)| *k == HeaderKey::Known("via"))
    {
        Some((_, HeaderValue::Via(v))) => v,
        _ => panic!("no Via"),
    }
}

fn param<'a>(v: &'a Via, name: &str) -> Option<&'a str> {
    v.params
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v.as_deref())
}

const VALID: [&str; 11] = [
    "ipv4-mapped-ipv6",
    "ipv6-bug-abnf-3-colons",
    "ipv6-correct-abnf-2-colons",
    "ipv6-good",
    "ipv6-in-sdp",
    "mult-ip-in-header",
    "mult-ip-in-sdp",
    "port-ambiguous",
    "port-unambiguous",
    "via-received-param-no-delim",
    "via-received-param-with-delim",
];

#[test]
fn verdicts() {
    for name in VALID {
        ok(&format!("{name}.dat"));
    }
    let e = parse_message(&load("ipv6-bad.dat"), &Limits::default()).unwrap_err();
    assert_eq!((e.reason, e.status_code), ("invalid_uri", 400));
}

#[test]
fn archive_copies_with_bare_lf() {
    // Bare LF line ends and (§4.10) no empty line after the headers are tolerated; two
    // archive messages announce more body than they carry.
    for name in VALID {
        let r = parse_message(&load(&format!("archive/{name}.dat")), &Limits::default());
        match name {
            "ipv6-in-sdp" | "mult-ip-in-sdp" => {
                assert_eq!(r.unwrap_err().reason, "content_length_mismatch", "{name}")
            }
            _ => assert!(r.is_ok(), "{name}: {r:?}"),
        }
    }
}

#[test]
fn ipv6_references() {
    let m = ok("ipv6-good.dat");
    assert_eq!(ruri(&m).host.as_deref(), Some("2001:db8::10"));
    assert_eq!(vias(&m)[0].host, "2001:db8::9:1");

    // §4.3: the port-looking group is part of the address.
    let m = ok("port-ambiguous.dat");
    assert_eq!(
        (ruri(&m).host.as_deref(), ruri(&m).port),
        (Some("2001:db8::10:5070"), None)
    );
    let m = ok("port-unambiguous.dat");
    assert_eq!(
        (ruri(&m).host.as_deref(), ruri(&m).port),
        (Some("2001:db8::10"), Some(5070))
    );

    let m = ok("ipv4-mapped-ipv6.dat");
    assert_eq!(
        (vias(&m)[0].host.as_str(), vias(&m)[0].port),
        ("::ffff:192.0.2.10", Some(19823))
    );

    // §4.10: the extra colon is dropped.
    let m = ok("ipv6-bug-abnf-3-colons.dat");
    assert_eq!(ruri(&m).host.as_deref(), Some("2001:db8::192.0.2.1"));
    let m = ok("ipv6-correct-abnf-2-colons.dat");
    assert_eq!(ruri(&m).host.as_deref(), Some("2001:db8::192.0.2.1"));

    let m = ok("mult-ip-in-header.dat");
    let hosts: Vec<_> = vias(&m).iter().map(|v| v.host.as_str()).collect();
    assert_eq!(hosts, ["2001:db8::9:1", "192.0.2.1", "2001:db8::9:255"]);
    assert_eq!(param(&vias(&m)[2], "received"), Some("192.0.2.200"));
}

#[test]
fn via_received_with_and_without_brackets() {
    // §4.5: RFC 3261 wants `received=2001:db8::9:255`; the bracketed form must parse too.
    // Parameter values are kept as written.
    let m = ok("via-received-param-no-delim.dat");
    assert_eq!(param(&vias(&m)[0], "received"), Some("2001:db8::9:255"));
    let m = ok("via-received-param-with-delim.dat");
    assert_eq!(param(&vias(&m)[0], "received"), Some("[2001:db8::9:255]"));
}

fn request(ruri: &str, via_host: &str) -> String {
    format!(
        "OPTIONS {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {via_host};branch=z9hG4bKx\r\n\
         To: <{ruri}>\r\nFrom: <sip:a@example.com>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n\
         Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
}

#[test]
fn handwritten_section4_cases() {
    let good = [
        ("sip:[2001:db8::10]", "[2001:db8::9:1]"),
        ("sip:user@[2001:db8::10]:5070", "[2001:db8::9:1]:5060"),
        ("sip:[::ffff:192.0.2.1]", "[::1]"),
        ("sips:[::1];transport=tcp", "host.example.com:5061"),
    ];
    for (r, v) in good {
        let m = parse_message(request(r, v).as_bytes(), &Limits::default())
            .unwrap_or_else(|e| panic!("{r} {v}: {e:?}"));
        assert!(ruri(&m).host.as_deref().is_some_and(|h| !h.contains('[')));
    }
    let bad = [
        ("sip:2001:db8::10", "[2001:db8::9:1]"),
        ("sip:[2001:db8::10", "[2001:db8::9:1]"),
        ("sip:[2001:db8::10:5070", "h"),
        ("sip:[2001:db8::10]:5070]", "h"),
        ("sip:h", "2001:db8::9:1"),
        ("sip:h", "[2001:db8::9:1"),
        ("sip:h", "[2001:db8::9:1]:"),
        ("sip:h", "[zz::1]"),
    ];
    for (r, v) in bad {
        let e = parse_message(request(r, v).as_bytes(), &Limits::default());
        assert!(e.is_err(), "{r} {v} should fail");
    }
}
