//! Challenges and credentials (RFC 3261 §20.7, §20.27, §20.28, §20.44, §25):
//! `Scheme name=value, name="quoted", ...`, and Authentication-Info (§20.6).
//!
//! Any scheme and any parameter are kept (RFC 4475 regaut01), names lowercased, values
//! unquoted. A line normally holds one challenge; if a comma is followed by `token LWS
//! token =`, a new challenge starts there (RFC 7235 style lists).

use crate::core::abnf::{bad, is_token, lower, text, unique_names, Cursor, R};
use crate::core::model::Params;

/// auth-param = token EQUAL ( token / quoted-string ).
fn auth_param(c: &mut Cursor<'_>, name: &[u8], out: &mut Params) -> R<()> {
    if !c.sep(b'=') {
        return Err(bad("expected = in an auth parameter"));
    }
    out.push((lower(name), Some(c.param_value()?)));
    Ok(())
}

/// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" (RFC 7235
/// §2.1), e.g. an RFC 8898 Bearer token.
fn is_token68(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

/// The first item after a scheme: an auth-param, or else a token68 credential, kept
/// verbatim (case included) as a parameter name without value.
fn first_item(c: &mut Cursor<'_>, params: &mut Params) -> R<()> {
    let save = c.pos;
    let as_param = c
        .expect_token("expected an auth parameter")
        .and_then(|name| auth_param(c, name, params));
    let at_item_end = |c: &mut Cursor<'_>| {
        c.skip_ws();
        c.at_end() || c.peek() == Some(b',')
    };
    if as_param.is_ok() && at_item_end(c) {
        return Ok(());
    }
    params.clear();
    c.pos = save;
    let start = c.pos;
    if c.take_while(is_token68).is_empty() {
        return as_param;
    }
    c.take_while(|b| b == b'=');
    let t68 = c.s.get(start..c.pos).unwrap_or(&[]);
    if !at_item_end(c) {
        return as_param.and(Err(bad("malformed credentials")));
    }
    params.push((text(t68), None));
    Ok(())
}

pub fn challenges(v: &[u8]) -> R<Vec<(String, Params)>> {
    let mut c = Cursor::new(v);
    let mut out = Vec::with_capacity(1);
    c.skip_ws();
    let mut scheme = text(c.expect_token("missing auth scheme")?);
    let mut params = Params::new();
    if !c.skip_ws() && !c.at_end() {
        return Err(bad("expected LWS after the auth scheme"));
    }
    if c.at_end() {
        out.push((scheme, params));
        return Ok(out);
    }
    first_item(&mut c, &mut params)?;
    while c.list_next()? {
        let name = c.expect_token("expected an auth parameter")?;
        let after_name = c.pos;
        if c.skip_ws() && c.peek().is_some_and(is_token) {
            // `, Scheme param=...`: the next challenge.
            out.push((scheme, std::mem::take(&mut params)));
            scheme = text(name);
            first_item(&mut c, &mut params)?;
        } else {
            c.pos = after_name;
            auth_param(&mut c, name, &mut params)?;
        }
    }
    out.push((scheme, params));
    // RFC 7235 §2.1: "Each parameter name MUST only occur once per challenge."
    for (_, params) in &out {
        unique_names(params)?;
    }
    Ok(out)
}

/// Authentication-Info = ainfo *( COMMA ainfo ), each `name=value`.
pub fn info(v: &[u8]) -> R<Params> {
    let mut c = Cursor::new(v);
    let mut params = Params::new();
    c.skip_ws();
    loop {
        let name = c.expect_token("expected an auth parameter")?;
        auth_param(&mut c, name, &mut params)?;
        if !c.list_next()? {
            unique_names(&params)?;
            return Ok(params);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_credentials() {
        let v = challenges(br#"Digest username="bob", realm="atlanta.example.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", uri="sips:ss2.biloxi.example.com", response="dfe56131d1958046689d83306477ecc", algorithm=MD5"#).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].0, "Digest");
        assert_eq!(v[0].1[0], ("username".into(), Some("bob".into())));
        assert_eq!(v[0].1[3], ("opaque".into(), Some(String::new())));
        assert_eq!(v[0].1[6], ("algorithm".into(), Some("MD5".into())));
    }

    #[test]
    fn unknown_scheme_and_several_challenges() {
        let v = challenges(b"NoOneKnowsThisScheme opaque-data=here").unwrap();
        assert_eq!(
            v,
            vec![(
                "NoOneKnowsThisScheme".into(),
                vec![("opaque-data".into(), Some("here".into()))]
            )]
        );
        let v = challenges(br#"Digest realm="a", qop="auth", Other Realm=b"#).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[1],
            ("Other".into(), vec![("realm".into(), Some("b".into()))])
        );
        assert_eq!(challenges(b"Bare").unwrap(), vec![("Bare".into(), vec![])]);
        // token68 credentials (RFC 7235 §2.1, RFC 8898 Bearer), kept verbatim.
        assert_eq!(
            challenges(b"Bearer eyJhbGci.eyJzdWIi.SflKxw-RJ_Sf").unwrap(),
            vec![(
                "Bearer".into(),
                vec![("eyJhbGci.eyJzdWIi.SflKxw-RJ_Sf".into(), None)]
            )]
        );
        assert_eq!(
            challenges(b"Basic QWxhZGRpbjpvcGVu/IHNlc2FtZQ==, Digest realm=a").unwrap(),
            vec![
                (
                    "Basic".into(),
                    vec![("QWxhZGRpbjpvcGVu/IHNlc2FtZQ==".into(), None)]
                ),
                ("Digest".into(), vec![("realm".into(), Some("a".into()))])
            ]
        );
        assert!(challenges(b"Bearer abc def").is_err());
        assert!(challenges(b"Digest realm=\"a\" nonce=b").is_err());
        assert!(challenges(b"Digest \"x\"").is_err());
        assert_eq!(
            challenges(b"Digest realm=\"a").unwrap_err().reason,
            "unclosed_qstring"
        );
        assert!(challenges(b"Digest realm=\"a").is_err());
        assert!(challenges(b"Digest realm=a,").is_err());
    }

    #[test]
    fn authentication_info() {
        let p = info(br#"nextnonce="47364c23432d2e131a5fb210812c", qop=auth"#).unwrap();
        assert_eq!(p.len(), 2);
        assert!(info(b"").is_err());
    }
}
