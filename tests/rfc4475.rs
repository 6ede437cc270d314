//! RFC 4475 torture messages: every file parses or fails as the verdict table in
//! tests/data/rfc4475/README.md says (with the choices documented in src/core/parse.rs
//! for the cases a liberal parser may accept), and the valid ones carry the right values.

use std::path::PathBuf;

use _native::core::error::ParseFailure;
use _native::core::limits::Limits;
use _native::core::model::{HeaderKey, HeaderValue, Message, NameAddr, StartLine};
use _native::core::parse::parse_message;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/rfc4475")
}

fn load(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(format!("{name}.dat"))).expect("torture file")
}

fn ok(name: &str) -> Message {
    parse_message(&load(name), &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn fail(name: &str) -> ParseFailure {
    match parse_message(&load(name), &Limits::default()) {
        Ok(m) => panic!("{name} parsed: {m:?}"),
        Err(e) => e,
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
        .unwrap_or_else(|| panic!("no {key}"))
}

fn name_addr<'a>(m: &'a Message, key: &str) -> &'a NameAddr {
    match get(m, key) {
        HeaderValue::NameAddr(na) => na,
        v => panic!("{key}: {v:?}"),
    }
}

fn name_addrs<'a>(m: &'a Message, key: &str) -> &'a [NameAddr] {
    match get(m, key) {
        HeaderValue::NameAddrList(l) => l,
        v => panic!("{key}: {v:?}"),
    }
}

fn reply_keys(f: &ParseFailure) -> Vec<String> {
    f.reply_headers
        .iter()
        .map(|(k, _)| match k {
            HeaderKey::Known(k) => (*k).to_owned(),
            HeaderKey::Raw(n) => n.clone(),
        })
        .collect()
}

/// (file, None = accepted, Some((reason, status)) = rejected).
const VERDICTS: &[(&str, Option<(&str, u16)>)] = &[
    ("wsinv", None),
    ("intmeth", None),
    ("esc01", None),
    ("escnull", None),
    ("esc02", None),
    ("lwsdisp", None),
    ("longreq", None),
    ("dblreq", None),
    ("semiuri", None),
    ("transports", None),
    ("mpart01", None),
    ("unreason", None),
    ("noreason", None),
    ("badinv01", Some(("invalid_header", 400))),
    ("clerr", Some(("content_length_mismatch", 400))),
    ("ncl", Some(("invalid_content_length", 400))),
    ("scalar02", Some(("value_out_of_range", 400))),
    ("scalarlg", Some(("value_out_of_range", 400))),
    ("quotbal", Some(("unclosed_qstring", 400))),
    ("ltgtruri", Some(("invalid_uri", 400))),
    ("lwsruri", Some(("malformed_start_line", 400))),
    ("lwsstart", Some(("malformed_start_line", 400))),
    ("trws", Some(("malformed_start_line", 400))),
    ("escruri", Some(("request_uri_headers", 400))),
    ("baddate", Some(("invalid_date", 400))),
    ("regbadct", Some(("invalid_header", 400))),
    ("badaspec", Some(("invalid_uri", 400))),
    ("baddn", Some(("invalid_uri", 400))),
    ("badvers", Some(("unsupported_version", 505))),
    // CSeq/method mismatches are semantic: the validation layer answers them.
    ("mismatch01", None),
    ("mismatch02", None),
    ("bigcode", Some(("invalid_status_code", 400))),
    ("badbranch", None),
    ("insuf", None),
    ("unkscm", None),
    ("novelsc", None),
    ("unksm2", None),
    ("bext01", None),
    ("invut", None),
    ("regaut01", None),
    ("multi01", Some(("multiple_definition", 400))),
    ("mcl01", Some(("multiple_definition", 400))),
    ("bcast", None),
    ("zeromf", None),
    ("cparam01", None),
    ("cparam02", None),
    ("regescrt", None),
    ("sdp01", None),
    ("inv2543", None),
    // Not in RFC 4475 section 3: no SIP-Version in the request line.
    ("test", Some(("malformed_start_line", 400))),
];

