//! The parsed form of a SIP message, in plain Rust values.
//!
//! This is the contract between the pure-Rust parser (`core::parse`) and the Python
//! binding (`py::convert`), which turns each value into the Python shape documented in
//! `python/sippet/headers.py`. Nothing here depends on Python.
//!
//! Conventions (they mirror the Python side):
//! - Parameter names are lowercased (RFC 3261 §7.3.1, §19.1.4: names are case-insensitive);
//!   values keep their case. `None` is a parameter without `=value`; `Some("")` an empty
//!   quoted value. Quoted values are stored unquoted, with quoted-pairs resolved.
//! - Hosts are stored without IPv6 brackets (`::1`, not `[::1]`); serializers add them.
//! - Ports are `None` when absent from the wire; no default is filled in.

/// Ordered `name -> value` parameters (`;name=value`), names lowercased.
pub type Params = Vec<(String, Option<String>)>;

/// A parsed URI (RFC 3261 §19.1 for sip/sips, RFC 3966 for tel, RFC 3986 otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Uri {
    /// Lowercased scheme: "sip", "sips", "tel", or any other.
    pub scheme: String,
    /// sip/sips: the userinfo user, percent-decoded. tel: the telephone-subscriber number.
    pub user: Option<String>,
    /// sip/sips: the password, percent-decoded.
    pub password: Option<String>,
    /// sip/sips: hostname, IPv4 address or IPv6 address (no brackets).
    pub host: Option<String>,
    /// sip/sips: the explicit port, if any.
    pub port: Option<u16>,
    /// uri-parameters (sip/sips) or tel parameters, names lowercased, values decoded.
    pub params: Params,
    /// `?name=value&...` headers (sip/sips), names and values percent-decoded, case kept.
    pub headers: Vec<(String, String)>,
    /// For a scheme other than sip/sips/tel: everything after `scheme:`, verbatim.
    pub opaque: Option<String>,
}

/// `display-name <uri>;params` or `uri;params` (From, To, Contact, Route, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// Display name, unquoted; "" when absent.
    pub display_name: String,
    pub uri: Uri,
    pub params: Params,
}

/// One Via value: `SIP/2.0/UDP host:port;params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    pub version: (u32, u32),
    /// Transport, uppercased: UDP, TCP, TLS, SCTP, WS, WSS, or any other token.
    pub transport: String,
    pub host: String,
    pub port: Option<u16>,
    pub params: Params,
}

/// A `Date` header value (RFC 1123 date, GMT only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// The typed value of one header (all of its lines merged).
///
/// Variants whose fields would take more than 24 bytes are boxed: the value stays 32
/// bytes, so a message's header list (16 entries reserved) stays within one small
/// allocation that the allocator serves from its per-thread cache.
#[derive(Debug, Clone, PartialEq)]
pub enum HeaderValue {
    /// call_id, priority, organization, server, subject, user_agent.
    Text(String),
    /// content_length, expires, max_forwards, min_expires, rseq.
    Int(u64),
    /// allow, content_encoding, content_language, in_reply_to, proxy_require, require,
    /// supported, unsupported, allow_events, privacy.
    Tokens(Vec<String>),
    /// content_disposition, event, subscription_state, replaces: `token;params`.
    TokenParams(Box<(String, Params)>),
    /// accept_encoding, accept_language, reason.
    TokenParamsList(Vec<(String, Params)>),
    /// content_type: `type/subtype;params`.
    MediaType(Box<(String, String, Params)>),
    /// accept.
    MediaTypeList(Vec<(String, String, Params)>),
    /// alert_info, call_info, error_info: `<uri>;params`.
    UriParamsList(Vec<(Uri, Params)>),
    /// authorization, proxy_authorization, www_authenticate, proxy_authenticate.
    Auth(Vec<(String, Params)>),
    /// authentication_info.
    Params(Params),
    /// contact: `*`.
    Star,
    /// from, to, reply_to, refer_to, referred_by.
    NameAddr(Box<NameAddr>),
    /// contact, route, record_route, p_asserted_identity, p_preferred_identity, path,
    /// service_route.
    NameAddrList(Vec<NameAddr>),
    /// cseq: sequence number and method (method text as on the wire).
    CSeq(u32, String),
    Date(Date),
    /// mime_version: (major, minor).
    MimeVersion(u32, u32),
    /// retry_after: seconds, optional comment (without parentheses), params.
    RetryAfter(Box<(u32, Option<String>, Params)>),
    /// timestamp: value and optional delay.
    Timestamp(f64, Option<f64>),
    Via(Vec<Via>),
    /// warning: list of (code, agent, text).
    Warning(Vec<(u16, String, String)>),
    /// session_expires, min_se: delta-seconds with params.
    DeltaParams(u32, Params),
    /// rack: response-num, cseq-num, method.
    RAck(Box<(u32, u32, String)>),
    /// An unknown header, or a known one we do not type: one raw string per line,
    /// unfolded, surrounding whitespace trimmed, never split on commas.
    Raw(Vec<String>),
}

/// Which header a value belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderKey {
    /// A typed header, by its snake_case key (e.g. "call_id", "www_authenticate").
    Known(&'static str),
    /// A header without a typed shape. For a registered name we do not type (e.g. the
    /// compact `a` = Accept-Contact) this is the canonical name; for an unknown header it
    /// is the name as first seen on the wire.
    Raw(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum StartLine {
    Request {
        /// Method text, case-sensitive, as on the wire.
        method: String,
        uri: Uri,
        version: (u32, u32),
    },
    Status {
        version: (u32, u32),
        code: u16,
        reason: String,
    },
}

/// A whole parsed message. Headers are in order of first appearance; lines of the same
/// header are merged into one value.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub start_line: StartLine,
    pub headers: Vec<(HeaderKey, HeaderValue)>,
    pub body: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_stay_small() {
        // 16 entries of (HeaderKey, HeaderValue) must fit in 1 KiB (see `HeaderValue`).
        assert_eq!(std::mem::size_of::<HeaderValue>(), 32);
        assert!(16 * std::mem::size_of::<(HeaderKey, HeaderValue)>() <= 1024);
    }
}
