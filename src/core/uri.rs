//! URI parser: sip/sips (RFC 3261 §19.1, grammar §25), tel (RFC 3966), and any other
//! absolute URI kept opaque (RFC 3986 §3: `scheme ":" rest`).
//!
//! Percent-escapes are decoded only where RFC 3261 §25 allows `escaped` (user, password,
//! URI parameters, URI headers); `%00` decodes to a NUL character and never truncates
//! (RFC 4475 escnull). Escapes whose octets are not UTF-8 (`%FF`, a cut sequence `%C3`)
//! are `invalid_uri`: the decoded parts are text, and replacing the octets (U+FFFD) would
//! change the URI a proxy forwards. Hosts are kept as written, IPv6 references without brackets
//! (RFC 5118).

use std::net::Ipv6Addr;

use crate::core::abnf::{
    all, err, find_byte, is, text, unique_names, Cursor, Utf8, HCHAR, HOSTNAME, PARAMCHAR,
    PASSWORD, R, USER,
};
use crate::core::error::{reasons, ParseFailure};
use crate::core::model::Uri;

/// Parses one URI (the whole string, no surrounding whitespace).
pub fn parse_uri(text: &str) -> Result<Uri, ParseFailure> {
    parse_uri_bytes(text.as_bytes()).map_err(|e| ParseFailure::of(e.reason, e.msg))
}

const fn bad_uri(msg: &'static str) -> crate::core::abnf::E {
    err(reasons::INVALID_URI, msg)
}

pub(crate) fn parse_uri_bytes(b: &[u8]) -> R<Uri> {
    parse_uri_in(b, Utf8::default())
}

/// `parse_uri_bytes` for bytes that may lie inside the checked text `utf8`.
pub(crate) fn parse_uri_in<'a>(b: &'a [u8], utf8: Utf8<'a>) -> R<Uri> {
    // Most URIs on the wire are written `sip:` exactly.
    if let Some(rest) = b.strip_prefix(b"sip:") {
        return parse_sip("sip", rest, utf8);
    }
    let colon = b
        .iter()
        .position(|&c| c == b':')
        .ok_or(bad_uri("URI without a scheme"))?;
    let (scheme_raw, rest) = (
        b.get(..colon).unwrap_or(&[]),
        b.get(colon + 1..).unwrap_or(&[]),
    );
    // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    match scheme_raw.split_first() {
        Some((first, tail))
            if first.is_ascii_alphabetic()
                && tail
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')) => {}
        _ => return Err(bad_uri("invalid URI scheme")),
    }
    if scheme_raw.eq_ignore_ascii_case(b"sip") {
        parse_sip("sip", rest, utf8)
    } else if scheme_raw.eq_ignore_ascii_case(b"sips") {
        parse_sip("sips", rest, utf8)
    } else if scheme_raw.eq_ignore_ascii_case(b"tel") {
        parse_tel(rest, utf8)
    } else {
        parse_opaque(scheme_raw, rest)
    }
}

fn is_user(b: u8) -> bool {
    is(b, USER)
}

fn is_password(b: u8) -> bool {
    is(b, PASSWORD)
}

fn is_paramchar(b: u8) -> bool {
    is(b, PARAMCHAR)
}

fn is_hchar(b: u8) -> bool {
    is(b, HCHAR)
}

fn hex(b: Option<&u8>) -> Option<u8> {
    let c = *b?;
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Checks `b` against `allowed` and decodes `%HH` escapes. An invalid escape (`%Z`) or a
/// disallowed character is an error.
fn decode(b: &[u8], allowed: fn(u8) -> bool, utf8: Utf8<'_>) -> R<String> {
    // One scan: no `allowed` class holds `%`, so the first byte outside the class is
    // either an escape (decode from the start) or an invalid character.
    match b.iter().position(|&c| !allowed(c)) {
        None => return Ok(utf8.text(b)),
        Some(i) if b.get(i) != Some(&b'%') => return Err(bad_uri("invalid character in URI")),
        Some(_) => {}
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            match (hex(b.get(i + 1)), hex(b.get(i + 2))) {
                (Some(h), Some(l)) => out.push(h * 16 + l),
                _ => return Err(bad_uri("invalid %-escape in URI")),
            }
            i += 3;
        } else if allowed(c) {
            out.push(c);
            i += 1;
        } else {
            return Err(bad_uri("invalid character in URI"));
        }
    }
    String::from_utf8(out).map_err(|_| bad_uri("%-escapes that are not UTF-8 in URI"))
}

