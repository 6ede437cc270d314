//! Stream framer for TCP/TLS/WebSocket byte streams. (Being written.)

use crate::core::error::ParseFailure;
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
    buffer: Vec<u8>,
}

impl Framer {
    pub fn new(limits: Limits) -> Self {
        Framer {
            limits,
            buffer: Vec::new(),
        }
    }

    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<Frame>, ParseFailure> {
        self.buffer.extend_from_slice(data);
        Ok(Vec::new())
    }
}
