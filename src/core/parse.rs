//! Message parser: one datagram's bytes to `model::Message` (RFC 3261 §7, §18.3, §25).
//!
//! One pass over the bytes: leading CRLFs skipped (§7.5), start line, header lines
//! (bare LF tolerated, folded lines unfolded, §7.3.1), each line parsed into its typed
//! value as soon as it is complete and merged with earlier lines of the same header, then
//! the body framed by Content-Length (§18.3: octets past it are ignored, fewer is an error,
//! no Content-Length means the rest of the datagram).
//!
//! Choices on inputs the RFCs leave open (RFC 4475 "liberal" cases), all strict unless
//! stated:
//! - The header section may end at the end of the datagram right after a complete line
//!   (no empty line), with an empty body; data that stops inside a line is
//!   `truncated_message`.
//! - The start line must use exactly one SP between its elements (lwsstart, lwsruri, trws
//!   are rejected), `<uri>` as Request-URI is rejected (ltgtruri), a Request-URI with
//!   `?headers` is rejected (escruri).
//! - A status line without the SP before an empty reason phrase is accepted.
//! - `caller<sip:...>` (no LWS before `<`) is accepted (lwsdisp); an unterminated quoted
//!   string (quotbal), spaces inside `<>` (badaspec), an unquoted display name with a comma
//!   (baddn), an addr-spec with `?headers` outside `<>` (regbadct), a non-GMT Date
//!   (baddate) are rejected.
//! - A typed header whose value does not parse fails the whole message.
//! - The start line and header section must be UTF-8 (RFC 3261 §25.1: TEXT-UTF8,
//!   UTF8-NONASCII), `invalid_utf8` otherwise: replacing octets (U+FFFD) would make a
//!   proxy forward other bytes than it received. The body may hold any octets (RFC 4475
//!   mpart01).

use std::borrow::Cow;

use crate::core::abnf::{err, find_byte, find_cr_or_lf, is_token, is_wsp, trim, Utf8, E, R};
use crate::core::error::{reasons, ParseFailure};
use crate::core::headers::{self, Kind, Lookup, SPECS};
use crate::core::limits::Limits;
use crate::core::model::{HeaderKey, HeaderValue, Message, StartLine};
use crate::core::uri::parse_uri_in;

/// Parses one whole message (a UDP datagram, or a message cut out by the stream framer).
pub fn parse_message(data: &[u8], limits: &Limits) -> Result<Message, ParseFailure> {
    if data.len() > limits.max_message_size {
        return Err(ParseFailure::of(
            reasons::MESSAGE_TOO_LARGE,
            "message too large",
        ));
    }
    let start = data
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .ok_or_else(|| ParseFailure::of(reasons::EMPTY_MESSAGE, "empty message"))?;
    let data = data.get(start..).unwrap_or(&[]);
    let (first, header_start) = match find_byte(data, b'\n') {
        Some(i) => (data.get(..i).unwrap_or(&[]), i + 1),
        None => {
            return Err(ParseFailure::of(
                reasons::TRUNCATED_MESSAGE,
                "message ends in the start line",
            ))
        }
    };
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    let is_request = !starts_with_sip_version(first);
    // Checked once here; every value copied out of the message is then a `str` slice.
    let result = match header_text(data, header_start) {
        Ok(_) if first.len() > limits.max_line_length => {
            Err((err(reasons::LINE_TOO_LONG, "start line too long"), None))
        }
        Ok(utf8) => parse_start_line(first, utf8)
            .map_err(|e| (e, None))
            .and_then(|start_line| {
                let (headers, body) = parse_rest(data, header_start, limits, utf8)?;
                Ok(Message {
                    start_line,
                    headers,
                    body: body.to_vec(),
                })
            }),
        Err(e) => Err((e, None)),
    };
    result.map_err(|(e, header)| {
        let mut f = ParseFailure::of(e.reason, e.msg);
        if let Some(h) = header {
            f.message = format!("{h}: {}", e.msg);
            f.header = Some(h);
        }
        // RFC 3261 §17: an ACK is never answered, so it needs nothing to answer with.
        if is_request && !first.starts_with(b"ACK ") {
            (f.reply_headers, f.reply_raw) = reply_headers(data, header_start, limits);
        }
        f
    })
}

/// The start line and header section as checked text (RFC 3261 §25.1: UTF-8), in one
/// pass over a message that is UTF-8 throughout. When it is not, the first bad octet must
/// lie in the body (after the first empty line, RFC 4475 mpart01), and the header section
/// alone is checked again (`from_utf8` gives no `str` for a prefix on failure).
fn header_text(data: &[u8], header_start: usize) -> R<Utf8<'_>> {
    match std::str::from_utf8(data) {
        Ok(s) => Ok(Utf8::new(s)),
        Err(e) => header_text_before(data, e.valid_up_to(), header_start),
    }
}

