//! Parse failures: a machine-readable reason and the SIP status a server should answer.

use crate::core::model::{HeaderKey, HeaderValue};

/// Every reason code the core produces, with the status hint it goes with. The codes are
/// stable: the Python side exposes them as `ParseError.reason`.
///
/// | reason | status | when |
/// |---|---|---|
/// | `message_too_large` | 513 | datagram or framed message above `Limits::max_message_size`, or stream buffer above `max_stream_buffer` |
/// | `too_many_headers` | 400 | more header fields than `Limits::max_header_count` |
/// | `invalid_utf8` | 400 | an octet sequence that is not UTF-8 in the start line or header section (RFC 3261 §25.1: TEXT-UTF8 is UTF-8; the body may hold any octets) |
/// | `line_too_long` | 400 | a start line or unfolded header line above `Limits::max_line_length` |
/// | `too_many_vias` | 400 | more Via values than `Limits::max_via_count` |
/// | `empty_message` | 400 | nothing but CRLFs |
/// | `truncated_message` | 400 | the data ends inside the start line or a header line |
/// | `malformed_start_line` | 400 | not `Method SP URI SP Version` nor `Version SP Code SP Reason` (extra or missing SP: RFC 4475 lwsstart, lwsruri, trws) |
/// | `invalid_method` | 400 | the method is not a token |
/// | `malformed_version` | 400 | not `SIP/digits.digits` |
/// | `unsupported_version` | 505 | a well-formed version other than SIP/2.0 (badvers) |
/// | `invalid_status_code` | 400 | not three digits in 100..=699 (bigcode) |
/// | `invalid_uri` | 400 | a URI that does not parse (also `<uri>` as Request-URI: ltgtruri) |
/// | `request_uri_headers` | 400 | a Request-URI with `?headers` (escruri) |
/// | `invalid_header` | 400 | a header line or typed value that does not parse |
/// | `unclosed_qstring` | 400 | a quoted string without its closing quote (quotbal) |
/// | `invalid_date` | 400 | a Date that is not an RFC 1123 GMT date (baddate) |
/// | `value_out_of_range` | 400 | a number above its bound (scalar02, scalarlg) |
/// | `multiple_definition` | 400 | a second line or value of a single-valued header (multi01, mcl01); a parameter or URI header named twice in one list (RFC 3261 §19.1.1, RFC 7235 §2.1) |
/// | `invalid_content_length` | 400 | Content-Length not a number (ncl) |
/// | `content_length_mismatch` | 400 | body shorter than Content-Length (clerr) |
/// | `missing_content_length` | 400 | stream framer: a message without Content-Length |
pub mod reasons {
    pub const MESSAGE_TOO_LARGE: &str = "message_too_large";
    pub const TOO_MANY_HEADERS: &str = "too_many_headers";
    pub const INVALID_UTF8: &str = "invalid_utf8";
    pub const LINE_TOO_LONG: &str = "line_too_long";
    pub const TOO_MANY_VIAS: &str = "too_many_vias";
    pub const EMPTY_MESSAGE: &str = "empty_message";
    pub const TRUNCATED_MESSAGE: &str = "truncated_message";
    pub const MALFORMED_START_LINE: &str = "malformed_start_line";
    pub const INVALID_METHOD: &str = "invalid_method";
    pub const MALFORMED_VERSION: &str = "malformed_version";
    pub const UNSUPPORTED_VERSION: &str = "unsupported_version";
    pub const INVALID_STATUS_CODE: &str = "invalid_status_code";
    pub const INVALID_URI: &str = "invalid_uri";
    pub const REQUEST_URI_HEADERS: &str = "request_uri_headers";
    pub const INVALID_HEADER: &str = "invalid_header";
    pub const UNCLOSED_QSTRING: &str = "unclosed_qstring";
    pub const INVALID_DATE: &str = "invalid_date";
    pub const VALUE_OUT_OF_RANGE: &str = "value_out_of_range";
    pub const MULTIPLE_DEFINITION: &str = "multiple_definition";
    pub const INVALID_CONTENT_LENGTH: &str = "invalid_content_length";
    pub const CONTENT_LENGTH_MISMATCH: &str = "content_length_mismatch";
    pub const MISSING_CONTENT_LENGTH: &str = "missing_content_length";

