//! The header table (names, compact forms, which typed shape each header has) and the
//! dispatch from a header's kind to its value parser.
//!
//! Keys, canonical names and compact forms are exactly those of `python/sippet/headers.py`;
//! `tests::table_matches_python` checks the count. A header whose kind is single-valued
//! (everything but the lists) may appear once: a second line is `multiple_definition`
//! (RFC 3261 §7.3.1; RFC 4475 multi01, mcl01).

mod addr;
mod auth;
mod date;
mod misc;
mod via;

pub use misc::{is_valid_call_id, is_valid_replaces_call_id, is_valid_warn_agent};

use crate::core::abnf::{err, Utf8, R, U32_MAX};
use crate::core::error::reasons;
use crate::core::model::HeaderValue;

/// How a header's value is parsed; says which `HeaderValue` variant it produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text (TEXT-UTF8), may be empty: `Text`.
    Text,
    /// callid = word [ "@" word ]: `Text`.
    CallId,
    /// A single token: `Text`.
    Priority,
    /// 1*DIGIT up to the bound: `Int`.
    Int(u64),
    /// 1*DIGIT, `invalid_content_length` otherwise: `Int`.
    ContentLength,
    /// Comma list of tokens, possibly empty (Allow, Supported): `Tokens`.
    Tokens,
    /// Comma list of at least one token (Require, Unsupported...): `Tokens`. An empty
    /// value is malformed, and would vanish when written back.
    Tokens1,
    /// Comma list of Call-IDs (In-Reply-To): `Tokens`.
    CallIdList,
    /// `;`-separated priv-values (RFC 3323 §4.2): `Tokens`.
    Privacy,
    TokenParams,
    /// Replaces (RFC 3891): callid *( SEMI param ): `TokenParams`.
    CallIdParams,
    /// Possibly empty (Accept-Encoding, Accept-Language).
    TokenParamsList,
    /// At least one element (Reason).
    TokenParamsList1,
    MediaType,
    MediaTypeList,
    UriParamsList,
    Auth,
    AuthInfo,
    Contact,
    NameAddr,
    NameAddrList,
    CSeq,
    Date,
    MimeVersion,
    RetryAfter,
    Timestamp,
    Via,
    Warning,
    DeltaParams,
    RAck,
}

impl Kind {
    /// Whether the header may carry several values (comma lists, several lines).
    pub fn is_list(self) -> bool {
        matches!(
            self,
            Kind::Tokens
                | Kind::Tokens1
                | Kind::CallIdList
                | Kind::Privacy
                | Kind::TokenParamsList
                | Kind::TokenParamsList1
                | Kind::MediaTypeList
                | Kind::UriParamsList
                | Kind::Auth
                | Kind::Contact
                | Kind::NameAddrList
                | Kind::Via
                | Kind::Warning
        )
    }
}

#[derive(Debug)]
pub struct Spec {
    pub key: &'static str,
    pub name: &'static str,
    pub kind: Kind,
}

/// What a header name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// A typed header: index into `SPECS`.
    Known(usize),
    /// A registered header kept raw, by canonical name (Accept-Contact...).
    Registered(&'static str),
    Unknown,
}

pub const VIA: usize = 57;
pub const CONTENT_LENGTH: usize = 14;
pub const FROM: usize = 21;
pub const TO: usize = 54;
pub const CALL_ID: usize = 8;
pub const CSEQ: usize = 16;

/// Finds a header by wire name, case-insensitively, compact forms included.
/// Names are not percent-decoded: `C%6Fntact` is unknown (RFC 4475 esc02).
pub fn lookup(name: &[u8]) -> Lookup {
    if let [c] = name {
        return compact(*c).unwrap_or(Lookup::Unknown);
    }
    let mut buf = [0u8; 24];
    let Some(dst) = buf.get_mut(..name.len()) else {
        return Lookup::Unknown;
    };
    for (d, s) in dst.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    if let Some(i) = long_name_index(dst) {
        return Lookup::Known(i);
    }
    match &*dst {
        b"accept-contact" => Lookup::Registered("Accept-Contact"),
        b"reject-contact" => Lookup::Registered("Reject-Contact"),
        b"request-disposition" => Lookup::Registered("Request-Disposition"),
        b"identity" => Lookup::Registered("Identity"),
        _ => Lookup::Unknown,
    }
}