/// `header_text` of a message whose first bad octet is at `bad`.
#[cold]
#[inline(never)]
fn header_text_before(data: &[u8], bad: usize, header_start: usize) -> R<Utf8<'_>> {
    const INVALID: E = err(reasons::INVALID_UTF8, "start line or header not UTF-8");
    let end = header_end(data.get(..bad).unwrap_or(&[]), header_start).ok_or(INVALID)?;
    data.get(..end)
        .and_then(|h| std::str::from_utf8(h).ok())
        .map(Utf8::new)
        .ok_or(INVALID)
}

/// Where the body starts: after the first empty line (LF LF or LF CR LF, as `HeaderLines`
/// reads them) that ends the start line or a header line; `None` if `data` has none.
fn header_end(data: &[u8], header_start: usize) -> Option<usize> {
    let mut lf = header_start.checked_sub(1)?;
    loop {
        let after = data.get(lf + 1..)?;
        match after {
            [b'\n', ..] => return Some(lf + 2),
            [b'\r', b'\n', ..] => return Some(lf + 3),
            _ => lf += 1 + find_byte(after, b'\n')?,
        }
    }
}

/// An error with the header it belongs to (snake_case key or wire name).
type Fail = (E, Option<String>);

type HeaderList = Vec<(HeaderKey, HeaderValue)>;

/// Header fields kept as raw text: (snake_case key, value as it came).
type RawList = Vec<(&'static str, String)>;

fn starts_with_sip_version(line: &[u8]) -> bool {
    line.get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
}

/// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT ("SIP" case-insensitive, §7.1); only 2.0
/// is supported (a well-formed other version is 505, RFC 4475 badvers).
fn parse_version(b: &[u8]) -> R<(u32, u32)> {
    const MALFORMED: E = err(reasons::MALFORMED_VERSION, "malformed SIP version");
    if !starts_with_sip_version(b) {
        return Err(MALFORMED);
    }
    let rest = b.get(4..).unwrap_or(&[]);
    let dot = rest.iter().position(|&c| c == b'.').ok_or(MALFORMED)?;
    let num = |d: &[u8]| -> R<u32> {
        if d.is_empty() || d.len() > 9 || !d.iter().all(u8::is_ascii_digit) {
            return Err(MALFORMED);
        }
        Ok(d.iter().fold(0u32, |a, &x| a * 10 + u32::from(x - b'0')))
    };
    let v = (
        num(rest.get(..dot).unwrap_or(&[]))?,
        num(rest.get(dot + 1..).unwrap_or(&[]))?,
    );
    if v != (2, 0) {
        return Err(err(
            reasons::UNSUPPORTED_VERSION,
            "SIP version not supported",
        ));
    }
    Ok(v)
}

fn parse_start_line<'a>(line: &'a [u8], utf8: Utf8<'a>) -> R<StartLine> {
    const MALFORMED: E = err(reasons::MALFORMED_START_LINE, "malformed start line");
    if line.contains(&b'\r') {
        return Err(MALFORMED);
    }
    if starts_with_sip_version(line) {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (§7.2)
        let sp = line.iter().position(|&c| c == b' ').ok_or(MALFORMED)?;
        let version = parse_version(line.get(..sp).unwrap_or(&[]))?;
        let rest = line.get(sp + 1..).unwrap_or(&[]);
        let (code, reason) = match rest.iter().position(|&c| c == b' ') {
            Some(i) => (
                rest.get(..i).unwrap_or(&[]),
                rest.get(i + 1..).unwrap_or(&[]),
            ),
            None => (rest, &[][..]),
        };
        let code = match code {
            [a, b, c] if code.iter().all(u8::is_ascii_digit) => {
                u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
            }
            _ => 0,
        };
        if !(100..=699).contains(&code) {
            return Err(err(reasons::INVALID_STATUS_CODE, "invalid status code"));
        }
        return Ok(StartLine::Status {
            version,
            code,
            reason: utf8.text(reason),
        });
    }
    // Request-Line = Method SP Request-URI SP SIP-Version (§7.1): exactly one SP each.
    let mut parts = line.split(|&c| c == b' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(MALFORMED);
    };
    if method.is_empty() || uri.is_empty() || version.is_empty() {
        return Err(MALFORMED);
    }
    if !method.iter().all(|&c| is_token(c)) {
        return Err(err(reasons::INVALID_METHOD, "method is not a token"));
    }
    let uri = parse_uri_in(uri, utf8)?;
    if !uri.headers.is_empty() {
        return Err(err(
            reasons::REQUEST_URI_HEADERS,
            "Request-URI with headers",
        ));
    }
    let version = parse_version(version)?;
    Ok(StartLine::Request {
        method: utf8.text(method),
        uri,
        version,
    })
}