fn lower_decode(b: &[u8], allowed: fn(u8) -> bool, utf8: Utf8<'_>) -> R<String> {
    let mut s = decode(b, allowed, utf8)?;
    s.make_ascii_lowercase();
    Ok(s)
}

/// host = hostname / IPv4address / IPv6reference. IPv6 references are checked with the
/// standard library's parser (which takes RFC 5118 §4.3 IPv4-mapped forms) and returned
/// without brackets; hostnames and IPv4 addresses are taken liberally (alphanumerics,
/// `-`, `.`, and `_` which some deployments use).
pub(crate) fn scan_host(c: &mut Cursor<'_>) -> R<String> {
    if c.eat(b'[') {
        let v = c.take_while(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !c.eat(b']') {
            return Err(bad_uri("unclosed IPv6 reference"));
        }
        let s = std::str::from_utf8(v).map_err(|_| bad_uri("invalid IPv6 address"))?;
        if s.parse::<Ipv6Addr>().is_ok() {
            return Ok(s.to_owned());
        }
        return ipv6_three_colons(s).ok_or(bad_uri("invalid IPv6 address"));
    }
    let h = c.take_while(|b| is(b, HOSTNAME));
    if h.is_empty() {
        return Err(bad_uri("missing host"));
    }
    Ok(c.utf8.text(h))
}

/// Whether a host, as sippet stores it (IPv6 without brackets), written by the serializer
/// reads back as the same host (the serializer's check; the grammar is `scan_host`'s). A
/// bracketed form would read back without its brackets, and the RFC 5118 §4.10
/// three-colon form corrected: both are refused.
pub fn is_valid_host(host: &str) -> bool {
    if !host.is_empty() && all(host.as_bytes(), HOSTNAME) {
        return true; // a hostname or an IPv4 address, the common case: one pass
    }
    host.contains(':') && host.parse::<Ipv6Addr>().is_ok()
}

/// RFC 5118 §4.10: the RFC 3261 ABNF (from RFC 2373) allows `2001:db8:::192.0.2.1`; it
/// must be tolerated. We drop the extra colon and keep the corrected address.
fn ipv6_three_colons(s: &str) -> Option<String> {
    let i = s.find(":::")?;
    let (head, tail) = (s.get(..i)?, s.get(i + 3..)?);
    if !tail.contains('.') || tail.contains("::") {
        return None;
    }
    let fixed = format!("{head}::{tail}");
    fixed.parse::<Ipv6Addr>().ok().map(|_| fixed)
}

/// port = 1*DIGIT (RFC 3261 §25.1: leading zeros allowed, `05060` is 5060), 0..=65535.
pub(crate) fn scan_port(c: &mut Cursor<'_>) -> R<u16> {
    let mut d = c.take_while(|b| b.is_ascii_digit());
    if d.is_empty() {
        return Err(bad_uri("invalid port"));
    }
    if d.len() > 5 {
        // Only leading zeros can make a port longer than five digits (keep the last one).
        let zeros = d
            .iter()
            .take_while(|&&b| b == b'0')
            .count()
            .min(d.len() - 1);
        d = d.get(zeros..).unwrap_or(&[]);
        if d.len() > 5 {
            return Err(bad_uri("port out of range"));
        }
    }
    let v = d.iter().fold(0u32, |a, &x| a * 10 + u32::from(x - b'0'));
    u16::try_from(v).map_err(|_| bad_uri("port out of range"))
}

/// `;name[=value]` URI parameters (sip/sips uri-parameters, tel parameters).
fn uri_params(c: &mut Cursor<'_>, uri: &mut Uri) -> R<()> {
    while c.eat(b';') {
        let name = c.take_while(|b| is_paramchar(b) || b == b'%');
        if name.is_empty() {
            return Err(bad_uri("empty URI parameter"));
        }
        let value = if c.eat(b'=') {
            let v = c.take_while(|b| is_paramchar(b) || b == b'%');
            if v.is_empty() {
                return Err(bad_uri("empty URI parameter value"));
            }
            Some(decode(v, is_paramchar, c.utf8)?)
        } else {
            None
        };
        uri.params
            .push((lower_decode(name, is_paramchar, c.utf8)?, value));
    }
    // RFC 3261 §19.1.1: "any given parameter-name MUST NOT appear more than once".
    unique_names(&uri.params)
}

/// SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ] (RFC 3261 §25).
fn parse_sip<'a>(scheme: &str, rest: &'a [u8], utf8: Utf8<'a>) -> R<Uri> {
    let mut uri = Uri {
        scheme: scheme.to_owned(),
        ..Uri::default()
    };
    let mut hostport = rest;
    // No character after the userinfo may be `@` (not in host, paramchar or hvalue), so
    // the first `@` ends the userinfo even when the user holds `;`, `?` or `/` (RFC 4475
    // intmeth, semiuri).
    if let Some(at) = find_byte(rest, b'@') {
        let userinfo = rest.get(..at).unwrap_or(&[]);
        hostport = rest.get(at + 1..).unwrap_or(&[]);
        let (user, password) = match userinfo.iter().position(|&c| c == b':') {
            Some(i) => (userinfo.get(..i).unwrap_or(&[]), userinfo.get(i + 1..)),
            None => (userinfo, None),
        };
        if user.is_empty() {
            return Err(bad_uri("empty user in URI"));
        }
        uri.user = Some(decode(user, is_user, utf8)?);
        uri.password = password.map(|p| decode(p, is_password, utf8)).transpose()?;
    }
    let mut c = Cursor::within(hostport, utf8);
    uri.host = Some(scan_host(&mut c)?);
    if c.eat(b':') {
        uri.port = Some(scan_port(&mut c)?);
    }
    uri_params(&mut c, &mut uri)?;
    if c.eat(b'?') {
        loop {
            let name = c.take_while(|b| is_hchar(b) || b == b'%');
            if name.is_empty() {
                return Err(bad_uri("empty URI header name"));
            }
            let value = if c.eat(b'=') {
                c.take_while(|b| is_hchar(b) || b == b'%')
            } else {
                &[]
            };
            uri.headers.push((
                decode(name, is_hchar, utf8)?,
                decode(value, is_hchar, utf8)?,
            ));
            if !c.eat(b'&') {
                break;
            }
        }
        // A header named twice would lose a value in the map a URI holds its headers in.
        let mut seen = std::collections::HashSet::with_capacity(uri.headers.len());
        if !uri
            .headers
            .iter()
            .all(|(name, _)| seen.insert(name.as_str()))
        {
            return Err(err(
                reasons::MULTIPLE_DEFINITION,
                "a URI header is given twice",
            ));
        }
    }
    if !c.at_end() {
        return Err(bad_uri("unexpected characters in URI"));
    }
    Ok(uri)
}

