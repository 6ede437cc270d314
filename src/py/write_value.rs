//! Header values to wire text (RFC 3261 §25.1 grammar): parameters, name-addr, Via,
//! media types, digest parameters, dates, comments, and the checked pieces they are made
//! of. Every value is checked as it is written (no CR or LF, tokens where the grammar wants
//! tokens, quoting where it needs it), so that what is written reads back the same.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::py::grammar::{
    is_host, is_line_safe, is_token, is_token68, is_token_sequence, push_quoted, push_uint,
};
use crate::py::read::{dict_of, str_of, tuple_of, type_error, uint_of, value_error};
use crate::py::types;
use crate::py::write_uri::{push_host, write_uri};

pub(crate) fn push_version(
    out: &mut Vec<u8>,
    version: &Bound<'_, PyAny>,
    ctx: &str,
) -> PyResult<()> {
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
pub(crate) fn push_token(out: &mut Vec<u8>, text: &str, ctx: &str, what: &str) -> PyResult<()> {
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
pub(crate) fn push_text(out: &mut Vec<u8>, text: &str, ctx: &str) -> PyResult<()> {
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

pub(crate) fn push_quoted_text(out: &mut Vec<u8>, text: &str, ctx: &str) -> PyResult<()> {
    if !is_line_safe(text) {
        return Err(line_break_in(text, ctx));
    }
    push_quoted(out, text);
    Ok(())
}

/// A comment's text inside `( )`: written as is when its parentheses balance (nested
/// comments are legal), otherwise with `(`, `)` and `\` as quoted-pairs (RFC 3261 §25.1).
pub(crate) fn push_comment(out: &mut Vec<u8>, text: &str, ctx: &str) -> PyResult<()> {
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
pub(crate) fn push_decimal(out: &mut Vec<u8>, value: &Bound<'_, PyAny>, ctx: &str) -> PyResult<()> {
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
pub(crate) fn write_params(
    out: &mut Vec<u8>,
    params: &Bound<'_, PyAny>,
    ctx: &str,
) -> PyResult<()> {
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
/// Which auth-param list is written: they differ in what must be quoted and in whether a
/// token68 may stand for the parameters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthParams {
    /// WWW-Authenticate, Proxy-Authenticate (RFC 3261 §25.1 challenge).
    Challenge,
    /// Authorization, Proxy-Authorization (credentials).
    Credentials,
    /// Authentication-Info (ainfo): `name=value` only.
    Info,
}

pub(crate) fn write_auth_params(
    out: &mut Vec<u8>,
    params: &Bound<'_, PyAny>,
    ctx: &str,
    kind: AuthParams,
) -> PyResult<()> {
    let params = dict_of(params, ctx, "a dict of auth parameters")?;
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        let name = str_of(&name, ctx, "str parameter names")?;
        if value.is_none() {
            // RFC 7235 §2.1: a token68 credential (Basic, Bearer) comes first; the parser
            // keeps it as a parameter without a value. Anything else without a value
            // would not read back.
            if kind != AuthParams::Info && i == 0 && is_token68(name) {
                out.extend_from_slice(name.as_bytes());
                continue;
            }
            return Err(value_error(
                ctx,
                &format!("auth parameter {name:?} needs a value (only a first token68 has none)"),
            ));
        }
        push_token(out, name, ctx, "parameter name")?;
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
        ) || (kind == AuthParams::Challenge
            && name.eq_ignore_ascii_case("qop"));
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
pub(crate) fn write_name_addr(
    out: &mut Vec<u8>,
    value: &Bound<'_, PyAny>,
    ctx: &str,
) -> PyResult<()> {
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
pub(crate) fn write_via(out: &mut Vec<u8>, value: &Bound<'_, PyAny>, ctx: &str) -> PyResult<()> {
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

pub(crate) fn write_token_params(
    out: &mut Vec<u8>,
    value: &Bound<'_, PyAny>,
    ctx: &str,
) -> PyResult<()> {
    let t = tuple_of(value, 2, ctx, "a TokenParams (value, params)")?;
    let token = t.get_borrowed_item(0)?;
    push_token(out, str_of(&token, ctx, "a str value")?, ctx, "value")?;
    write_params(out, &*t.get_borrowed_item(1)?, ctx)
}

pub(crate) fn write_media_type(
    out: &mut Vec<u8>,
    value: &Bound<'_, PyAny>,
    ctx: &str,
) -> PyResult<()> {
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
pub(crate) fn write_date(out: &mut Vec<u8>, value: &Bound<'_, PyAny>, ctx: &str) -> PyResult<()> {
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