/// One physical line, without its line end.
#[derive(Clone, Copy)]
struct Physical<'a> {
    line: &'a [u8],
    /// Whether a LF ended it (false: the data stopped inside the line).
    terminated: bool,
    /// Whether a CR remains inside the line (§7.3.1: CR only appears in CRLF).
    has_cr: bool,
}

impl<'a> Physical<'a> {
    fn clean(line: &'a [u8]) -> Self {
        Physical {
            line,
            terminated: true,
            has_cr: false,
        }
    }
}

/// Unfolded header lines, one at a time (§7.3.1: a line starting with SP/HT continues the
/// previous one; the CRLF and leading whitespace become one SP).
struct HeaderLines<'a> {
    data: &'a [u8],
    pos: usize,
    /// The next physical line, read ahead to see whether it is a continuation.
    ahead: Option<Physical<'a>>,
    /// Where the body starts, once the header section has ended.
    body_start: Option<usize>,
    max_line: usize,
}

impl<'a> HeaderLines<'a> {
    fn new(data: &'a [u8], pos: usize, max_line: usize) -> Self {
        HeaderLines {
            data,
            pos,
            ahead: None,
            body_start: None,
            max_line,
        }
    }

    /// The next physical line without its terminator.
    fn physical(&mut self) -> Option<Physical<'a>> {
        if let Some(l) = self.ahead.take() {
            return Some(l);
        }
        let rest = self.data.get(self.pos..).filter(|r| !r.is_empty())?;
        // Fast path: the first CR or LF ends the line (LF, or CR LF), so the line holds
        // no CR and needs no second scan.
        match find_cr_or_lf(rest) {
            Some(i) if rest.get(i) == Some(&b'\n') => {
                self.pos += i + 1;
                return Some(Physical::clean(rest.get(..i).unwrap_or(&[])));
            }
            Some(i) if rest.get(i + 1) == Some(&b'\n') => {
                self.pos += i + 2;
                return Some(Physical::clean(rest.get(..i).unwrap_or(&[])));
            }
            _ => {}
        }
        // A CR not followed by LF, or no line end: the line ends at the next LF (one CR
        // before it stripped), and may hold a stray CR.
        Some(match find_byte(rest, b'\n') {
            Some(i) => {
                self.pos += i + 1;
                let l = rest.get(..i).unwrap_or(&[]);
                let l = l.strip_suffix(b"\r").unwrap_or(l);
                Physical {
                    line: l,
                    terminated: true,
                    has_cr: l.contains(&b'\r'),
                }
            }
            None => {
                self.pos = self.data.len();
                Physical {
                    line: rest,
                    terminated: false,
                    has_cr: rest.contains(&b'\r'),
                }
            }
        })
    }

    fn next_line(&mut self) -> Option<R<Cow<'a, [u8]>>> {
        if self.body_start.is_some() {
            return None;
        }
        let Some(Physical {
            line,
            terminated,
            has_cr,
        }) = self.physical()
        else {
            // The datagram ends right after a complete header line.
            self.body_start = Some(self.data.len());
            return None;
        };
        if !terminated {
            self.body_start = Some(self.data.len());
            return Some(Err(err(
                reasons::TRUNCATED_MESSAGE,
                "message ends inside a header line",
            )));
        }
        if line.is_empty() {
            self.body_start = Some(self.pos);
            return None;
        }
        if has_cr {
            // §7.3.1, §25.1: CR only appears in CRLF; no value may hold a lone CR.
            self.body_start = Some(self.data.len());
            return Some(Err(err(reasons::INVALID_HEADER, "CR inside a header line")));
        }
        if line.first().copied().is_some_and(is_wsp) {
            self.body_start = Some(self.data.len());
            return Some(Err(err(
                reasons::INVALID_HEADER,
                "continuation line without a header",
            )));
        }
        let mut logical = Cow::Borrowed(line);
        while let Some(physical) = self.physical() {
            let next = physical.line;
            if !next.first().copied().is_some_and(is_wsp) {
                self.ahead = Some(physical);
                break;
            }
            if !physical.terminated {
                self.body_start = Some(self.data.len());
                return Some(Err(err(
                    reasons::TRUNCATED_MESSAGE,
                    "message ends inside a header line",
                )));
            }
            if physical.has_cr {
                self.body_start = Some(self.data.len());
                return Some(Err(err(reasons::INVALID_HEADER, "CR inside a header line")));
            }
            let owned = logical.to_mut();
            while owned.last().copied().is_some_and(is_wsp) {
                owned.pop();
            }
            owned.push(b' ');
            owned.extend_from_slice(trim(next));
            if owned.len() > self.max_line {
                break;
            }
        }
        if logical.len() > self.max_line {
            self.body_start = Some(self.data.len());
            return Some(Err(err(reasons::LINE_TOO_LONG, "header line too long")));
        }
        Some(Ok(logical))
    }
}

