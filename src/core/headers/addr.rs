//! name-addr / addr-spec values (RFC 3261 §20.10, §25): From, To, Contact, Route,
//! Record-Route, Reply-To, Refer-To, Path..., and the `<uri>;params` of Alert-Info,
//! Call-Info and Error-Info.

use crate::core::abnf::{bad, find_byte, is_wsp, text, Cursor, Utf8, R};
use crate::core::model::{HeaderValue, NameAddr, Params, Uri};
use crate::core::uri::parse_uri_in;

/// A URI error inside a header keeps its `invalid_uri` reason.
fn uri<'a>(b: &'a [u8], utf8: Utf8<'a>) -> R<Uri> {
    parse_uri_in(b, utf8)
}

/// `<` URI `>` with the cursor on `<`. Nothing may separate the brackets from the URI
/// (RFC 4475 badaspec: `< sip:... >` is rejected).
fn bracketed(c: &mut Cursor<'_>) -> R<Uri> {
    if !c.eat(b'<') {
        return Err(bad("expected <"));
    }
    let rest = c.rest();
    let end = find_byte(rest, b'>').ok_or(bad("missing >"))?;
    let inner = rest.get(..end).unwrap_or(&[]);
    c.pos += end + 1;
    uri(inner, c.utf8)
}

/// The display name written as tokens separated by LWS (`token1~` token2'+_ <...>`, RFC 4475
/// intmeth; `caller<sip:...>` without LWS, lwsdisp). Returns `None`, cursor unmoved, when
/// the value is not tokens followed by `<` (then it is an addr-spec).
fn token_display_name(c: &mut Cursor<'_>) -> Option<String> {
    let save = c.pos;
    let (start, mut end) = (c.pos, c.pos);
    while c.token().is_some() {
        end = c.pos;
        let had_ws = c.skip_ws();
        if c.peek() == Some(b'<') || !had_ws {
            break;
        }
    }
    if end == start || c.peek() != Some(b'<') {
        c.pos = save;
        return None;
    }
    let written = c.s.get(start..end).unwrap_or(&[]);
    if !written.iter().copied().any(is_wsp) {
        return Some(c.utf8.text(written));
    }
    // Inner LWS runs collapse to one SP.
    let mut out = Vec::with_capacity(end - start);
    let mut in_ws = false;
    for &b in written {
        if is_wsp(b) {
            in_ws = true;
        } else {
            if in_ws {
                out.push(b' ');
            }
            in_ws = false;
            out.push(b);
        }
    }
    Some(text(&out))
}

/// One ( name-addr / addr-spec ) *( SEMI param ); stops before `,` or the end.
pub fn name_addr(c: &mut Cursor<'_>) -> R<NameAddr> {
    c.skip_ws();
    let (display_name, uri) = match c.peek() {
        Some(b'"') => {
            let d = c.quoted_string()?;
            c.skip_ws();
            (d, bracketed(c)?)
        }
        Some(b'<') => (String::new(), bracketed(c)?),
        _ => match token_display_name(c) {
            Some(d) => (d, bracketed(c)?),
            None => (String::new(), addr_spec(c)?),
        },
    };
    let mut params = Params::new();
    c.params(&mut params)?;
    Ok(NameAddr {
        display_name,
        uri,
        params,
    })
}

/// addr-spec without brackets: the URI ends at `;` (header params follow: RFC 3261 §20.10,
/// RFC 4475 cparam01), `,` or LWS. A URI with `?headers` must be bracketed (regbadct).
fn addr_spec(c: &mut Cursor<'_>) -> R<Uri> {
    let rest = c.rest();
    let end = rest
        .iter()
        .position(|&b| matches!(b, b';' | b',' | b' ' | b'\t'))
        .unwrap_or(rest.len());
    let spec = rest.get(..end).unwrap_or(&[]);
    if spec.is_empty() {
        return Err(bad("missing URI"));
    }
    let u = uri(spec, c.utf8)?;
    if !u.headers.is_empty() {
        return Err(bad("a URI with headers must be enclosed in <>"));
    }
    c.pos += end;
    Ok(u)
}