/// telephone-uri = "tel:" telephone-subscriber (RFC 3966 §3). The number is kept as
/// written, visual separators included; parameters are parsed like SIP URI parameters.
/// The characters of a telephone-subscriber as this parser takes it (RFC 3966 §3, read
/// liberally: digits, letters, visual separators, `+`, `*`, `#`).
fn is_tel_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.' | b'(' | b')' | b'*' | b'#')
}

/// Whether a tel URI's number, written as is, reads back (the serializer's check).
pub fn is_valid_tel_number(number: &str) -> bool {
    !number.is_empty() && number.bytes().all(is_tel_char)
}

fn parse_tel<'a>(rest: &'a [u8], utf8: Utf8<'a>) -> R<Uri> {
    let mut c = Cursor::within(rest, utf8);
    let number = c.take_while(is_tel_char);
    if number.is_empty() {
        return Err(bad_uri("empty telephone number"));
    }
    let mut uri = Uri {
        scheme: "tel".to_owned(),
        user: Some(utf8.text(number)),
        ..Uri::default()
    };
    uri_params(&mut c, &mut uri)?;
    if !c.at_end() {
        return Err(bad_uri("unexpected characters in tel URI"));
    }
    Ok(uri)
}

/// Any other scheme: RFC 3986 characters (unreserved, reserved, `%`), kept verbatim.
/// RFC 3986 characters of an opaque URI (unreserved, reserved, `%`).
fn is_opaque_char(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b':'
                | b'/'
                | b'?'
                | b'#'
                | b'['
                | b']'
                | b'@'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b'%'
        )
}