/// Splits `name: value`; the name is a token, LWS allowed before the colon (§7.3.1,
/// RFC 4475 wsinv `TO :`).
fn split_header(line: &[u8]) -> R<(&[u8], &[u8])> {
    // Fast path, one scan: the name runs up to the colon (`Via:`). Anything else (`TO :`,
    // no colon, a bad name) takes the general path below.
    let n = line
        .iter()
        .position(|&b| !is_token(b))
        .unwrap_or(line.len());
    if n > 0 && line.get(n) == Some(&b':') {
        return Ok((
            line.get(..n).unwrap_or(&[]),
            trim(line.get(n + 1..).unwrap_or(&[])),
        ));
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(err(reasons::INVALID_HEADER, "header line without a colon"))?;
    let name = trim(line.get(..colon).unwrap_or(&[]));
    if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
        return Err(err(reasons::INVALID_HEADER, "invalid header name"));
    }
    Ok((name, trim(line.get(colon + 1..).unwrap_or(&[]))))
}

const NO_SLOT: u32 = u32::MAX;

/// Headers in first-appearance order, with each typed header's position for merging.
struct Headers {
    list: Vec<(HeaderKey, HeaderValue)>,
    slots: [u32; SPECS.len()],
}

impl Headers {
    fn new() -> Self {
        Headers {
            list: Vec::with_capacity(16),
            slots: [NO_SLOT; SPECS.len()],
        }
    }

    fn add<'a>(&mut self, line: &'a [u8], limits: &Limits, utf8: Utf8<'a>) -> Result<(), Fail> {
        let (name, value) = split_header(line).map_err(|e| (e, None))?;
        match headers::lookup(name) {
            Lookup::Known(i) => {
                let spec = SPECS
                    .get(i)
                    .ok_or((err(reasons::INVALID_HEADER, "bad table index"), None))?;
                let at = |e: E| (e, Some(spec.key.to_owned()));
                let slot = self.slots.get(i).copied().unwrap_or(NO_SLOT);
                if slot != NO_SLOT && !spec.kind.is_list() {
                    return Err(at(err(
                        reasons::MULTIPLE_DEFINITION,
                        "header may appear only once",
                    )));
                }
                let at_slot = usize::try_from(slot).unwrap_or(usize::MAX);
                if let Some((_, existing)) = self.list.get_mut(at_slot) {
                    let more = headers::parse_value_in(spec.kind, value, utf8).map_err(at)?;
                    headers::merge(existing, more).map_err(at)?;
                } else {
                    // Parsed straight into the list: header values are large, moves cost.
                    let key = HeaderKey::Known(spec.key);
                    let parsed = headers::parse_value_in(spec.kind, value, utf8).map_err(at)?;
                    self.list.push((key, parsed));
                    if let Some(s) = self.slots.get_mut(i) {
                        *s = u32::try_from(self.list.len() - 1).unwrap_or(NO_SLOT);
                    }
                }
                if i == headers::VIA {
                    let index = self.slots.get(i).map_or(usize::MAX, |&s| s as usize);
                    if let Some((_, HeaderValue::Via(vias))) = self.list.get(index) {
                        if vias.len() > limits.max_via_count {
                            return Err(at(err(reasons::TOO_MANY_VIAS, "too many Via values")));
                        }
                    }
                }
            }
            Lookup::Registered(canonical) => self.add_raw(canonical.as_bytes(), value, utf8),
            Lookup::Unknown => {
                // An unknown header keeps its wire name as its key; one spelled exactly as
                // a typed header's key (`call_id: x`) would take that header's place in the
                // headers dict. Typed keys with one word are the header's own name, so only
                // names with `_` can collide.
                if name.contains(&b'_') && SPECS.iter().any(|s| s.key.as_bytes() == name) {
                    return Err((
                        err(
                            reasons::INVALID_HEADER,
                            "header name is a typed header's key",
                        ),
                        Some(String::from_utf8_lossy(name).into_owned()),
                    ));
                }
                self.add_raw(name, value, utf8)
            }
        }
        Ok(())
    }

    /// An untyped header: one trimmed string per line, under the name first seen.
    fn add_raw(&mut self, name: &[u8], value: &[u8], utf8: Utf8<'_>) {
        let existing = self.list.iter_mut().find(|(k, _)| match k {
            HeaderKey::Raw(n) => n.as_bytes().eq_ignore_ascii_case(name),
            HeaderKey::Known(_) => false,
        });
        match existing {
            Some((_, HeaderValue::Raw(lines))) => lines.push(utf8.text(value)),
            _ => self.list.push((
                HeaderKey::Raw(utf8.text(name)),
                HeaderValue::Raw(vec![utf8.text(value)]),
            )),
        }
    }

    fn content_length(&self) -> Option<u64> {
        match self
            .list
            .get(*self.slots.get(headers::CONTENT_LENGTH)? as usize)
        {
            Some((_, HeaderValue::Int(n))) => Some(*n),
            _ => None,
        }
    }
}

