//! `Message` to wire bytes (RFC 3261 §7), reading the Python values directly.
//!
//! - Header order: dict order for a parsed message (`wire_order`), otherwise the canonical
//!   order registered from `sippet.headers` (Via and routing first, RFC 3261 §7.3.1).
//! - Content-Length is always written, last, and always equals the body's length in
//!   octets (RFC 3261 §20.14); the dict's `content_length` is ignored.
//! - List headers are joined with ", " on one line (§7.3.1), except the authentication
//!   headers, whose values contain commas of their own and go one per line (§7.3.1 note),
//!   and raw headers, which keep one line per value.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyString};

use crate::core::headers::{
    self as core_headers, is_valid_call_id, is_valid_replaces_call_id, is_valid_warn_agent,
};
use crate::py::grammar::{is_token, push_uint};
use crate::py::read::{
    dict_of, list_of, opt_str_of, str_of, tuple_of, type_error, uint_of, value_error,
};
use crate::py::types::{self, HeaderInfo, Rank, Shape, Types};
use crate::py::write_uri::write_uri;
use crate::py::write_value::{
    push_comment, push_decimal, push_quoted_text, push_text, push_token, push_version,
    write_auth_params, write_date, write_media_type, write_name_addr, write_params,
    write_token_params, write_via, AuthParams,
};

const CRLF: &[u8] = b"\r\n";

pub fn serialize_message<'py>(
    py: Python<'py>,
    msg: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let types = types::get(py)?;
    let start_line = msg.getattr(intern!(py, "start_line"))?;
    let headers_obj = msg.getattr(intern!(py, "headers"))?;
    let body_obj = msg.getattr(intern!(py, "body"))?;
    // A message built in code (or one whose flag was never set) gets the canonical order.
    let wire_order = match msg.getattr(intern!(py, "wire_order")) {
        Ok(flag) => flag.is_truthy()?,
        Err(_) => false,
    };
    let headers = dict_of(&headers_obj, "Message.headers", "a dict")?;

    let body_copy;
    let body: &[u8] = if let Ok(b) = body_obj.cast::<PyBytes>() {
        b.as_bytes()
    } else if let Ok(s) = body_obj.cast::<PyString>() {
        s.to_str()?.as_bytes()
    } else if let Ok(b) = body_obj.cast::<PyByteArray>() {
        body_copy = b.to_vec();
        &body_copy
    } else {
        return Err(type_error("Message.body", "bytes", &body_obj));
    };

    // One buffer per thread, reused: a message's bytes are assembled there, then copied
    // once into the result. Saves an allocation per call on the hot path.
    let mut out = BUFFER.with(|cell| cell.take());
    out.clear();
    let rendered = render(&mut out, types, &start_line, headers, wire_order, body);
    let result = rendered.map(|()| PyBytes::new(py, &out));
    if out.capacity() <= MAX_KEPT_BUFFER {
        BUFFER.with(|cell| cell.replace(out));
    }
    result
}

thread_local! {
    static BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A buffer grown past this (a huge body) is freed rather than kept for the next call.
const MAX_KEPT_BUFFER: usize = 256 * 1024;

fn render(
    out: &mut Vec<u8>,
    types: &Types,
    start_line: &Bound<'_, PyAny>,
    headers: &Bound<'_, PyDict>,
    wire_order: bool,
    body: &[u8],
) -> PyResult<()> {
    write_start_line(out, start_line)?;
    if wire_order {
        for (key, value) in headers.iter() {
            let info = lookup(types, &key)?;
            write_header(out, types, info, &key, &value)?;
        }
    } else {
        let mut entries = Vec::with_capacity(headers.len());
        for (key, value) in headers.iter() {
            let info = lookup(types, &key)?;
            entries.push((info.map_or(Rank::Middle, |i| i.rank), info, key, value));
        }
        // Stable: headers of the same rank keep their dict order.
        entries.sort_by_key(|entry| entry.0);
        for (_, info, key, value) in &entries {
            write_header(out, types, *info, key, value)?;
        }
    }
    // RFC 3261 §20.14, §18.3: the octet count of the body, whatever the dict says.
    out.extend_from_slice(b"Content-Length: ");
    push_uint(out, body.len() as u64);
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body);
    Ok(())
}

fn lookup<'t>(types: &'t Types, key: &Bound<'_, PyAny>) -> PyResult<Option<&'t HeaderInfo>> {
    if let Some(i) = types.header_by_ptr.get(key.as_ptr() as usize) {
        return Ok(Some(&types.headers[i]));
    }
    let name = str_of(key, "Message.headers", "str keys")?;
    Ok(types.header_index.get(name).map(|&i| &types.headers[i]))
}