    /// All codes, for bindings and documentation.
    pub const ALL: &[&str] = &[
        MESSAGE_TOO_LARGE,
        TOO_MANY_HEADERS,
        INVALID_UTF8,
        LINE_TOO_LONG,
        TOO_MANY_VIAS,
        EMPTY_MESSAGE,
        TRUNCATED_MESSAGE,
        MALFORMED_START_LINE,
        INVALID_METHOD,
        MALFORMED_VERSION,
        UNSUPPORTED_VERSION,
        INVALID_STATUS_CODE,
        INVALID_URI,
        REQUEST_URI_HEADERS,
        INVALID_HEADER,
        UNCLOSED_QSTRING,
        INVALID_DATE,
        VALUE_OUT_OF_RANGE,
        MULTIPLE_DEFINITION,
        INVALID_CONTENT_LENGTH,
        CONTENT_LENGTH_MISMATCH,
        MISSING_CONTENT_LENGTH,
    ];

    /// The SIP status a server should answer a request failing with `reason`.
    pub fn status_for(reason: &str) -> u16 {
        match reason {
            // RFC 3261 §21.5.14: 513 Message Too Large.
            MESSAGE_TOO_LARGE => 513,
            UNSUPPORTED_VERSION => 505,
            _ => 400,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParseFailure {
    /// Stable reason code, e.g. "invalid_status_code", "multiple_definition".
    pub reason: &'static str,
    /// The response a server should send for a request that fails this way (400, 505, 513...).
    pub status_code: u16,
    /// Human-readable detail.
    pub message: String,
    /// The header at fault, as its snake_case key or wire name, when there is one.
    pub header: Option<String>,
    /// For a request: the Via, From, To, Call-ID and CSeq values that did parse, so that a
    /// server can still answer statelessly (RFC 3261 §8.2.6). Empty when unusable.
    pub reply_headers: Vec<(HeaderKey, HeaderValue)>,
    /// For a request: the From, To, Call-ID and CSeq that did *not* parse, as the raw
    /// text of their first line (key, value without the name). §8.2.6.2 asks a response to
    /// copy these header fields, so a 400 echoes them as they came.
    pub reply_raw: Vec<(&'static str, String)>,
}

impl ParseFailure {
    /// A failure whose status is the hint of `reason` (see [`reasons::status_for`]).
    pub fn of(reason: &'static str, message: impl Into<String>) -> Self {
        ParseFailure::new(reason, reasons::status_for(reason), message)
    }

    pub fn new(reason: &'static str, status_code: u16, message: impl Into<String>) -> Self {
        ParseFailure {
            reason,
            status_code,
            message: message.into(),
            header: None,
            reply_headers: Vec::new(),
            reply_raw: Vec::new(),
        }
    }
}

impl std::fmt::Display for ParseFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.reason)
    }
}

impl std::error::Error for ParseFailure {}

#[cfg(test)]
mod tests {
    use super::reasons;

    #[test]
    fn reason_codes_are_unique_snake_case_with_status_hints() {
        let mut seen = std::collections::HashSet::new();
        for r in reasons::ALL {
            assert!(seen.insert(r), "{r} listed twice");
            assert!(
                r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{r}"
            );
        }
        assert_eq!(reasons::status_for(reasons::MESSAGE_TOO_LARGE), 513);
        assert_eq!(reasons::status_for(reasons::INVALID_UTF8), 400);
        assert_eq!(reasons::status_for(reasons::UNSUPPORTED_VERSION), 505);
        assert_eq!(reasons::status_for(reasons::MULTIPLE_DEFINITION), 400);
    }

    #[test]
    fn every_reason_used_in_the_core_is_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core");
        let mut files = vec![dir.clone(), dir.join("headers")];
        let mut used = Vec::new();
        while let Some(d) = files.pop() {
            for entry in std::fs::read_dir(&d).unwrap().flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "rs") {
                    let src = std::fs::read_to_string(&path).unwrap();
                    for piece in src.split("reasons::").skip(1) {
                        let name: String = piece
                            .chars()
                            .take_while(|c| {
                                c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_'
                            })
                            .collect();
                        if !name.is_empty() && name != "ALL" {
                            used.push(name.to_ascii_lowercase());
                        }
                    }
                }
            }
        }
        assert!(used.len() > 20);
        for name in used {
            assert!(
                reasons::ALL.contains(&name.as_str()),
                "{name} missing from reasons::ALL"
            );
        }
    }
}