/// The header section and the body of a message whose start line parsed.
fn parse_rest<'a>(
    data: &'a [u8],
    header_start: usize,
    limits: &Limits,
    utf8: Utf8<'a>,
) -> Result<(HeaderList, &'a [u8]), Fail> {
    let mut lines = HeaderLines::new(data, header_start, limits.max_line_length);
    let mut headers = Headers::new();
    let mut count = 0usize;
    while let Some(line) = lines.next_line() {
        let line = line.map_err(|e| (e, None))?;
        count += 1;
        if count > limits.max_header_count {
            return Err((
                err(reasons::TOO_MANY_HEADERS, "too many header lines"),
                None,
            ));
        }
        headers.add(&line, limits, utf8)?;
    }
    let rest = data
        .get(lines.body_start.unwrap_or(data.len())..)
        .unwrap_or(&[]);
    let body = match headers.content_length() {
        // §18.3: octets beyond Content-Length are discarded (RFC 4475 dblreq).
        Some(n) => match usize::try_from(n).ok().and_then(|n| rest.get(..n)) {
            Some(b) => b,
            None => {
                return Err((
                    err(
                        reasons::CONTENT_LENGTH_MISMATCH,
                        "body shorter than Content-Length",
                    ),
                    Some("content_length".to_owned()),
                ))
            }
        },
        None => rest,
    };
    Ok((headers.list, body))
}

/// Best effort, for a request that failed: the Via, From, To, Call-ID and CSeq lines that
/// parse on their own, so a server can still answer statelessly (RFC 3261 §8.2.6). The
/// first line of a From, To, Call-ID or CSeq that does not parse is kept as raw text
/// (the second list), for the response to copy as it came (§8.2.6.2). A Via line that
/// does not parse is left out: a Via is for routing the response, and a raw one could not
/// route it.
fn reply_headers(data: &[u8], header_start: usize, limits: &Limits) -> (HeaderList, RawList) {
    const WANTED: [usize; 5] = [
        headers::VIA,
        headers::FROM,
        headers::TO,
        headers::CALL_ID,
        headers::CSEQ,
    ];
    let mut out: HeaderList = Vec::new();
    let mut raw: RawList = Vec::new();
    let mut lines = HeaderLines::new(data, header_start, limits.max_line_length);
    let mut count = 0usize;
    let mut vias = 0usize;
    while let Some(Ok(line)) = lines.next_line() {
        count += 1;
        if count > limits.max_header_count {
            break;
        }
        let Ok((name, value)) = split_header(&line) else {
            continue;
        };
        let Lookup::Known(i) = headers::lookup(name) else {
            continue;
        };
        let Some(spec) = SPECS.get(i).filter(|_| WANTED.contains(&i)) else {
            continue;
        };
        // A value that is not UTF-8 is left out rather than answered altered.
        let Ok(value) = std::str::from_utf8(value) else {
            continue;
        };
        let key = HeaderKey::Known(spec.key);
        let seen = out.iter().any(|(k, _)| *k == key) || raw.iter().any(|(k, _)| *k == spec.key);
        let Ok(v) = headers::parse_value_in(spec.kind, value.as_bytes(), Utf8::new(value)) else {
            if spec.kind != Kind::Via && !seen {
                raw.push((spec.key, value.to_owned()));
            }
            continue;
        };
        if let HeaderValue::Via(l) = &v {
            vias += l.len();
            if vias > limits.max_via_count {
                break;
            }
        }
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) if spec.kind == Kind::Via => {
                let _ = headers::merge(existing, v);
            }
            _ if seen => {}
            _ => out.push((key, v)),
        }
    }
    (out, raw)
}