/// `Request-Line` (RFC 3261 §7.1) or `Status-Line` (§7.2). Plain tuples work too: an int
/// first field is a status line, a str one a request line.
/// A header value of free text (Subject, Server, an unknown header's line). RFC 3261
/// §7.3.1 and §25.1 (TEXT-UTF8-TRIM): whitespace around a value is not part of it, so
/// a value that begins or ends with SP or HTAB would not read back as written.
fn push_header_text(out: &mut Vec<u8>, text: &str, ctx: &str) -> PyResult<()> {
    if text.starts_with([' ', '\t']) || text.ends_with([' ', '\t']) {
        return Err(value_error(
            ctx,
            &format!("{text:?}: whitespace around a header value is not part of it"),
        ));
    }
    push_text(out, text, ctx)
}

/// A Call-ID (or Replaces call-id) the parser reads back: `word ["@" word]`.
fn push_call_id(out: &mut Vec<u8>, text: &str, ctx: &str, valid: fn(&str) -> bool) -> PyResult<()> {
    if !valid(text) {
        return Err(value_error(
            ctx,
            &format!("{text:?} is not a Call-ID (word [\"@\" word], RFC 3261 §25.1)"),
        ));
    }
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

fn write_start_line(out: &mut Vec<u8>, start_line: &Bound<'_, PyAny>) -> PyResult<()> {
    const CTX: &str = "start line";
    let t = tuple_of(start_line, 3, CTX, "a RequestLine or StatusLine")?;
    let first = t.get_borrowed_item(0)?;
    if let Ok(method) = first.cast::<PyString>() {
        push_token(out, method.to_str()?, CTX, "method")?;
        out.push(b' ');
        let uri = t.get_borrowed_item(1)?;
        // RFC 3261 §19.1.5: headers are not allowed in a Request-URI (the parser refuses
        // them, `request_uri_headers`); they belong in the request itself.
        let uri_headers = tuple_of(&uri, 8, "Request-URI", "a URI")?.get_borrowed_item(6)?;
        if !dict_of(&uri_headers, "Request-URI", "a dict of URI headers")?.is_empty() {
            return Err(value_error(
                "Request-URI",
                "a Request-URI cannot carry ?headers (RFC 3261 §19.1.5)",
            ));
        }
        write_uri(out, &uri, "Request-URI")?;
        out.push(b' ');
        push_version(out, &*t.get_borrowed_item(2)?, CTX)?;
    } else {
        push_version(out, &*t.get_borrowed_item(2)?, CTX)?;
        out.push(b' ');
        let code = uint_of(&first, CTX, "an int status code", 699)?;
        if code < 100 {
            return Err(value_error(
                CTX,
                &format!("status code {code} is not 1xx-6xx"),
            ));
        }
        push_uint(out, code);
        out.push(b' ');
        let reason = t.get_borrowed_item(1)?;
        push_text(out, str_of(&reason, CTX, "a str reason phrase")?, CTX)?;
    }
    out.extend_from_slice(CRLF);
    Ok(())
}

fn start(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
}

fn write_header(
    out: &mut Vec<u8>,
    types: &Types,
    info: Option<&HeaderInfo>,
    key: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
) -> PyResult<()> {
    match info {
        Some(info) => match info.shape {
            Some(Shape::ContentLength) => Ok(()),
            Some(_) if is_unparsed(types, value) => write_unparsed(out, info, value),
            Some(shape) => write_typed(out, info, shape, value),
            None => write_raw(out, &info.name, value),
        },
        None => {
            let name = str_of(key, "Message.headers", "str keys")?;
            // Content-Length is ours to write (see serialize_message).
            if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l") {
                return Ok(());
            }
            if !is_token(name) {
                return Err(value_error(
                    "Message.headers",
                    &format!("header name {name:?} is not a token"),
                ));
            }
            // A raw line under a typed header's name (any case, or its compact form)
            // would be read back as that header: a forged Via or Contact, or a second
            // Call-ID. Typed headers go under their keys ("via", "call_id"...).
            // A registered header kept raw reads back under its canonical name: only
            // that spelling round-trips.
            match core_headers::lookup(name.as_bytes()) {
                core_headers::Lookup::Known(i) => {
                    let key = core_headers::SPECS.get(i).map_or("?", |spec| spec.key);
                    return Err(value_error(
                        "Message.headers",
                        &format!("{name:?} is the typed header {key:?}: use that key"),
                    ));
                }
                core_headers::Lookup::Registered(canonical) if canonical != name => {
                    return Err(value_error(
                        "Message.headers",
                        &format!("{name:?} is the header {canonical:?}: use that key"),
                    ));
                }
                _ => {}
            }
            write_raw(out, name, value)
        }
    }
}

