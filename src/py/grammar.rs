//! Character classes and quoting of RFC 3261 §25, for the serializer.
//!
//! Everything written to the wire passes through one of these: a token is written as is,
//! anything else is quoted (quoted-string) or percent-escaped (URI parts). No CR or LF can
//! reach the output: they are not representable in a quoted-string (quoted-pair excludes
//! them) and raw text containing them is rejected, so a value cannot inject a header.

// Byte classes as one 256-entry table: one load per byte on the serializer's hot path.
const TOKEN: u8 = 1;
const USER: u8 = 2;
const PASSWORD: u8 = 4;
const PARAM: u8 = 8;
const HEADER: u8 = 16;
const HOST: u8 = 32;

const fn classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let alnum = b.is_ascii_alphanumeric();
        let mut c = 0;
        // token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
        if alnum
            || matches!(
                b,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            )
        {
            c |= TOKEN;
        }
        // unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
        let unreserved = alnum
            || matches!(
                b,
                b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
            );
        // user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/"
        if unreserved || matches!(b, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/') {
            c |= USER;
        }
        // password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )
        if unreserved || matches!(b, b'&' | b'=' | b'+' | b'$' | b',') {
            c |= PASSWORD;
        }
        // param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$"
        if unreserved || matches!(b, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$') {
            c |= PARAM;
        }
        // hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$"
        if unreserved || matches!(b, b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$') {
            c |= HEADER;
        }
        // host: hostname / IPv4address / IPv6 (loose: only decides quoting)
        if alnum || matches!(b, b'-' | b'.' | b':' | b'[' | b']') {
            c |= HOST;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static CLASSES: [u8; 256] = classes();

fn all_in(s: &str, class: u8) -> bool {
    // AND the class bits of every byte, eight at a time and without a branch per byte:
    // the values are short, and a mismatch is the rare case.
    let mut chunks = s.as_bytes().chunks_exact(8);
    let mut acc = class;
    for c in &mut chunks {
        let t = |i: usize| CLASSES[usize::from(c[i])];
        acc &= t(0) & t(1) & t(2) & t(3) & t(4) & t(5) & t(6) & t(7);
    }
    for &b in chunks.remainder() {
        acc &= CLASSES[usize::from(b)];
    }
    acc & class != 0
}

/// `token` (RFC 3261 §25.1).
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && all_in(s, TOKEN)
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` (RFC 7235 §2.1).
pub fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// `display-name = *(token LWS)`: tokens separated by single spaces, nothing around.
/// Anything else is quoted so that the parser reads back exactly the same text.
pub fn is_token_sequence(s: &str) -> bool {
    !s.is_empty() && s.split(' ').all(is_token)
}

/// A `host` as a gen-value or `received`/`maddr` value: hostname, IPv4, IPv6 (bare or in
/// brackets). Only used to decide quoting, so a loose check is enough.
pub fn is_host(s: &str) -> bool {
    !s.is_empty() && all_in(s, HOST)
}

/// Free text written raw (Subject, Call-ID, reason phrase, raw header lines): no CR or
/// LF, which would end the line and start another header.
pub fn is_line_safe(s: &str) -> bool {
    // `contains` on bytes scans a word at a time.
    let bytes = s.as_bytes();
    !bytes.contains(&b'\r') && !bytes.contains(&b'\n')
}

/// `quoted-string` (RFC 3261 §25.1): what is not qdtext (`"`, `\`, controls other than
/// HTAB, DEL) goes as a quoted-pair. The caller has checked `is_line_safe`: CR and LF are
/// the two characters a quoted-pair cannot carry.
pub fn push_quoted(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        if b == b'"' || b == b'\\' || (b < 0x20 && b != b'\t') || b == 0x7f {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Characters a URI part may carry unescaped (RFC 3261 §25.1, sip URI grammar).
#[derive(Debug, Clone, Copy)]
pub enum UriPart {
    /// `user = 1*( unreserved / escaped / user-unreserved )`,
    /// user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/".
    User,
    /// `password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )`.
    Password,
    /// `paramchar = param-unreserved / unreserved / escaped`,
    /// param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$". Also tel (RFC 3966).
    Param,
    /// `hnv-unreserved / unreserved / escaped`, hnv-unreserved = "[" / "]" / "/" / "?" / ":"
    /// / "+" / "$".
    Header,
}

/// Percent-escape every byte (of the UTF-8 form) the part does not allow unescaped.
pub fn push_escaped(out: &mut Vec<u8>, s: &str, part: UriPart) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let class = match part {
        UriPart::User => USER,
        UriPart::Password => PASSWORD,
        UriPart::Param => PARAM,
        UriPart::Header => HEADER,
    };
    if all_in(s, class) {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    for &b in s.as_bytes() {
        if CLASSES[usize::from(b)] & class != 0 {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// Append an unsigned integer in decimal without going through `fmt`.
pub fn push_uint(out: &mut Vec<u8>, mut n: u64) {
    if n < 10 {
        out.push(b'0' + n as u8);
        return;
    }
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        digits[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        i -= 2;
        digits[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        digits[i] = b'0' + n as u8;
    }
    out.extend_from_slice(&digits[i..]);
}

/// "00" "01" ... "99": two digits per division.
static PAIRS: [u8; 200] = {
    let mut table = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        table[2 * i] = b'0' + (i / 10) as u8;
        table[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_sequences() {
        assert!(is_token("z9hG4bK-74.bf9"));
        assert!(!is_token("a b"));
        assert!(!is_token(""));
        assert!(is_token_sequence("Alice Smith"));
        assert!(!is_token_sequence("Alice  Smith"));
        assert!(!is_token_sequence("Bob, Jr"));
    }

    #[test]
    fn quoting_escapes_quote_and_backslash() {
        let mut out = Vec::new();
        push_quoted(&mut out, r#"a"b\c"#);
        assert_eq!(out, br#""a\"b\\c""#);
    }

    #[test]
    fn escaping_by_part() {
        let mut out = Vec::new();
        push_escaped(&mut out, "a b;c@d", UriPart::User);
        assert_eq!(out, b"a%20b;c%40d");
        out.clear();
        push_escaped(&mut out, "x;y=z", UriPart::Param);
        assert_eq!(out, b"x%3By%3Dz");
        out.clear();
        push_escaped(&mut out, "é", UriPart::Header);
        assert_eq!(out, b"%C3%A9");
    }

    #[test]
    fn decimal() {
        let mut out = Vec::new();
        push_uint(&mut out, 0);
        out.push(b' ');
        push_uint(&mut out, 18_446_744_073_709_551_615);
        for n in [7, 10, 99, 100, 5060, 65_535, 314_159] {
            out.push(b' ');
            push_uint(&mut out, n);
        }
        assert_eq!(out, b"0 18446744073709551615 7 10 99 100 5060 65535 314159");
    }
}