/// A single name-addr header (From, To, Reply-To, Refer-To, Referred-By).
pub fn single<'a>(v: &'a [u8], utf8: Utf8<'a>) -> R<NameAddr> {
    let mut c = Cursor::within(v, utf8);
    let na = name_addr(&mut c)?;
    c.expect_end()?;
    Ok(na)
}

/// A comma list of name-addrs (Route, Record-Route, Path, P-Asserted-Identity...).
pub fn list<'a>(v: &'a [u8], utf8: Utf8<'a>) -> R<Vec<NameAddr>> {
    let mut c = Cursor::within(v, utf8);
    let mut out = Vec::with_capacity(1);
    loop {
        out.push(name_addr(&mut c)?);
        if !c.list_next()? {
            return Ok(out);
        }
    }
}

/// Contact: `*` or a list of name-addrs (RFC 3261 §20.10).
pub fn contact<'a>(v: &'a [u8], utf8: Utf8<'a>) -> R<HeaderValue> {
    if v == b"*" {
        return Ok(HeaderValue::Star);
    }
    Ok(HeaderValue::NameAddrList(list(v, utf8)?))
}

/// Alert-Info, Call-Info, Error-Info: `<absoluteURI> *( SEMI param )` values.
pub fn uri_params_list(v: &[u8]) -> R<Vec<(Uri, Params)>> {
    let mut c = Cursor::new(v);
    let mut out = Vec::with_capacity(1);
    loop {
        c.skip_ws();
        let u = bracketed(&mut c)?;
        let mut p = Params::new();
        c.params(&mut p)?;
        out.push((u, p));
        if !c.list_next()? {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(v: &str) -> NameAddr {
        single(v.as_bytes(), Utf8::default()).unwrap_or_else(|e| panic!("{v}: {e:?}"))
    }

    #[test]
    fn display_name_forms() {
        let na = one(r#""J Rosenberg \\\""       <sip:jdrosen@example.com> ; tag = 98asjd8"#);
        assert_eq!(na.display_name, "J Rosenberg \\\"");
        assert_eq!(na.uri.user.as_deref(), Some("jdrosen"));
        assert_eq!(na.params, vec![("tag".into(), Some("98asjd8".into()))]);
        let na = one("token1~` token2'+_   token3*%!.- <sip:mundane@example.com>");
        assert_eq!(na.display_name, "token1~` token2'+_ token3*%!.-");
        assert_eq!(
            one("caller<sip:caller@example.com>;tag=1").display_name,
            "caller"
        );
        assert_eq!(one("<sip:a@b>").display_name, "");
    }

    #[test]
    fn addr_spec_params_are_header_params() {
        let na = one("sip:+19725552222@gw1.example.net;unknownparam");
        assert!(na.uri.params.is_empty());
        assert_eq!(na.params, vec![("unknownparam".into(), None)]);
        let na = one("<sip:+19725552222@gw1.example.net;unknownparam>");
        assert_eq!(na.uri.params, vec![("unknownparam".into(), None)]);
        assert!(na.params.is_empty());
    }

    #[test]
    fn malformed_name_addrs() {
        for v in [
            r#""Mr. J. User <sip:j.user@example.com>"#,
            r#""Watson, Thomas" < sip:t.watson@example.org >"#,
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            r#""Joe" <sip:joe@example.org>;;;;"#,
            "<sip:a@b",
            "\"a\" sip:a@b",
            "",
        ] {
            assert!(single(v.as_bytes(), Utf8::default()).is_err(), "{v}");
        }
        assert_eq!(
            single(br#""Mr. J. User <sip:j.user@example.com>"#, Utf8::default())
                .unwrap_err()
                .reason,
            "unclosed_qstring"
        );
    }

    #[test]
    fn lists_and_star() {
        let v = contact(b"<sip:a@b>;q=0.5, \"X\" <sip:c@d>", Utf8::default()).unwrap();
        let HeaderValue::NameAddrList(l) = v else {
            panic!("not a list")
        };
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].display_name, "X");
        assert_eq!(contact(b"*", Utf8::default()).unwrap(), HeaderValue::Star);
        assert!(contact(b"<sip:a@b>,", Utf8::default()).is_err());
        let l = uri_params_list(
            b"<http://wwww.example.com/alice/photo.jpg> ;purpose=icon, <http://x/y>",
        )
        .unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].1, vec![("purpose".into(), Some("icon".into()))]);
    }
}