fn is_unparsed(types: &Types, value: &Bound<'_, PyAny>) -> bool {
    types
        .unparsed
        .as_ref()
        .is_some_and(|class| value.get_type().is(class.bind(value.py())))
}

/// A typed header echoed as the text it came with (`Unparsed(text)`): RFC 3261 §8.2.6.2
/// has a response copy the request's From, To, Call-ID and CSeq even when they did not
/// parse. The one value the serializer writes that it would not read back; the text must
/// still be a single header line.
fn write_unparsed(out: &mut Vec<u8>, info: &HeaderInfo, value: &Bound<'_, PyAny>) -> PyResult<()> {
    let ctx = info.name.as_str();
    let text = tuple_of(value, 1, ctx, "Unparsed(text)")?.get_borrowed_item(0)?;
    out.extend_from_slice(info.line_start.as_bytes());
    push_header_text(out, str_of(&text, ctx, "str text")?, ctx)?;
    out.extend_from_slice(CRLF);
    Ok(())
}

/// An unknown header: one line per raw value (a lone str is one line).
fn write_raw(out: &mut Vec<u8>, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if let Ok(text) = value.cast::<PyString>() {
        start(out, name);
        push_header_text(out, text.to_str()?, name)?;
        out.extend_from_slice(CRLF);
        return Ok(());
    }
    for line in list_of(value, name, "a list of str (raw header lines)")?.iter() {
        start(out, name);
        push_header_text(out, str_of(&line, name, "str raw header lines")?, name)?;
        out.extend_from_slice(CRLF);
    }
    Ok(())
}

/// A list header joined on one line. An empty list writes nothing, except for the headers
/// whose grammar allows an empty value (Accept, Allow, Supported...), written empty.
fn write_joined<'py>(
    out: &mut Vec<u8>,
    info: &HeaderInfo,
    value: &Bound<'py, PyAny>,
    expected: &str,
    mut each: impl FnMut(&mut Vec<u8>, &Bound<'py, PyAny>) -> PyResult<()>,
) -> PyResult<()> {
    let list = list_of(value, &info.name, expected)?;
    if list.is_empty() && !info.empty_ok {
        return Ok(());
    }
    out.extend_from_slice(info.line_start.as_bytes());
    for (i, item) in list.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        each(out, &item)?;
    }
    out.extend_from_slice(CRLF);
    Ok(())
}