/// Parses one header line's value (unfolded, trimmed) into the kind's typed value.
pub fn parse_value(kind: Kind, v: &[u8]) -> R<HeaderValue> {
    parse_value_in(kind, v, Utf8::default())
}

/// `parse_value` for a value that may lie inside the checked text `utf8`.
pub fn parse_value_in<'a>(kind: Kind, v: &'a [u8], utf8: Utf8<'a>) -> R<HeaderValue> {
    parse_typed(kind, v, utf8).map_err(|e| {
        // `To: <sip:a@b>, <sip:c@d>` or `Content-Length: 13, 5`: a second value of a
        // single-valued header is `multiple_definition`, like a second line (RFC 4475
        // multi01, mcl01), when what precedes the comma is a whole value. (`Bell,
        // Alexander <sip:...>` stays a bad value: baddn.) Text and Date may hold commas.
        let may_hold_commas = matches!(kind, Kind::Text | Kind::Date | Kind::RetryAfter);
        if kind.is_list() || may_hold_commas {
            return e;
        }
        match top_level_comma(v).and_then(|i| v.get(..i)) {
            Some(first) if parse_typed(kind, crate::core::abnf::trim(first), utf8).is_ok() => err(
                reasons::MULTIPLE_DEFINITION,
                "header may have only one value",
            ),
            _ => e,
        }
    })
}

