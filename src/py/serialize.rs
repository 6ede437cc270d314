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

use crate::py::grammar::{
    is_atom, is_host, is_line_safe, is_token, is_token68, is_token_sequence, push_quoted, push_uint,
};
use crate::py::read::{
    dict_of, list_of, opt_str_of, str_of, tuple_of, type_error, uint_of, value_error,
};
use crate::py::types::{self, HeaderInfo, Rank, Shape, Types};
use crate::py::write_uri::{push_host, write_uri};

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
            write_header(out, info, &key, &value)?;
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
            write_header(out, *info, key, value)?;
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

fn push_version(out: &mut Vec<u8>, version: &Bound<'_, PyAny>, ctx: &str) -> PyResult<()> {
    let t = tuple_of(version, 2, ctx, "a (major, minor) version tuple")?;
    out.extend_from_slice(b"SIP/");
    push_uint(
        out,
        uint_of(&*t.get_borrowed_item(0)?, ctx, "version major", 999)?,
    );
    out.push(b'.');
    push_uint(
        out,
        uint_of(&*t.get_borrowed_item(1)?, ctx, "version minor", 999)?,
    );
    Ok(())
}

#[inline]
fn push_token(out: &mut Vec<u8>, text: &str, ctx: &str, what: &str) -> PyResult<()> {
    if !is_token(text) {
        return Err(not_a_token(text, ctx, what));
    }
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

#[cold]
#[inline(never)]
fn not_a_token(text: &str, ctx: &str, what: &str) -> PyErr {
    value_error(ctx, &format!("{what} {text:?} is not a token"))
}

#[inline]
fn push_text(out: &mut Vec<u8>, text: &str, ctx: &str) -> PyResult<()> {
    if !is_line_safe(text) {
        return Err(line_break_in(text, ctx));
    }
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

#[cold]
#[inline(never)]
fn line_break_in(text: &str, ctx: &str) -> PyErr {
    value_error(ctx, &format!("CR or LF in {text:?}"))
}

fn push_quoted_text(out: &mut Vec<u8>, text: &str, ctx: &str) -> PyResult<()> {
    if !is_line_safe(text) {
        return Err(line_break_in(text, ctx));
    }
    push_quoted(out, text);
    Ok(())
}

/// `Request-Line` (RFC 3261 §7.1) or `Status-Line` (§7.2). Plain tuples work too: an int
/// first field is a status line, a str one a request line.
fn write_start_line(out: &mut Vec<u8>, start_line: &Bound<'_, PyAny>) -> PyResult<()> {
    const CTX: &str = "start line";
    let t = tuple_of(start_line, 3, CTX, "a RequestLine or StatusLine")?;
    let first = t.get_borrowed_item(0)?;
    if let Ok(method) = first.cast::<PyString>() {
        push_token(out, method.to_str()?, CTX, "method")?;
        out.push(b' ');
        write_uri(out, &*t.get_borrowed_item(1)?, "Request-URI")?;
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
    info: Option<&HeaderInfo>,
    key: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
) -> PyResult<()> {
    match info {
        Some(info) => match info.shape {
            Some(Shape::ContentLength) => Ok(()),
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
            write_raw(out, name, value)
        }
    }
}

/// An unknown header: one line per raw value (a lone str is one line).
fn write_raw(out: &mut Vec<u8>, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if let Ok(text) = value.cast::<PyString>() {
        start(out, name);
        push_text(out, text.to_str()?, name)?;
        out.extend_from_slice(CRLF);
        return Ok(());
    }
    for line in list_of(value, name, "a list of str (raw header lines)")?.iter() {
        start(out, name);
        push_text(out, str_of(&line, name, "str raw header lines")?, name)?;
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
            push_text(out, text, ctx)?;
        }
        Shape::Int => {
            let n = uint_of(value, ctx, "a non-negative int", u64::MAX)?;
            out.extend_from_slice(info.line_start.as_bytes());
            push_uint(out, n);
        }
        Shape::ContentLength => return Ok(()),
        Shape::Tokens => {
            return write_joined(out, info, value, "a list of str", |out, item| {
                push_atom(out, str_of(item, ctx, "str values")?, ctx)
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
            let challenge = shape == Shape::Challenges;
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
                    write_auth_params(out, &params, ctx, challenge)?;
                }
                out.extend_from_slice(CRLF);
            }
            return Ok(());
        }
        Shape::AuthInfo => {
            out.extend_from_slice(info.line_start.as_bytes());
            write_auth_params(out, value, ctx, false)?;
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
                push_atom(out, str_of(&agent, ctx, "a str warn-agent")?, ctx)?;
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

#[inline]
fn push_atom(out: &mut Vec<u8>, text: &str, ctx: &str) -> PyResult<()> {
    if !is_atom(text) {
        return Err(not_an_atom(text, ctx));
    }
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

#[cold]
#[inline(never)]
fn not_an_atom(text: &str, ctx: &str) -> PyErr {
    value_error(
        ctx,
        &format!("{text:?} cannot be written unquoted in a list"),
    )
}

/// A comment's text inside `( )`: written as is when its parentheses balance (nested
/// comments are legal), otherwise with `(`, `)` and `\` as quoted-pairs (RFC 3261 §25.1).
fn push_comment(out: &mut Vec<u8>, text: &str, ctx: &str) -> PyResult<()> {
    if !is_line_safe(text) {
        return Err(value_error(ctx, &format!("CR or LF in {text:?}")));
    }
    let mut depth = 0i64;
    let mut balanced = !text.contains('\\');
    for b in text.bytes() {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth < 0 {
                    balanced = false;
                }
            }
            _ => {}
        }
    }
    if balanced && depth == 0 {
        out.extend_from_slice(text.as_bytes());
    } else {
        for &b in text.as_bytes() {
            if matches!(b, b'(' | b')' | b'\\') {
                out.push(b'\\');
            }
            out.push(b);
        }
    }
    Ok(())
}

/// A non-negative finite number in plain decimal (no exponent), the shortest form that
/// reads back as the same float.
fn push_decimal(out: &mut Vec<u8>, value: &Bound<'_, PyAny>, ctx: &str) -> PyResult<()> {
    let x: f64 = value
        .extract()
        .map_err(|_| type_error(ctx, "a float", value))?;
    if !x.is_finite() || x < 0.0 {
        return Err(value_error(
            ctx,
            &format!("{x} is not a non-negative finite number"),
        ));
    }
    out.extend_from_slice(format!("{x}").as_bytes());
    Ok(())
}

/// `;name[=value]` header parameters (RFC 3261 §25.1 generic-param). A value is written
/// bare when it is a token (or a host for received/maddr, §20.42), quoted otherwise.
fn write_params(out: &mut Vec<u8>, params: &Bound<'_, PyAny>, ctx: &str) -> PyResult<()> {
    let params = dict_of(params, ctx, "a dict of parameters")?;
    if params.is_empty() {
        // Most name-addrs and URIs have none: skip creating an iterator.
        return Ok(());
    }
    for (name, value) in params.iter() {
        let name = str_of(&name, ctx, "str parameter names")?;
        out.push(b';');
        push_token(out, name, ctx, "parameter name")?;
        if value.is_none() {
            continue;
        }
        out.push(b'=');
        if let Ok(text) = value.cast::<PyString>() {
            let text = text.to_str()?;
            if (is_token(text) && !always_quoted(ctx, name))
                || ((name.eq_ignore_ascii_case("received") || name.eq_ignore_ascii_case("maddr"))
                    && is_host(text))
            {
                out.extend_from_slice(text.as_bytes());
            } else {
                push_quoted_text(out, text, ctx)?;
            }
        } else {
            // An int is accepted for convenience (`{"expires": 3600}`).
            push_uint(
                out,
                uint_of(&value, ctx, "str, int or None parameter values", u64::MAX)?,
            );
        }
    }
    Ok(())
}

/// Parameters the grammar wants as a quoted-string even when the value is a token.
fn always_quoted(header: &str, name: &str) -> bool {
    // RFC 3840 §9: feature-param = enc-feature-tag [EQUAL LDQUOT (tag-value-list /
    // string-value) RDQUOT]; "+" starts an extension feature tag, the base tags are listed.
    const BASE_TAGS: [&str; 20] = [
        "audio",
        "automata",
        "class",
        "duplex",
        "data",
        "control",
        "mobility",
        "description",
        "events",
        "priority",
        "methods",
        "schemes",
        "application",
        "video",
        "language",
        "type",
        "isfocus",
        "actor",
        "text",
        "extensions",
    ];
    name.starts_with('+')
        || (header == "Contact" && BASE_TAGS.iter().any(|tag| name.eq_ignore_ascii_case(tag)))
        // RFC 3326 §2: reason-text = "text" EQUAL quoted-string
        || (header == "Reason" && name.eq_ignore_ascii_case("text"))
}

/// Digest parameters, comma-separated (RFC 3261 §25.1 digest-cln, dig-resp, ainfo). The
/// grammar requires some values quoted whatever their text; the others (algorithm, stale,
/// nc, and qop in credentials) are tokens written bare, quoted only if they are not tokens.
fn write_auth_params(
    out: &mut Vec<u8>,
    params: &Bound<'_, PyAny>,
    ctx: &str,
    challenge: bool,
) -> PyResult<()> {
    for (i, (name, value)) in dict_of(params, ctx, "a dict of auth parameters")?
        .iter()
        .enumerate()
    {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        let name = str_of(&name, ctx, "str parameter names")?;
        if value.is_none() && is_token68(name) {
            // A token68 credential (RFC 7235 §2.1: Basic, Bearer), kept by the parser as a
            // parameter without value.
            out.extend_from_slice(name.as_bytes());
            continue;
        }
        push_token(out, name, ctx, "parameter name")?;
        if value.is_none() {
            continue;
        }
        out.push(b'=');
        let text = str_of(&value, ctx, "str or None auth parameter values")?;
        let always_quoted = matches!(
            name.to_ascii_lowercase().as_str(),
            "realm"
                | "nonce"
                | "opaque"
                | "domain"
                | "username"
                | "uri"
                | "response"
                | "cnonce"
                | "nextnonce"
                | "rspauth"
        ) || (challenge && name.eq_ignore_ascii_case("qop"));
        if !always_quoted && is_token(text) {
            out.extend_from_slice(text.as_bytes());
        } else {
            push_quoted_text(out, text, ctx)?;
        }
    }
    Ok(())
}

/// `"Display Name" <uri>;params`, always with angle brackets (RFC 3261 §20.10: a URI with
/// `;`, `,` or `?` must be enclosed, and always doing so is never wrong).
fn write_name_addr(out: &mut Vec<u8>, value: &Bound<'_, PyAny>, ctx: &str) -> PyResult<()> {
    let t = tuple_of(value, 3, ctx, "a NameAddr (display_name, uri, params)")?;
    let display = t.get_borrowed_item(0)?;
    let display = str_of(&display, ctx, "a str display name")?;
    if !display.is_empty() {
        if is_token_sequence(display) {
            out.extend_from_slice(display.as_bytes());
        } else {
            push_quoted_text(out, display, ctx)?;
        }
        out.push(b' ');
    }
    out.push(b'<');
    write_uri(out, &*t.get_borrowed_item(1)?, ctx)?;
    out.push(b'>');
    write_params(out, &*t.get_borrowed_item(2)?, ctx)
}

/// `SIP/2.0/UDP host:port;params` (RFC 3261 §20.42).
fn write_via(out: &mut Vec<u8>, value: &Bound<'_, PyAny>, ctx: &str) -> PyResult<()> {
    let t = tuple_of(value, 4, ctx, "a Via (version, protocol, sent_by, params)")?;
    push_version(out, &*t.get_borrowed_item(0)?, ctx)?;
    out.push(b'/');
    let protocol = t.get_borrowed_item(1)?;
    let protocol = str_of(&protocol, ctx, "a str transport")?;
    if !is_token(protocol) {
        return Err(value_error(
            ctx,
            &format!("transport {protocol:?} is not a token"),
        ));
    }
    // Transports are case-insensitive; the parser uppercases them, so do we.
    out.extend(protocol.bytes().map(|b| b.to_ascii_uppercase()));
    out.push(b' ');
    let sent_by = t.get_borrowed_item(2)?;
    let sent_by = tuple_of(&sent_by, 2, ctx, "a sent-by (host, port)")?;
    let host = sent_by.get_borrowed_item(0)?;
    push_host(out, str_of(&host, ctx, "a str host")?, ctx)?;
    let port = sent_by.get_borrowed_item(1)?;
    if !port.is_none() {
        out.push(b':');
        push_uint(out, uint_of(&port, ctx, "port", 65_535)?);
    }
    write_params(out, &*t.get_borrowed_item(3)?, ctx)
}

fn write_token_params(out: &mut Vec<u8>, value: &Bound<'_, PyAny>, ctx: &str) -> PyResult<()> {
    let t = tuple_of(value, 2, ctx, "a TokenParams (value, params)")?;
    let token = t.get_borrowed_item(0)?;
    push_atom(out, str_of(&token, ctx, "a str value")?, ctx)?;
    write_params(out, &*t.get_borrowed_item(1)?, ctx)
}

fn write_media_type(out: &mut Vec<u8>, value: &Bound<'_, PyAny>, ctx: &str) -> PyResult<()> {
    let t = tuple_of(value, 2, ctx, "a MediaType ((type, subtype), params)")?;
    let media = t.get_borrowed_item(0)?;
    let media = tuple_of(&media, 2, ctx, "a (type, subtype) tuple")?;
    let kind = media.get_borrowed_item(0)?;
    push_token(
        out,
        str_of(&kind, ctx, "a str media type")?,
        ctx,
        "media type",
    )?;
    out.push(b'/');
    let sub = media.get_borrowed_item(1)?;
    push_token(
        out,
        str_of(&sub, ctx, "a str media subtype")?,
        ctx,
        "media subtype",
    )?;
    write_params(out, &*t.get_borrowed_item(1)?, ctx)
}

/// RFC 1123 date in GMT (RFC 3261 §20.17): `Thu, 21 Feb 2002 13:02:03 GMT`. A naive
/// datetime is taken as UTC; an aware one is converted.
fn write_date(out: &mut Vec<u8>, value: &Bound<'_, PyAny>, ctx: &str) -> PyResult<()> {
    let py = value.py();
    let types = types::get(py)?;
    if !value.is_instance(types.datetime.bind(py))? {
        return Err(type_error(ctx, "a datetime", value));
    }
    let tz = value.getattr(intern!(py, "tzinfo"))?;
    let utc_value;
    let dt = if tz.is_none() || tz.is(types.utc.bind(py)) {
        value
    } else {
        utc_value = value.call_method1(intern!(py, "astimezone"), (types.utc.bind(py),))?;
        &utc_value
    };
    let field = |name: &Bound<'_, PyString>| -> PyResult<i64> { dt.getattr(name)?.extract() };
    let year = field(intern!(py, "year"))?;
    let month = field(intern!(py, "month"))?;
    let day = field(intern!(py, "day"))?;
    let (hour, minute, second) = (
        field(intern!(py, "hour"))?,
        field(intern!(py, "minute"))?,
        field(intern!(py, "second"))?,
    );
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // 1970-01-01 was a Thursday.
    let weekday = DAYS[days_from_civil(year, month, day).rem_euclid(7) as usize];
    let month_name = MONTHS[(month - 1).clamp(0, 11) as usize];
    let text =
        format!("{weekday}, {day:02} {month_name} {year:04} {hour:02}:{minute:02}:{second:02} GMT");
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::days_from_civil;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2002, 2, 21), 11_739);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }
}