/// Whether the part after `scheme:` of a URI of another scheme reads back as written
/// (the serializer's check).
pub fn is_valid_opaque(rest: &str) -> bool {
    !rest.is_empty() && rest.bytes().all(is_opaque_char)
}

fn parse_opaque(scheme: &[u8], rest: &[u8]) -> R<Uri> {
    let ok = !rest.is_empty() && rest.iter().all(|&c| is_opaque_char(c));
    if !ok {
        return Err(bad_uri("invalid characters in URI"));
    }
    let mut scheme = text(scheme);
    scheme.make_ascii_lowercase();
    Ok(Uri {
        scheme,
        opaque: Some(text(rest)),
        ..Uri::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Uri {
        parse_uri(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn fails(s: &str) {
        assert!(parse_uri(s).is_err(), "{s} should fail");
    }

    #[test]
    fn full_sip_uri() {
        let u = p("SIP:alice:secret@Example.COM:5070;Transport=TCP;lr?Subject=hi%20there&x=");
        assert_eq!(u.scheme, "sip");
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("secret"));
        assert_eq!(u.host.as_deref(), Some("Example.COM"));
        assert_eq!(u.port, Some(5070));
        assert_eq!(
            u.params,
            vec![
                ("transport".to_owned(), Some("TCP".to_owned())),
                ("lr".to_owned(), None)
            ]
        );
        assert_eq!(
            u.headers,
            vec![
                ("Subject".to_owned(), "hi there".to_owned()),
                ("x".to_owned(), String::new())
            ]
        );
        assert_eq!(u.opaque, None);
    }

    #[test]
    fn escapes_decode_and_nul_does_not_truncate() {
        assert_eq!(
            p("sip:null-%00-null@example.com").user.as_deref(),
            Some("null-\0-null")
        );
        assert_eq!(p("sip:%00%00@h").user.as_deref(), Some("\0\0"));
        let u = p("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
        assert_eq!(u.user.as_deref(), Some("caller"));
        assert_eq!(
            u.params,
            vec![
                ("lr".into(), None),
                ("name".into(), Some("value%41".into()))
            ]
        );
        fails("sip:%Zuser@example.com");
        fails("sip:user%4@example.com");
    }

    #[test]
    fn escapes_must_decode_to_utf8() {
        assert_eq!(p("sip:caf%C3%A9@h").user.as_deref(), Some("caf\u{e9}"));
        assert_eq!(
            p("sip:h;x=%E2%98%BA?s=%F0%9F%98%80").params,
            vec![("x".into(), Some("\u{263a}".into()))]
        );
        for s in [
            "sip:%FF@h.example.com",
            "sip:a%C3@h.example.com",
            "sip:a:%C3x@h.example.com",
            "sip:a@h.example.com;x=%80",
            "sip:a@h.example.com;%80=1",
            "sip:a@h.example.com?h=%FE%FF",
            "sip:a@h.example.com?%C0%AF=1",
            "sip:%ED%A0%80@h", // a surrogate
            "tel:+1;x=%FF",
        ] {
            assert_eq!(
                parse_uri(s).unwrap_err().reason,
                reasons::INVALID_URI,
                "{s}"
            );
        }
    }

    #[test]
    fn user_part_may_hold_semicolons_and_question_marks() {
        let u = p("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user.as_deref(), Some("user;par=u@example.net"));
        assert_eq!(u.host.as_deref(), Some("example.com"));
        assert!(u.params.is_empty());
        let u = p("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
        assert_eq!(
            u.user.as_deref(),
            Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        );
        assert_eq!(
            u.password.as_deref(),
            Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        );
    }

    #[test]
    fn rfc5118_ipv6_references() {
        let u = p("sip:[2001:db8::10]");
        assert_eq!((u.host.as_deref(), u.port), (Some("2001:db8::10"), None));
        let u = p("sip:alice@[2001:db8::10]:5070");
        assert_eq!(
            (u.host.as_deref(), u.port),
            (Some("2001:db8::10"), Some(5070))
        );
        let u = p("sip:[::ffff:192.0.2.1];maddr=[2001:db8::1]");
        assert_eq!(u.host.as_deref(), Some("::ffff:192.0.2.1"));
        assert_eq!(
            u.params,
            vec![("maddr".into(), Some("[2001:db8::1]".into()))]
        );
        fails("sip:[2001:db8::10:5070");
        fails("sip:2001:db8::10");
        fails("sip:[2001:db8::10:5070]:5070:1");
        fails("sip:[2001:db8:::10]");
        fails("sip:[2001:db8:::1.2.3.4::]");
        let u = p("sip:user@[2001:db8:::192.0.2.1]");
        assert_eq!(u.host.as_deref(), Some("2001:db8::192.0.2.1"));
        fails("sip:[192.0.2.1]");
    }

    #[test]
    fn ports_and_hosts() {
        assert_eq!(p("sip:h:0").port, Some(0));
        assert_eq!(p("sip:h:65535").port, Some(65535));
        fails("sip:h:65536");
        // port = 1*DIGIT: leading zeros are legal.
        assert_eq!(p("sip:a@h:05060").port, Some(5060));
        assert_eq!(p("sip:a@h:00005060").port, Some(5060));
        assert_eq!(p("sip:[::1]:000000000000000000000065535").port, Some(65535));
        assert_eq!(p("sip:h:00").port, Some(0));
        fails("sip:h:065536");
        fails("sip:h:99999999999999999999999");
        fails("sip:h:");
        fails("sip:");
        fails("sip:@h");
        fails("sip:a b@h");
        fails("sip:h;;lr");
        fails("sip:h;a=");
        fails("sip:h?");
        fails("sip:h>");
    }

    #[test]
    fn tel_uris() {
        let u = p("tel:+1-201-555-0123;phone-context=example.com;Ext=12");
        assert_eq!(u.scheme, "tel");
        assert_eq!(u.user.as_deref(), Some("+1-201-555-0123"));
        assert_eq!(
            u.params,
            vec![
                ("phone-context".into(), Some("example.com".into())),
                ("ext".into(), Some("12".into()))
            ]
        );
        fails("tel:");
        fails("tel:;a=b");
    }

    #[test]
    fn other_schemes_are_opaque() {
        for (s, scheme, rest) in [
            (
                "nobodyKnowsThisScheme:totallyopaquecontent",
                "nobodyknowsthisscheme",
                "totallyopaquecontent",
            ),
            (
                "soap.beep://192.0.2.103:3002",
                "soap.beep",
                "//192.0.2.103:3002",
            ),
            ("isbn:2983792873", "isbn", "2983792873"),
            ("http://www.example.com", "http", "//www.example.com"),
            ("name:John_Smith", "name", "John_Smith"),
        ] {
            let u = p(s);
            assert_eq!(u.scheme, scheme);
            assert_eq!(u.opaque.as_deref(), Some(rest));
            assert_eq!(u.host, None);
        }
        fails("<sip:user@example.com>");
        fails("1abc:x");
        fails("http:");
        fails("http://a b");
        fails("nocolon");
    }
}