/// The first comma outside quoted strings, `<...>` and comments.
fn top_level_comma(v: &[u8]) -> Option<usize> {
    let (mut quoted, mut escaped, mut angle, mut paren) = (false, false, false, 0usize);
    for (i, &b) in v.iter().enumerate() {
        if quoted {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => quoted = true,
            b'<' => angle = true,
            b'>' => angle = false,
            b'(' => paren += 1,
            b')' => paren = paren.saturating_sub(1),
            b',' if !angle && paren == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

fn parse_typed<'a>(kind: Kind, v: &'a [u8], utf8: Utf8<'a>) -> R<HeaderValue> {
    Ok(match kind {
        Kind::Text => HeaderValue::Text(utf8.text(v)),
        Kind::CallId => HeaderValue::Text(misc::call_id(v, utf8)?),
        Kind::Priority => HeaderValue::Text(misc::single_token(v)?),
        Kind::Int(max) => HeaderValue::Int(misc::int(v, max)?),
        Kind::ContentLength => HeaderValue::Int(misc::content_length(v)?),
        Kind::Tokens => HeaderValue::Tokens(misc::tokens(v, utf8)?),
        Kind::Tokens1 => HeaderValue::Tokens(misc::non_empty(misc::tokens(v, utf8)?)?),
        Kind::CallIdList => HeaderValue::Tokens(misc::call_id_list(v)?),
        Kind::Privacy => HeaderValue::Tokens(misc::privacy(v)?),
        Kind::TokenParams => {
            let (t, p) = misc::token_params(v, utf8)?;
            HeaderValue::TokenParams(Box::new((t, p)))
        }
        Kind::CallIdParams => {
            let (t, p) = misc::call_id_params(v)?;
            HeaderValue::TokenParams(Box::new((t, p)))
        }
        Kind::TokenParamsList => HeaderValue::TokenParamsList(misc::token_params_list(v)?),
        Kind::TokenParamsList1 => {
            HeaderValue::TokenParamsList(misc::non_empty(misc::token_params_list(v)?)?)
        }
        Kind::MediaType => {
            let (t, s, p) = misc::media_type(v, utf8)?;
            HeaderValue::MediaType(Box::new((t, s, p)))
        }
        Kind::MediaTypeList => HeaderValue::MediaTypeList(misc::media_type_list(v, utf8)?),
        Kind::UriParamsList => HeaderValue::UriParamsList(addr::uri_params_list(v)?),
        Kind::Auth => HeaderValue::Auth(auth::challenges(v)?),
        Kind::AuthInfo => HeaderValue::Params(auth::info(v)?),
        Kind::Contact => addr::contact(v, utf8)?,
        Kind::NameAddr => HeaderValue::NameAddr(Box::new(addr::single(v, utf8)?)),
        Kind::NameAddrList => HeaderValue::NameAddrList(addr::list(v, utf8)?),
        Kind::CSeq => {
            let (n, m) = misc::cseq(v, utf8)?;
            HeaderValue::CSeq(n, m)
        }
        Kind::Date => HeaderValue::Date(date::parse(v)?),
        Kind::MimeVersion => {
            let (a, b) = misc::mime_version(v)?;
            HeaderValue::MimeVersion(a, b)
        }
        Kind::RetryAfter => {
            let (s, c, p) = misc::retry_after(v)?;
            HeaderValue::RetryAfter(Box::new((s, c, p)))
        }
        Kind::Timestamp => {
            let (t, d) = misc::timestamp(v)?;
            HeaderValue::Timestamp(t, d)
        }
        Kind::Via => HeaderValue::Via(via::list(v, utf8)?),
        Kind::Warning => HeaderValue::Warning(misc::warnings(v)?),
        Kind::DeltaParams => {
            let (s, p) = misc::delta_params(v, utf8)?;
            HeaderValue::DeltaParams(s, p)
        }
        Kind::RAck => {
            let (a, b, m) = misc::rack(v)?;
            HeaderValue::RAck(Box::new((a, b, m)))
        }
    })
}

/// Appends the values of a further line of a list header to the merged value.
pub fn merge(into: &mut HeaderValue, more: HeaderValue) -> R<()> {
    use HeaderValue as V;
    match (into, more) {
        (V::Tokens(a), V::Tokens(b)) => a.extend(b),
        (V::TokenParamsList(a), V::TokenParamsList(b)) => a.extend(b),
        (V::MediaTypeList(a), V::MediaTypeList(b)) => a.extend(b),
        (V::UriParamsList(a), V::UriParamsList(b)) => a.extend(b),
        (V::Auth(a), V::Auth(b)) => a.extend(b),
        (V::NameAddrList(a), V::NameAddrList(b)) => a.extend(b),
        (V::Via(a), V::Via(b)) => a.extend(b),
        (V::Warning(a), V::Warning(b)) => a.extend(b),
        (V::Raw(a), V::Raw(b)) => a.extend(b),
        // RFC 3261 §20.10: `Contact: *` stands alone.
        _ => {
            return Err(err(
                reasons::INVALID_HEADER,
                "`*` mixed with other Contact values",
            ))
        }
    }
    Ok(())
}

/// Every typed header: (snake_case key, canonical wire name, kind). Keys and names are
/// exactly those of `python/sippet/headers.py` (`CANONICAL_NAMES`, `HEADER_SHAPES`).
pub static SPECS: [Spec; 60] = [
    Spec {
        key: "accept",
        name: "Accept",
        kind: Kind::MediaTypeList,
    },
    Spec {
        key: "accept_encoding",
        name: "Accept-Encoding",
        kind: Kind::TokenParamsList,
    },
    Spec {
        key: "accept_language",
        name: "Accept-Language",
        kind: Kind::TokenParamsList,
    },
    Spec {
        key: "alert_info",
        name: "Alert-Info",
        kind: Kind::UriParamsList,
    },
    Spec {
        key: "allow",
        name: "Allow",
        kind: Kind::Tokens,
    },
    Spec {
        key: "allow_events",
        name: "Allow-Events",
        kind: Kind::Tokens1,
    },
    Spec {
        key: "authentication_info",
        name: "Authentication-Info",
        kind: Kind::AuthInfo,
    },
    Spec {
        key: "authorization",
        name: "Authorization",
        kind: Kind::Auth,
    },
    Spec {
        key: "call_id",
        name: "Call-ID",
        kind: Kind::CallId,
    },
    Spec {
        key: "call_info",
        name: "Call-Info",
        kind: Kind::UriParamsList,
    },
    Spec {
        key: "contact",
        name: "Contact",
        kind: Kind::Contact,
    },
    Spec {
        key: "content_disposition",
        name: "Content-Disposition",
        kind: Kind::TokenParams,
    },
    Spec {
        key: "content_encoding",
        name: "Content-Encoding",
        kind: Kind::Tokens1,
    },
    Spec {
        key: "content_language",
        name: "Content-Language",
        kind: Kind::Tokens1,
    },
    Spec {
        key: "content_length",
        name: "Content-Length",
        kind: Kind::ContentLength,
    },
    Spec {
        key: "content_type",
        name: "Content-Type",
        kind: Kind::MediaType,
    },
    Spec {
        key: "cseq",
        name: "CSeq",
        kind: Kind::CSeq,
    },
    Spec {
        key: "date",
        name: "Date",
        kind: Kind::Date,
    },
    Spec {
        key: "error_info",
        name: "Error-Info",
        kind: Kind::UriParamsList,
    },
    Spec {
        key: "event",
        name: "Event",
        kind: Kind::TokenParams,
    },
    Spec {
        key: "expires",
        name: "Expires",
        kind: Kind::Int(U32_MAX),
    },
    Spec {
        key: "from",
        name: "From",
        kind: Kind::NameAddr,
    },
    Spec {
        key: "in_reply_to",
        name: "In-Reply-To",
        kind: Kind::CallIdList,
    },
    Spec {
        key: "max_forwards",
        name: "Max-Forwards",
        kind: Kind::Int(255),
    },
    Spec {
        key: "mime_version",
        name: "MIME-Version",
        kind: Kind::MimeVersion,
    },
    Spec {
        key: "min_expires",
        name: "Min-Expires",
        kind: Kind::Int(U32_MAX),
    },
    Spec {
        key: "min_se",
        name: "Min-SE",
        kind: Kind::DeltaParams,
    },
    Spec {
        key: "organization",
        name: "Organization",
        kind: Kind::Text,
    },
    Spec {
        key: "p_asserted_identity",
        name: "P-Asserted-Identity",
        kind: Kind::NameAddrList,
    },
    Spec {
        key: "p_preferred_identity",
        name: "P-Preferred-Identity",
        kind: Kind::NameAddrList,
    },
    Spec {
        key: "path",
        name: "Path",
        kind: Kind::NameAddrList,
    },
    Spec {
        key: "priority",
        name: "Priority",
        kind: Kind::Priority,
    },
    Spec {
        key: "privacy",
        name: "Privacy",
        kind: Kind::Privacy,
    },
    Spec {
        key: "proxy_authenticate",
        name: "Proxy-Authenticate",
        kind: Kind::Auth,
    },
    Spec {
        key: "proxy_authorization",
        name: "Proxy-Authorization",
        kind: Kind::Auth,
    },
    Spec {
        key: "proxy_require",
        name: "Proxy-Require",
        kind: Kind::Tokens1,
    },
    Spec {
        key: "rack",
        name: "RAck",
        kind: Kind::RAck,
    },
    Spec {
        key: "reason",
        name: "Reason",
        kind: Kind::TokenParamsList1,
    },
    Spec {
        key: "record_route",
        name: "Record-Route",
        kind: Kind::NameAddrList,
    },
    Spec {
        key: "refer_to",
        name: "Refer-To",
        kind: Kind::NameAddr,
    },
    Spec {
        key: "referred_by",
        name: "Referred-By",
        kind: Kind::NameAddr,
    },
    Spec {
        key: "replaces",
        name: "Replaces",
        kind: Kind::CallIdParams,
    },
    Spec {
        key: "reply_to",
        name: "Reply-To",
        kind: Kind::NameAddr,
    },
    Spec {
        key: "require",
        name: "Require",
        kind: Kind::Tokens1,
    },
    Spec {
        key: "retry_after",
        name: "Retry-After",
        kind: Kind::RetryAfter,
    },
    Spec {
        key: "route",
        name: "Route",
        kind: Kind::NameAddrList,
    },
    Spec {
        key: "rseq",
        name: "RSeq",
        kind: Kind::Int(U32_MAX),
    },
    Spec {
        key: "server",
        name: "Server",
        kind: Kind::Text,
    },
    Spec {
        key: "service_route",
        name: "Service-Route",
        kind: Kind::NameAddrList,
    },
    Spec {
        key: "session_expires",
        name: "Session-Expires",
        kind: Kind::DeltaParams,
    },
    Spec {
        key: "subject",
        name: "Subject",
        kind: Kind::Text,
    },
    Spec {
        key: "subscription_state",
        name: "Subscription-State",
        kind: Kind::TokenParams,
    },
    Spec {
        key: "supported",
        name: "Supported",
        kind: Kind::Tokens,
    },
    Spec {
        key: "timestamp",
        name: "Timestamp",
        kind: Kind::Timestamp,
    },
    Spec {
        key: "to",
        name: "To",
        kind: Kind::NameAddr,
    },
    Spec {
        key: "unsupported",
        name: "Unsupported",
        kind: Kind::Tokens1,
    },
    Spec {
        key: "user_agent",
        name: "User-Agent",
        kind: Kind::Text,
    },
    Spec {
        key: "via",
        name: "Via",
        kind: Kind::Via,
    },
    Spec {
        key: "warning",
        name: "Warning",
        kind: Kind::Warning,
    },
    Spec {
        key: "www_authenticate",
        name: "WWW-Authenticate",
        kind: Kind::Auth,
    },
];

/// Index into `SPECS` of a lowercased long name.
fn long_name_index(lower: &[u8]) -> Option<usize> {
    Some(match lower {
        b"accept" => 0,
        b"accept-encoding" => 1,
        b"accept-language" => 2,
        b"alert-info" => 3,
        b"allow" => 4,
        b"allow-events" => 5,
        b"authentication-info" => 6,
        b"authorization" => 7,
        b"call-id" => 8,
        b"call-info" => 9,
        b"contact" => 10,
        b"content-disposition" => 11,
        b"content-encoding" => 12,
        b"content-language" => 13,
        b"content-length" => 14,
        b"content-type" => 15,
        b"cseq" => 16,
        b"date" => 17,
        b"error-info" => 18,
        b"event" => 19,
        b"expires" => 20,
        b"from" => 21,
        b"in-reply-to" => 22,
        b"max-forwards" => 23,
        b"mime-version" => 24,
        b"min-expires" => 25,
        b"min-se" => 26,
        b"organization" => 27,
        b"p-asserted-identity" => 28,
        b"p-preferred-identity" => 29,
        b"path" => 30,
        b"priority" => 31,
        b"privacy" => 32,
        b"proxy-authenticate" => 33,
        b"proxy-authorization" => 34,
        b"proxy-require" => 35,
        b"rack" => 36,
        b"reason" => 37,
        b"record-route" => 38,
        b"refer-to" => 39,
        b"referred-by" => 40,
        b"replaces" => 41,
        b"reply-to" => 42,
        b"require" => 43,
        b"retry-after" => 44,
        b"route" => 45,
        b"rseq" => 46,
        b"server" => 47,
        b"service-route" => 48,
        b"session-expires" => 49,
        b"subject" => 50,
        b"subscription-state" => 51,
        b"supported" => 52,
        b"timestamp" => 53,
        b"to" => 54,
        b"unsupported" => 55,
        b"user-agent" => 56,
        b"via" => 57,
        b"warning" => 58,
        b"www-authenticate" => 59,
        _ => return None,
    })
}

/// RFC 3261 §7.3.3 compact forms and the IANA registry's (`COMPACT_FORMS`).
fn compact(c: u8) -> Option<Lookup> {
    Some(match c.to_ascii_lowercase() {
        b'a' => Lookup::Registered("Accept-Contact"),
        b'b' => Lookup::Known(40),
        b'c' => Lookup::Known(15),
        b'd' => Lookup::Registered("Request-Disposition"),
        b'e' => Lookup::Known(12),
        b'f' => Lookup::Known(21),
        b'i' => Lookup::Known(8),
        b'j' => Lookup::Registered("Reject-Contact"),
        b'k' => Lookup::Known(52),
        b'l' => Lookup::Known(14),
        b'm' => Lookup::Known(10),
        b'o' => Lookup::Known(19),
        b'r' => Lookup::Known(39),
        b's' => Lookup::Known(50),
        b't' => Lookup::Known(54),
        b'u' => Lookup::Known(5),
        b'v' => Lookup::Known(57),
        b'x' => Lookup::Known(49),
        b'y' => Lookup::Registered("Identity"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_python() {
        // python/sippet/headers.py HEADER_SHAPES has 60 typed headers.
        assert_eq!(SPECS.len(), 60);
        for (i, s) in SPECS.iter().enumerate() {
            assert_eq!(lookup(s.name.as_bytes()), Lookup::Known(i), "{}", s.name);
            assert_eq!(
                lookup(s.name.to_ascii_uppercase().as_bytes()),
                Lookup::Known(i)
            );
        }
        for (i, key) in [
            (VIA, "via"),
            (CONTENT_LENGTH, "content_length"),
            (FROM, "from"),
            (TO, "to"),
        ]
        .into_iter()
        .chain([(CALL_ID, "call_id"), (CSEQ, "cseq")])
        {
            assert_eq!(SPECS.get(i).map(|s| s.key), Some(key));
        }
    }

    #[test]
    fn compact_forms_and_registered_names() {
        assert_eq!(lookup(b"v"), Lookup::Known(VIA));
        assert_eq!(lookup(b"L"), Lookup::Known(CONTENT_LENGTH));
        assert_eq!(lookup(b"a"), Lookup::Registered("Accept-Contact"));
        assert_eq!(lookup(b"IDENTITY"), Lookup::Registered("Identity"));
        assert_eq!(lookup(b"C%6Fntact"), Lookup::Unknown);
        assert_eq!(lookup(b"q"), Lookup::Unknown);
        assert_eq!(
            lookup(b"a-very-long-header-name-that-is-unknown"),
            Lookup::Unknown
        );
    }

    #[test]
    fn second_value_of_single_header() {
        let reason = |k: Kind, v: &str| parse_value(k, v.as_bytes()).unwrap_err().reason;
        assert_eq!(
            reason(Kind::NameAddr, "<sip:a@b>;tag=1, <sip:c@d>"),
            "multiple_definition"
        );
        assert_eq!(reason(Kind::ContentLength, "13, 5"), "multiple_definition");
        assert_eq!(
            reason(Kind::CSeq, "1 INVITE, 2 INVITE"),
            "multiple_definition"
        );
        assert_eq!(reason(Kind::Int(255), "70,"), "multiple_definition");
        assert_eq!(
            reason(Kind::NameAddr, "\"a,b\" <sip:a@b>x"),
            "invalid_header"
        );
        assert_eq!(reason(Kind::NameAddr, "<sip:a,b@c>x"), "invalid_header");
        // A comma in an unquoted display name is a bad display name (RFC 4475 baddn).
        assert_eq!(
            reason(Kind::NameAddr, "Bell, Alexander <sip:a@b>"),
            "invalid_uri"
        );
        // Text may hold commas.
        assert!(parse_value(Kind::Text, b"a, b").is_ok());
    }
}
