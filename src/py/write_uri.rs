//! `URI` (a tuple of 8 fields) to text: RFC 3261 §19.1.1 (sip, sips), RFC 3966 (tel),
//! `scheme:opaque` for any other scheme.
//!
//! User, password, parameters and headers are percent-escaped where §25 does not allow a
//! character unescaped, so a decoded value always reads back the same. IPv6 hosts are
//! stored without brackets and get them here.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::core::uri::{is_valid_host, is_valid_opaque, is_valid_tel_number};
use crate::py::grammar::{push_escaped, push_uint, UriPart};
use crate::py::read::{dict_of, opt_str_of, str_of, tuple_of, type_error, uint_of, value_error};

const URI_FIELDS: &str = "a URI (scheme, user, password, host, port, parameters, headers, opaque)";

/// A host as written in a URI or Via sent-by: IPv6 in brackets. Characters that would end
/// the URI or the header early are rejected.
#[inline]
pub fn push_host(out: &mut Vec<u8>, host: &str, ctx: &str) -> PyResult<()> {
    if !is_valid_host(host) {
        return Err(invalid_host(host, ctx));
    }
    if host.contains(':') {
        out.push(b'[');
        out.extend_from_slice(host.as_bytes());
        out.push(b']');
    } else {
        out.extend_from_slice(host.as_bytes());
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn invalid_host(host: &str, ctx: &str) -> PyErr {
    value_error(ctx, &format!("invalid host {host:?}"))
}

/// `;name[=value]` URI parameters, both escaped (RFC 3261 §19.1.1 uri-parameters).
fn push_uri_params(out: &mut Vec<u8>, params: &Bound<'_, PyDict>, ctx: &str) -> PyResult<()> {
    if params.is_empty() {
        return Ok(());
    }
    for (name, value) in params.iter() {
        out.push(b';');
        let name = str_of(&name, ctx, "str parameter names")?;
        if name.is_empty() {
            return Err(value_error(ctx, "an empty URI parameter name"));
        }
        push_escaped(out, name, UriPart::Param);
        if !value.is_none() {
            out.push(b'=');
            if let Ok(text) = value.cast::<PyString>() {
                // `;name` is the parameter without a value (None); `;name=` does not parse.
                let text = text.to_str()?;
                if text.is_empty() {
                    return Err(value_error(
                        ctx,
                        &format!("URI parameter {name:?}: empty value (use None for none)"),
                    ));
                }
                push_escaped(out, text, UriPart::Param);
            } else {
                // An int is accepted for convenience (`{"ttl": 16}`) and written in decimal.
                push_uint(
                    out,
                    uint_of(&value, ctx, "str, int or None parameter values", u64::MAX)?,
                );
            }
        }
    }
    Ok(())
}

/// Writes a URI, refusing (ValueError) one whose text would not read back as the same
/// URI: the fields a scheme has no place for, empty names, and hosts, numbers or opaque
/// parts outside the grammar the parser reads.
pub fn write_uri(out: &mut Vec<u8>, uri: &Bound<'_, PyAny>, ctx: &str) -> PyResult<()> {
    let t = tuple_of(uri, 8, ctx, URI_FIELDS)?;
    let scheme_obj = t.get_borrowed_item(0)?;
    let scheme = str_of(&scheme_obj, ctx, "a str URI scheme")?;
    // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    let valid = scheme == "sip"
        || scheme == "sips"
        || (scheme
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphabetic)
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')));
    if !valid {
        return Err(value_error(ctx, &format!("invalid URI scheme {scheme:?}")));
    }
    let sip = scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips");
    let tel = scheme.eq_ignore_ascii_case("tel");
    out.extend_from_slice(scheme.as_bytes());
    out.push(b':');

    let user_obj = t.get_borrowed_item(1)?;
    let user = opt_str_of(&user_obj, ctx, "a str or None URI user")?;
    let password_obj = t.get_borrowed_item(2)?;
    let password = opt_str_of(&password_obj, ctx, "a str or None URI password")?;
    let host_obj = t.get_borrowed_item(3)?;
    let host = opt_str_of(&host_obj, ctx, "a str URI host")?;
    let port_obj = t.get_borrowed_item(4)?;
    let params_obj = t.get_borrowed_item(5)?;
    let params = dict_of(&params_obj, ctx, "a dict of URI parameters")?;
    let headers_obj = t.get_borrowed_item(6)?;
    let headers = dict_of(&headers_obj, ctx, "a dict of URI headers")?;
    let opaque_obj = t.get_borrowed_item(7)?;
    let opaque = opt_str_of(&opaque_obj, ctx, "a str or None URI opaque part")?;

    if !sip && !tel {
        // RFC 3986 absolute URI, kept verbatim: it is all there is.
        let Some(opaque) = opaque else {
            return Err(value_error(
                ctx,
                &format!("a {scheme} URI is its opaque part (set opaque, not host or user)"),
            ));
        };
        if user.is_some() || password.is_some() || host.is_some() || !port_obj.is_none() {
            return Err(unused_fields(ctx, scheme));
        }
        if !params.is_empty() || !headers.is_empty() {
            return Err(unused_fields(ctx, scheme));
        }
        if !is_valid_opaque(opaque) {
            return Err(value_error(
                ctx,
                &format!("invalid characters in URI {opaque:?}"),
            ));
        }
        out.extend_from_slice(opaque.as_bytes());
        return Ok(());
    }
    if opaque.is_some() {
        return Err(value_error(
            ctx,
            &format!("a {scheme} URI has no opaque part"),
        ));
    }

    if tel {
        // RFC 3966 §3: telephone-subscriber, then its parameters; nothing else.
        let number = user.ok_or_else(|| value_error(ctx, "a tel URI needs a number (user)"))?;
        if !is_valid_tel_number(number) {
            return Err(value_error(
                ctx,
                &format!("{number:?} is not a telephone number (RFC 3966 §3)"),
            ));
        }
        if password.is_some() || host.is_some() || !port_obj.is_none() || !headers.is_empty() {
            return Err(unused_fields(ctx, scheme));
        }
        out.extend_from_slice(number.as_bytes());
        return push_uri_params(out, params, ctx);
    }

    match (user, password) {
        (Some(""), _) => return Err(value_error(ctx, "an empty URI user")),
        (Some(user), password) => {
            push_escaped(out, user, UriPart::User);
            if let Some(password) = password {
                out.push(b':');
                push_escaped(out, password, UriPart::Password);
            }
            out.push(b'@');
        }
        (None, Some(_)) => return Err(value_error(ctx, "a URI password needs a user")),
        (None, None) => {}
    }
    let host = host.ok_or_else(|| value_error(ctx, &format!("a {scheme} URI needs a host")))?;
    push_host(out, host, ctx)?;
    if !port_obj.is_none() {
        out.push(b':');
        push_uint(out, uint_of(&port_obj, ctx, "URI port", 65_535)?);
    }
    push_uri_params(out, params, ctx)?;
    if headers.is_empty() {
        return Ok(());
    }
    for (i, (name, value)) in headers.iter().enumerate() {
        out.push(if i == 0 { b'?' } else { b'&' });
        let name = str_of(&name, ctx, "str URI header names")?;
        if name.is_empty() {
            return Err(value_error(ctx, "an empty URI header name"));
        }
        push_escaped(out, name, UriPart::Header);
        out.push(b'=');
        push_escaped(
            out,
            str_of(&value, ctx, "str URI header values")?,
            UriPart::Header,
        );
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn unused_fields(ctx: &str, scheme: &str) -> PyErr {
    value_error(
        ctx,
        &format!("a {scheme} URI cannot carry these fields: they would not be written"),
    )
}

/// `serialize_uri(uri) -> str`.
pub fn uri_to_string(uri: &Bound<'_, PyAny>) -> PyResult<String> {
    let mut out = Vec::with_capacity(64);
    write_uri(&mut out, uri, "URI")?;
    // Only ASCII and whole UTF-8 strings were appended.
    String::from_utf8(out).map_err(|_| type_error("URI", "UTF-8 text", uri))
}