#[test]
fn every_file_has_its_verdict() {
    let mut files: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "dat"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut listed: Vec<String> = VERDICTS.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(files, listed);
    assert_eq!(files.len(), 50);
    for (name, verdict) in VERDICTS {
        let result = parse_message(&load(name), &Limits::default());
        match (verdict, result) {
            (None, Ok(_)) => {}
            (Some((reason, status)), Err(e)) => {
                assert_eq!(
                    (e.reason, e.status_code),
                    (*reason, *status),
                    "{name}: {e:?}"
                )
            }
            (v, r) => panic!("{name}: expected {v:?}, got {r:?}"),
        }
    }
}

#[test]
fn wsinv_values() {
    let m = ok("wsinv");
    let StartLine::Request {
        method,
        uri,
        version,
    } = &m.start_line
    else {
        panic!()
    };
    assert_eq!((method.as_str(), *version), ("INVITE", (2, 0)));
    assert_eq!(uri.params, vec![("unknownparam".to_owned(), None)]);
    let HeaderValue::Via(vias) = get(&m, "via") else {
        panic!()
    };
    assert_eq!(vias.len(), 3);
    assert_eq!(
        vias.iter()
            .map(|v| v.transport.as_str())
            .collect::<Vec<_>>(),
        ["UDP", "TCP", "UDP"]
    );
    assert_eq!(vias[2].host, "192.168.255.111");
    assert_eq!(
        vias[2].params,
        vec![("branch".to_owned(), Some("z9hG4bK30239".to_owned()))]
    );
    assert_eq!(get(&m, "max_forwards"), &HeaderValue::Int(68));
    assert_eq!(get(&m, "cseq"), &HeaderValue::CSeq(9, "INVITE".to_owned()));
    assert_eq!(get(&m, "subject"), &HeaderValue::Text(String::new()));
    assert_eq!(
        get(&m, "NewFangledHeader"),
        &HeaderValue::Raw(vec![
            "newfangled value continued newfangled value".to_owned()
        ])
    );
    assert_eq!(
        get(&m, "UnknownHeaderWithUnusualValue"),
        &HeaderValue::Raw(vec![";;,,;;,;".to_owned()])
    );
    let from = name_addr(&m, "from");
    assert_eq!(from.display_name, "J Rosenberg \\\"");
    assert_eq!(
        from.params,
        vec![("tag".to_owned(), Some("98asjd8".to_owned()))]
    );
    let to = name_addr(&m, "to");
    assert_eq!(to.uri.user.as_deref(), Some("vivekg"));
    assert_eq!(
        to.params,
        vec![("tag".to_owned(), Some("1918181833n".to_owned()))]
    );
    let contact = &name_addrs(&m, "contact")[0];
    assert_eq!(contact.display_name, "Quoted string \"\"");
    assert_eq!(
        contact.params,
        vec![
            ("newparam".to_owned(), Some("newvalue".to_owned())),
            ("secondparam".to_owned(), None),
            ("q".to_owned(), Some("0.33".to_owned())),
        ]
    );
    let route = &name_addrs(&m, "route")[0];
    assert_eq!(route.uri.params.len(), 3);
    assert_eq!(m.body.len(), 150);
    // Headers in order of first appearance.
    assert_eq!(
        m.headers.first().map(|(k, _)| k),
        Some(&HeaderKey::Known("to"))
    );
}