fn write_typed(
    out: &mut Vec<u8>,
    info: &HeaderInfo,
    shape: Shape,
    value: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let ctx = info.name.as_str();
    match shape {
        Shape::Text => {
            let text = str_of(value, ctx, "str")?;
            out.extend_from_slice(info.line_start.as_bytes());
            push_header_text(out, text, ctx)?;
        }
        Shape::CallId => {
            let text = str_of(value, ctx, "str")?;
            out.extend_from_slice(info.line_start.as_bytes());
            push_call_id(out, text, ctx, is_valid_call_id)?;
        }
        Shape::Token => {
            let text = str_of(value, ctx, "str")?;
            out.extend_from_slice(info.line_start.as_bytes());
            push_token(out, text, ctx, "value")?;
        }
        Shape::Int(max) => {
            // The parser's bound for this header (Max-Forwards 255, RFC 3261 §20.22; the
            // others 2**32-1): a larger number would not read back.
            let n = uint_of(value, ctx, "a non-negative int", max)?;
            out.extend_from_slice(info.line_start.as_bytes());
            push_uint(out, n);
        }
        Shape::ContentLength => return Ok(()),
        Shape::Tokens => {
            return write_joined(out, info, value, "a list of str", |out, item| {
                push_token(out, str_of(item, ctx, "str values")?, ctx, "value")
            })
        }
        Shape::CallIds => {
            return write_joined(out, info, value, "a list of str", |out, item| {
                push_call_id(out, str_of(item, ctx, "str values")?, ctx, is_valid_call_id)
            })
        }
        Shape::Privacy => {
            // RFC 3323 §4.2: Privacy-hdr = "Privacy" HCOLON priv-value *(";" priv-value)
            let list = list_of(value, ctx, "a list of str")?;
            if list.is_empty() {
                return Ok(());
            }
            out.extend_from_slice(info.line_start.as_bytes());
            for (i, item) in list.iter().enumerate() {
                if i > 0 {
                    out.push(b';');
                }
                push_token(out, str_of(&item, ctx, "str values")?, ctx, "priv-value")?;
            }
        }
        Shape::Methods => {
            return write_joined(out, info, value, "a list of methods", |out, item| {
                push_token(
                    out,
                    str_of(item, ctx, "Method or str values")?,
                    ctx,
                    "method",
                )
            })
        }
        Shape::TokenParams => {
            out.extend_from_slice(info.line_start.as_bytes());
            write_token_params(out, value, ctx)?;
        }
        Shape::CallIdParams => {
            let t = tuple_of(value, 2, ctx, "a TokenParams (call-id, params)")?;
            out.extend_from_slice(info.line_start.as_bytes());
            let call_id = t.get_borrowed_item(0)?;
            push_call_id(
                out,
                str_of(&call_id, ctx, "a str call-id")?,
                ctx,
                is_valid_replaces_call_id,
            )?;
            write_params(out, &*t.get_borrowed_item(1)?, ctx)?;
        }
        Shape::TokenParamsList => {
            return write_joined(out, info, value, "a list of TokenParams", |out, item| {
                write_token_params(out, item, ctx)
            })
        }
        Shape::MediaType => {
            out.extend_from_slice(info.line_start.as_bytes());
            write_media_type(out, value, ctx)?;
        }
        Shape::MediaTypeList => {
            return write_joined(out, info, value, "a list of MediaType", |out, item| {
                write_media_type(out, item, ctx)
            })
        }
        Shape::UriParamsList => {
            return write_joined(out, info, value, "a list of UriParams", |out, item| {
                let t = tuple_of(item, 2, ctx, "a UriParams (uri, params)")?;
                out.push(b'<');
                write_uri(out, &*t.get_borrowed_item(0)?, ctx)?;
                out.push(b'>');
                write_params(out, &*t.get_borrowed_item(1)?, ctx)
            })
        }
        Shape::Challenges | Shape::Credentials => {
            // One line per value: a challenge's own params are comma-separated.
            let kind = if shape == Shape::Challenges {
                AuthParams::Challenge
            } else {
                AuthParams::Credentials
            };
            for item in list_of(value, ctx, "a list of Auth")?.iter() {
                let t = tuple_of(&item, 2, ctx, "an Auth (scheme, params)")?;
                out.extend_from_slice(info.line_start.as_bytes());
                let scheme = t.get_borrowed_item(0)?;
                push_token(
                    out,
                    str_of(&scheme, ctx, "a str auth scheme")?,
                    ctx,
                    "auth scheme",
                )?;
                let params = t.get_borrowed_item(1)?;
                if !dict_of(&params, ctx, "a dict of auth parameters")?.is_empty() {
                    out.push(b' ');
                    write_auth_params(out, &params, ctx, kind)?;
                }
                out.extend_from_slice(CRLF);
            }
            return Ok(());
        }
        Shape::AuthInfo => {
            // RFC 3261 §20.6: one or more `name=value`.
            if dict_of(value, ctx, "a dict of parameters")?.is_empty() {
                return Err(value_error(ctx, "needs at least one parameter"));
            }
            out.extend_from_slice(info.line_start.as_bytes());
            write_auth_params(out, value, ctx, AuthParams::Info)?;
        }
        Shape::Contact => {
            if let Ok(star) = value.cast::<PyString>() {
                if star.to_str()? != "*" {
                    return Err(value_error(ctx, "the only str Contact value is \"*\""));
                }
                out.extend_from_slice(info.line_start.as_bytes());
                out.push(b'*');
            } else {
                return write_joined(
                    out,
                    info,
                    value,
                    "\"*\" or a list of NameAddr",
                    |out, item| write_name_addr(out, item, ctx),
                );
            }
        }
        Shape::NameAddr => {
            out.extend_from_slice(info.line_start.as_bytes());
            write_name_addr(out, value, ctx)?;
        }
        Shape::NameAddrList => {
            return write_joined(out, info, value, "a list of NameAddr", |out, item| {
                write_name_addr(out, item, ctx)
            })
        }
        Shape::CSeq => {
            // RFC 3261 §20.16: CSeq = 1*DIGIT LWS Method; a 32-bit unsigned number.
            let t = tuple_of(value, 2, ctx, "a CSeq (seq, method)")?;
            let seq = uint_of(
                &*t.get_borrowed_item(0)?,
                ctx,
                "sequence number",
                u64::from(u32::MAX),
            )?;
            let method = t.get_borrowed_item(1)?;
            let method = str_of(&method, ctx, "a Method or str method")?;
            out.extend_from_slice(info.line_start.as_bytes());
            push_uint(out, seq);
            out.push(b' ');
            push_token(out, method, ctx, "method")?;
        }
        Shape::Date => {
            out.extend_from_slice(info.line_start.as_bytes());
            write_date(out, value, ctx)?;
        }
        Shape::MimeVersion => {
            let t = tuple_of(value, 2, ctx, "a MimeVersion (major, minor)")?;
            out.extend_from_slice(info.line_start.as_bytes());
            push_uint(
                out,
                uint_of(&*t.get_borrowed_item(0)?, ctx, "major", u64::from(u32::MAX))?,
            );
            out.push(b'.');
            push_uint(
                out,
                uint_of(&*t.get_borrowed_item(1)?, ctx, "minor", u64::from(u32::MAX))?,
            );
        }
        Shape::RetryAfter => {
            // RFC 3261 §20.33: delta-seconds [ comment ] *( SEMI retry-param ).
            let t = tuple_of(value, 3, ctx, "a RetryAfter (seconds, comment, params)")?;
            out.extend_from_slice(info.line_start.as_bytes());
            push_uint(
                out,
                uint_of(
                    &*t.get_borrowed_item(0)?,
                    ctx,
                    "seconds",
                    u64::from(u32::MAX),
                )?,
            );
            let comment = t.get_borrowed_item(1)?;
            if let Some(comment) = opt_str_of(&comment, ctx, "a str or None comment")? {
                out.extend_from_slice(b" (");
                push_comment(out, comment, ctx)?;
                out.push(b')');
            }
            write_params(out, &*t.get_borrowed_item(2)?, ctx)?;
        }
        Shape::Timestamp => {
            // RFC 3261 §20.38: 1*DIGIT ["." *DIGIT] [ LWS delay ].
            let t = tuple_of(value, 2, ctx, "a Timestamp (timestamp, delay)")?;
            out.extend_from_slice(info.line_start.as_bytes());
            push_decimal(out, &*t.get_borrowed_item(0)?, ctx)?;
            let delay = t.get_borrowed_item(1)?;
            if !delay.is_none() {
                out.push(b' ');
                push_decimal(out, &delay, ctx)?;
            }
        }
        Shape::Via => {
            return write_joined(out, info, value, "a list of Via", |out, item| {
                write_via(out, item, ctx)
            })
        }
        Shape::Warning => {
            // RFC 3261 §20.43: warn-code SP warn-agent SP warn-text.
            return write_joined(out, info, value, "a list of Warning", |out, item| {
                let t = tuple_of(item, 3, ctx, "a Warning (code, agent, text)")?;
                let code = uint_of(&*t.get_borrowed_item(0)?, ctx, "warning code", 999)?;
                out.extend_from_slice(format!("{code:03} ").as_bytes());
                let agent = t.get_borrowed_item(1)?;
                let agent = str_of(&agent, ctx, "a str warn-agent")?;
                if !is_valid_warn_agent(agent) {
                    return Err(value_error(
                        ctx,
                        &format!("{agent:?} is not a warn-agent (host[:port] or token)"),
                    ));
                }
                out.extend_from_slice(agent.as_bytes());
                out.push(b' ');
                let text = t.get_borrowed_item(2)?;
                push_quoted_text(out, str_of(&text, ctx, "a str warn-text")?, ctx)
            });
        }
        Shape::DeltaParams => {
            let t = tuple_of(value, 2, ctx, "a DeltaParams (seconds, params)")?;
            out.extend_from_slice(info.line_start.as_bytes());
            push_uint(
                out,
                uint_of(
                    &*t.get_borrowed_item(0)?,
                    ctx,
                    "seconds",
                    u64::from(u32::MAX),
                )?,
            );
            write_params(out, &*t.get_borrowed_item(1)?, ctx)?;
        }
        Shape::RAck => {
            // RFC 3262 §7.2: response-num LWS CSeq-num LWS Method.
            let t = tuple_of(value, 3, ctx, "a RAck (rseq, cseq, method)")?;
            out.extend_from_slice(info.line_start.as_bytes());
            push_uint(
                out,
                uint_of(&*t.get_borrowed_item(0)?, ctx, "rseq", u64::from(u32::MAX))?,
            );
            out.push(b' ');
            push_uint(
                out,
                uint_of(&*t.get_borrowed_item(1)?, ctx, "cseq", u64::from(u32::MAX))?,
            );
            out.push(b' ');
            let method = t.get_borrowed_item(2)?;
            push_token(
                out,
                str_of(&method, ctx, "a Method or str method")?,
                ctx,
                "method",
            )?;
        }
    }
    out.extend_from_slice(CRLF);
    Ok(())
}
