//! Stream framer for TCP/TLS/WebSocket byte streams (RFC 3261 §18.3, RFC 5626 §3.5.1).
//!
//! Cuts a byte stream into whole messages: start line, headers up to the first empty
//! line, then exactly Content-Length body bytes (Content-Length is mandatory on streams).
//! Between messages, CRLFCRLF is a keep-alive ping and a lone CRLF a pong (RFC 5626
//! §3.5.1, §4.4.1).
//!
//! Decisions:
//! - A CRLF at a message boundary followed by nothing yet could be a pong or the first
//!   half of a ping: by default the framer waits for the next bytes (a server must not
//!   mistake a split ping for a pong). A client, which only ever receives pongs, sets
//!   `eager_pong` to get the pong as soon as the CRLF arrives.
//! - A stray bare LF between messages is skipped.
//! - The framer only frames: the message itself is checked by `parse_message`. The header
//!   section is scanned once for Content-Length (long or compact name, LWS and folding
//!   allowed); none is `missing_content_length`, a non-number `invalid_content_length`,
//!   two `multiple_definition` (RFC 4475 mcl01: unrecoverable on a stream).
//! - Memory is bounded: at most `max_stream_buffer` bytes are held, and a message (headers
//!   plus announced body) above `max_message_size` fails as soon as that is known.
//! - After an error the framer stays failed and returns the same error (the connection
//!   must be closed: the stream cannot be resynchronised). Frames completed before the
//!   error are never lost: when one `feed` call completes some frames and then fails, it
//!   returns those frames, and the error is in `failure()` at once and returned by every
//!   later `feed`. A transport delivers the frames, then closes on `failure()`.

use crate::core::abnf::{find_byte, trim, uint, U32_MAX};
use crate::core::error::{reasons, ParseFailure};
use crate::core::limits::Limits;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// One whole message: start line, headers, and exactly Content-Length body bytes.
    Message(Vec<u8>),
    /// A CRLFCRLF keep-alive ping (RFC 5626 §3.5.1); answer with a single CRLF.
    Ping,
    /// A lone CRLF keep-alive pong.
    Pong,
}

pub struct Framer {
    pub limits: Limits,
    /// Report a lone CRLF as a pong as soon as it arrives (see the module docs).
    pub eager_pong: bool,
    buffer: Vec<u8>,
    /// Where to resume looking for the end of the headers of the message at the head of
    /// the buffer, so that byte-by-byte feeding stays linear.
    scan: usize,
    /// Total size of the message at the head of the buffer, once its headers are known.
    need: Option<usize>,
    failed: Option<ParseFailure>,
}

impl Framer {
    pub fn new(limits: Limits) -> Self {
        Framer {
            limits,
            eager_pong: false,
            buffer: Vec::new(),
            scan: 0,
            need: None,
            failed: None,
        }
    }

    /// Bytes held while waiting for the rest of a message.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Adds bytes from the stream; returns the frames they complete.
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<Frame>, ParseFailure> {
        if let Some(f) = &self.failed {
            return Err(f.clone());
        }
        let mut frames = Vec::new();
        let mut input = data;
        loop {
            // Never hold more than max_stream_buffer: take what fits, frame, repeat.
            let room = self
                .limits
                .max_stream_buffer
                .saturating_sub(self.buffer.len());
            let (now, later) = input.split_at(room.min(input.len()));
            self.buffer.extend_from_slice(now);
            input = later;
            if let Err(f) = self.extract(&mut frames) {
                return self.fail(f, frames);
            }
            if input.is_empty() {
                return Ok(frames);
            }
            if self.buffer.len() >= self.limits.max_stream_buffer {
                let f = ParseFailure::of(reasons::MESSAGE_TOO_LARGE, "stream buffer full");
                return self.fail(f, frames);
            }
        }
    }

    /// The error that ended the stream, if any (see the module docs).
    pub fn failure(&self) -> Option<&ParseFailure> {
        self.failed.as_ref()
    }

    /// Enters the failed state. The frames this `feed` completed before the error are
    /// still returned; the error then comes from `failure()` and every later `feed`.
    fn fail(&mut self, f: ParseFailure, frames: Vec<Frame>) -> Result<Vec<Frame>, ParseFailure> {
        self.buffer = Vec::new();
        self.need = None;
        self.scan = 0;
        self.failed = Some(f.clone());
        if frames.is_empty() {
            Err(f)
        } else {
            Ok(frames)
        }
    }