#[test]
fn intmeth_values() {
    let m = ok("intmeth");
    let StartLine::Request { method, uri, .. } = &m.start_line else {
        panic!()
    };
    assert_eq!(method, "!interesting-Method0123456789_*+`.%indeed'~");
    assert_eq!(
        uri.password.as_deref(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(name_addr(&m, "to").display_name, "BEL:\x07 NUL:\0 DEL:\x7f");
    let from = name_addr(&m, "from");
    assert_eq!(from.display_name, "token1~` token2'+_ token3*%!.-");
    assert_eq!(from.params[0].0, "fromparam''~+*_!.-%");
    assert_eq!(
        from.params[0].1.as_deref(),
        Some("\u{440}\u{430}\u{431}\u{43e}\u{442}\u{430}\u{44e}\u{449}\u{438}\u{439}")
    );
    assert_eq!(
        get(&m, "call_id"),
        &HeaderValue::Text("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{".to_owned())
    );
    assert_eq!(
        get(&m, "cseq"),
        &HeaderValue::CSeq(
            139122385,
            "!interesting-Method0123456789_*+`.%indeed'~".to_owned()
        )
    );
    assert_eq!(
        get(&m, "extensionHeader-!.%*+_`'~"),
        &HeaderValue::Raw(vec!["\u{fEFF}\u{5927}\u{505C}\u{96FB}".to_owned()])
    );
}

#[test]
fn escaped_uris_are_decoded() {
    let m = ok("esc01");
    let StartLine::Request { uri, .. } = &m.start_line else {
        panic!()
    };
    assert_eq!(uri.user.as_deref(), Some("sips:user@example.com"));
    assert_eq!(name_addr(&m, "to").uri.user.as_deref(), Some("user"));
    assert_eq!(
        name_addr(&m, "from").uri.user.as_deref(),
        Some("I have spaces")
    );
    let c = &name_addrs(&m, "contact")[0];
    assert_eq!(c.uri.user.as_deref(), Some("caller"));
    assert_eq!(
        c.uri.params,
        vec![
            ("lr".to_owned(), None),
            ("name".to_owned(), Some("value%41".to_owned()))
        ]
    );

    let m = ok("escnull");
    assert_eq!(
        name_addr(&m, "to").uri.user.as_deref(),
        Some("null-\0-null")
    );
    let users: Vec<_> = name_addrs(&m, "contact")
        .iter()
        .map(|c| c.uri.user.clone().unwrap())
        .collect();
    assert_eq!(users, ["\0", "\0\0"]);
    assert_eq!(get(&m, "content_length"), &HeaderValue::Int(0));

    let m = ok("esc02");
    let StartLine::Request { method, .. } = &m.start_line else {
        panic!()
    };
    assert_eq!(method, "RE%47IST%45R");
    assert_eq!(name_addr(&m, "to").display_name, "%Z%45");
    assert_eq!(name_addrs(&m, "contact").len(), 2);
    assert_eq!(
        get(&m, "C%6Fntact"),
        &HeaderValue::Raw(vec!["<sip:alias2@host2.example.com>".to_owned()])
    );
    let HeaderValue::Via(v) = get(&m, "via") else {
        panic!()
    };
    assert_eq!(v[0].params[0].1.as_deref(), Some("z9hG4bK209%fzsnel234"));
}

#[test]
fn long_and_odd_but_valid() {
    let m = ok("longreq");
    let HeaderValue::Via(v) = get(&m, "via") else {
        panic!()
    };
    assert_eq!(v.len(), 34);
    assert!(name_addr(&m, "to")
        .display_name
        .starts_with("I have a user name of extreme"));

    let m = ok("lwsdisp");
    assert_eq!(name_addr(&m, "from").display_name, "caller");

    let m = ok("semiuri");
    let StartLine::Request { uri, .. } = &m.start_line else {
        panic!()
    };
    assert_eq!(uri.user.as_deref(), Some("user;par=u@example.net"));
    assert_eq!(uri.host.as_deref(), Some("example.com"));
    assert!(uri.params.is_empty());
    let HeaderValue::MediaTypeList(accept) = get(&m, "accept") else {
        panic!()
    };
    assert_eq!(accept.len(), 6);
    assert_eq!(
        (accept[5].0.as_str(), accept[5].1.as_str()),
        ("message", "sipfrag")
    );

    let m = ok("transports");
    let HeaderValue::Via(v) = get(&m, "via") else {
        panic!()
    };
    let t: Vec<_> = v.iter().map(|v| v.transport.as_str()).collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);

    let m = ok("zeromf");
    assert_eq!(get(&m, "max_forwards"), &HeaderValue::Int(0));

    let m = ok("regaut01");
    assert_eq!(
        get(&m, "authorization"),
        &HeaderValue::Auth(vec![(
            "NoOneKnowsThisScheme".to_owned(),
            vec![("opaque-data".to_owned(), Some("here".to_owned()))]
        )])
    );

    let m = ok("bext01");
    assert_eq!(
        get(&m, "require"),
        &HeaderValue::Tokens(vec![
            "nothingSupportsThis".to_owned(),
            "nothingSupportsThisEither".to_owned()
        ])
    );
}

#[test]
fn responses() {
    let m = ok("unreason");
    let StartLine::Status { code, reason, .. } = &m.start_line else {
        panic!()
    };
    assert_eq!(*code, 200);
    assert!(reason.starts_with("= 2**3 * 5**2 \u{43d}\u{43e} "));
    assert!(reason.ends_with("\u{43f}\u{440}\u{43e}\u{441}\u{442}\u{43e}\u{435}"));
    let m = ok("noreason");
    assert_eq!(
        m.start_line,
        StartLine::Status {
            version: (2, 0),
            code: 100,
            reason: String::new()
        }
    );
}

#[test]
fn framing_by_content_length() {
    let m = ok("dblreq");
    let StartLine::Request { method, .. } = &m.start_line else {
        panic!()
    };
    assert_eq!(method, "REGISTER");
    assert!(m.body.is_empty());

    let data = load("mpart01");
    let m = ok("mpart01");
    assert_eq!(m.body.len(), 553);
    assert!(m.body.contains(&0));
    assert!(data.ends_with(&m.body));
    assert_eq!(get(&m, "Identity").clone(), get(&m, "Identity").clone());
    assert!(matches!(get(&m, "Identity"), HeaderValue::Raw(l) if l.len() == 1));
    assert!(matches!(get(&m, "date"), HeaderValue::Date(d) if d.year == 2005 && d.month == 10));

    let m = ok("inv2543");
    assert_eq!(m.body.len(), 105);
    assert!(m.body.starts_with(b"v=0"));
}

#[test]
fn unusual_schemes_are_opaque() {
    let m = ok("unkscm");
    let StartLine::Request { uri, .. } = &m.start_line else {
        panic!()
    };
    assert_eq!(uri.scheme, "nobodyknowsthisscheme");
    assert_eq!(uri.opaque.as_deref(), Some("totallyopaquecontent"));

    let m = ok("novelsc");
    let StartLine::Request { uri, .. } = &m.start_line else {
        panic!()
    };
    assert_eq!(
        (uri.scheme.as_str(), uri.opaque.as_deref()),
        ("soap.beep", Some("//192.0.2.103:3002"))
    );

    let m = ok("unksm2");
    assert_eq!(
        name_addr(&m, "to").uri.opaque.as_deref(),
        Some("2983792873")
    );
    assert_eq!(name_addr(&m, "from").uri.scheme, "http");
    assert_eq!(
        name_addrs(&m, "contact")[0].uri.opaque.as_deref(),
        Some("John_Smith")
    );
}

#[test]
fn contact_params_with_and_without_brackets() {
    let c = name_addrs(&ok("cparam01"), "contact")[0].clone();
    assert!(c.uri.params.is_empty());
    assert_eq!(c.params, vec![("unknownparam".to_owned(), None)]);
    let c = name_addrs(&ok("cparam02"), "contact")[0].clone();
    assert_eq!(c.uri.params, vec![("unknownparam".to_owned(), None)]);
    assert!(c.params.is_empty());
    let c = name_addrs(&ok("regescrt"), "contact")[0].clone();
    assert_eq!(
        c.uri.headers,
        vec![("Route".to_owned(), "<sip:sip.example.com>".to_owned())]
    );
}

#[test]
fn failures_carry_header_and_reply_headers() {
    let f = fail("badvers");
    assert_eq!(reply_keys(&f), ["via", "from", "to", "call_id", "cseq"]);
    let f = fail("scalar02");
    assert_eq!(f.header.as_deref(), Some("cseq"));
    assert!(!reply_keys(&f).contains(&"cseq".to_owned()));
    assert_eq!(reply_keys(&f).len(), 4);
    let f = fail("multi01");
    assert_eq!(f.header.as_deref(), Some("cseq"));
    // Only the first value of a duplicated header goes back.
    assert_eq!(reply_keys(&f).len(), 5);
    // Responses are never answered.
    assert!(fail("bigcode").reply_headers.is_empty());
    assert!(fail("scalarlg").reply_headers.is_empty());
    assert_eq!(fail("quotbal").header.as_deref(), Some("to"));
    assert_eq!(fail("baddate").header.as_deref(), Some("date"));
    assert_eq!(fail("clerr").header.as_deref(), Some("content_length"));
}

/// RFC 3261 §8.2.6.2: the 400 copies From, To, Call-ID and CSeq; those that did not parse
/// come back as raw text (RFC 4475 §3.1.2.4, §3.1.2.6, §3.1.2.14, §3.1.2.15).
#[test]
fn failures_carry_the_raw_text_of_reply_headers_that_did_not_parse() {
    let raw = |name: &str| fail(name).reply_raw;
    assert_eq!(
        raw("scalar02"),
        [("cseq", "36893488147419103232 REGISTER".to_owned())]
    );
    assert_eq!(
        raw("quotbal"),
        [("to", "\"Mr. J. User <sip:j.user@example.com>".to_owned())]
    );
    assert_eq!(
        raw("badaspec"),
        [(
            "to",
            "\"Watson, Thomas\" < sip:t.watson@example.org >".to_owned()
        )]
    );
    assert_eq!(
        raw("baddn"),
        [
            (
                "from",
                "Bell, Alexander <sip:a.g.bell@example.com>;tag=43".to_owned()
            ),
            ("to", "Watson, Thomas <sip:t.watson@example.org>".to_owned()),
        ]
    );
    // What parsed stays typed, and nothing is both.
    for name in ["scalar02", "quotbal", "badaspec", "baddn"] {
        let f = fail(name);
        let typed = reply_keys(&f);
        assert!(typed.contains(&"via".to_owned()), "{name}");
        assert_eq!(typed.len() + f.reply_raw.len(), 5, "{name}");
        assert!(f
            .reply_raw
            .iter()
            .all(|(k, _)| !typed.contains(&(*k).to_owned())));
    }
    // Everything parsed: nothing raw. Responses are never answered.
    assert!(raw("badvers").is_empty());
    assert!(raw("scalarlg").is_empty());
}

#[test]
fn each_scalar02_field_fails_alone() {
    let base = String::from_utf8(load("scalar02")).unwrap();
    let fixed = base.replace("36893488147419103232", "1");
    let only_mf = fixed.replace("Expires: 1000000000", "Expires: 10").replace(
        "Expires: 10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "Expires: 1",
    );
    let e = parse_message(only_mf.as_bytes(), &Limits::default()).unwrap_err();
    assert_eq!(
        (e.reason, e.header.as_deref()),
        ("value_out_of_range", Some("max_forwards"))
    );
    let only_expires = fixed.replace("Max-Forwards: 300", "Max-Forwards: 70");
    let e = parse_message(only_expires.as_bytes(), &Limits::default()).unwrap_err();
    assert_eq!(
        (e.reason, e.header.as_deref()),
        ("value_out_of_range", Some("expires"))
    );
    // The Contact expires parameter is not range-checked by the parser.
    let neither = only_expires.replace(
        &only_expires[only_expires.find("Expires:").unwrap()..]
            .lines()
            .next()
            .unwrap()
            .to_owned(),
        "Expires: 1",
    );
    let m = parse_message(neither.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(
        name_addrs(&m, "contact")[0].params[0].1.as_deref(),
        Some("280297596632815")
    );
}
