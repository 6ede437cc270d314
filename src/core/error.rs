//! Parse failures: a machine-readable reason and the SIP status a server should answer.

use crate::core::model::{HeaderKey, HeaderValue};

#[derive(Debug, Clone, PartialEq)]
pub struct ParseFailure {
    /// Stable reason code, e.g. "invalid_status_code", "multiple_definition".
    pub reason: &'static str,
    /// The response a server should send for a request that fails this way (400, 505, 413...).
    pub status_code: u16,
    /// Human-readable detail.
    pub message: String,
    /// The header at fault, as its snake_case key or wire name, when there is one.
    pub header: Option<String>,
    /// For a request: the Via, From, To, Call-ID and CSeq values that did parse, so that a
    /// server can still answer statelessly (RFC 3261 §8.2.6). Empty when unusable.
    pub reply_headers: Vec<(HeaderKey, HeaderValue)>,
}

impl ParseFailure {
    pub fn new(reason: &'static str, status_code: u16, message: impl Into<String>) -> Self {
        ParseFailure {
            reason,
            status_code,
            message: message.into(),
            header: None,
            reply_headers: Vec::new(),
        }
    }
}

impl std::fmt::Display for ParseFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.reason)
    }
}

impl std::error::Error for ParseFailure {}