    /// Moves every complete frame at the head of the buffer to `out`.
    fn extract(&mut self, out: &mut Vec<Frame>) -> Result<(), ParseFailure> {
        let mut pos = 0;
        loop {
            let rest = self.buffer.get(pos..).unwrap_or(&[]);
            let need = match self.need {
                Some(n) => n,
                None => {
                    if rest.starts_with(b"\r\n\r\n") {
                        out.push(Frame::Ping);
                        pos += 4;
                        continue;
                    }
                    if rest.starts_with(b"\r\n") {
                        // "\r\n" then something other than "\r\n": a pong. Only "\r\n" or
                        // "\r\n\r" so far: wait, unless pongs are eager.
                        let complete_pong = match rest.get(2) {
                            None => self.eager_pong,
                            Some(b'\r') => rest.get(3).is_some(),
                            Some(_) => true,
                        };
                        if !complete_pong {
                            break;
                        }
                        out.push(Frame::Pong);
                        pos += 2;
                        continue;
                    }
                    if rest.first() == Some(&b'\n') {
                        pos += 1;
                        continue;
                    }
                    if rest.is_empty() {
                        break;
                    }
                    match header_end(rest, self.scan) {
                        None => {
                            if rest.len() > self.limits.max_message_size {
                                return Err(ParseFailure::of(
                                    reasons::MESSAGE_TOO_LARGE,
                                    "header section too large",
                                ));
                            }
                            self.scan = rest.len().saturating_sub(2);
                            break;
                        }
                        Some(end) => {
                            let body = content_length(rest.get(..end).unwrap_or(&[]))?;
                            let total = end.saturating_add(body);
                            if total > self.limits.max_message_size {
                                return Err(ParseFailure::of(
                                    reasons::MESSAGE_TOO_LARGE,
                                    "message too large",
                                ));
                            }
                            self.scan = 0;
                            self.need = Some(total);
                            total
                        }
                    }
                }
            };
            let Some(message) = rest.get(..need) else {
                break;
            };
            out.push(Frame::Message(message.to_vec()));
            pos += need;
            self.need = None;
        }
        self.buffer.drain(..pos.min(self.buffer.len()));
        Ok(())
    }
}

/// The index just past the empty line ending the header section (`\n\r\n` or `\n\n`),
/// searching from `from`.
fn header_end(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(off) = find_byte(b.get(i..)?, b'\n') {
        let lf = i + off;
        match (b.get(lf + 1), b.get(lf + 2)) {
            (Some(b'\n'), _) => return Some(lf + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(lf + 3),
            _ => i = lf + 1,
        }
    }
    None
}

/// The Content-Length of a header section (start line skipped; `Content-Length` or `l`,
/// any case, folded continuation lines joined).
fn content_length(headers: &[u8]) -> Result<usize, ParseFailure> {
    let mut found: Option<usize> = None;
    let mut lines = headers
        .split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .skip(1)
        .peekable();
    while let Some(line) = lines.next() {
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            continue;
        };
        let name = trim(line.get(..colon).unwrap_or(&[]));
        if line.first().is_some_and(|&c| c == b' ' || c == b'\t')
            || !(name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l"))
        {
            continue;
        }
        let mut value = trim(line.get(colon + 1..).unwrap_or(&[]));
        // A folded value: take the continuation's digits when the first line is empty.
        while let Some(next) =
            lines.next_if(|l| l.first().is_some_and(|&c| c == b' ' || c == b'\t'))
        {
            if value.is_empty() {
                value = trim(next);
            } else if !trim(next).is_empty() {
                return Err(ParseFailure::of(
                    reasons::INVALID_CONTENT_LENGTH,
                    "invalid Content-Length",
                ));
            }
        }
        let n = uint(value, U32_MAX, reasons::INVALID_CONTENT_LENGTH)
            .map_err(|e| ParseFailure::of(e.reason, "invalid Content-Length"))?;
        if found.is_some() {
            return Err(ParseFailure::of(
                reasons::MULTIPLE_DEFINITION,
                "several Content-Length headers",
            ));
        }
        found = Some(usize::try_from(n).unwrap_or(usize::MAX));
    }
    found.ok_or_else(|| {
        ParseFailure::of(
            reasons::MISSING_CONTENT_LENGTH,
            "Content-Length is required on a stream",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_end_forms() {
        assert_eq!(header_end(b"a\r\n\r\nbody", 0), Some(5));
        assert_eq!(header_end(b"a\n\nbody", 0), Some(3));
        assert_eq!(header_end(b"a\r\nb\r\n", 0), None);
    }

    #[test]
    fn content_length_forms() {
        assert_eq!(content_length(b"X\r\nl: 5\r\n\r\n"), Ok(5));
        assert_eq!(
            content_length(b"X\r\nContent-Length :\r\n 7\r\n\r\n"),
            Ok(7)
        );
        assert_eq!(
            content_length(b"X\r\nl:0\r\nL: 0\r\n").unwrap_err().reason,
            "multiple_definition"
        );
        assert_eq!(
            content_length(b"X\r\nl: -9\r\n").unwrap_err().reason,
            "invalid_content_length"
        );
        assert_eq!(
            content_length(b"X\r\nContent-Type: a/b\r\n")
                .unwrap_err()
                .reason,
            "missing_content_length"
        );
    }
}
