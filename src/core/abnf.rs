//! RFC 3261 §25 character classes and the small scanning primitives every header parser
//! shares: a bounds-checked cursor, LWS skipping, tokens, quoted strings, generic
//! parameters and bounded integers.
//!
//! Header values reach these functions already unfolded (the message parser turns each
//! CRLF + WSP continuation into a single SP, RFC 3261 §7.3.1), so LWS/SWS is just a run of
//! SP and HT here.

use crate::core::error::reasons;
use crate::core::model::Params;

/// A parse error inside a value, before the message parser adds the header's name.
/// Cheap to build: no allocation until it becomes a `ParseFailure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct E {
    pub reason: &'static str,
    pub msg: &'static str,
}

pub type R<T> = Result<T, E>;

pub const fn err(reason: &'static str, msg: &'static str) -> E {
    E { reason, msg }
}

pub const fn bad(msg: &'static str) -> E {
    E {
        reason: reasons::INVALID_HEADER,
        msg,
    }
}

// Character classes of RFC 3261 §25, one bit each, looked up in a 256-entry table (one
// load per byte on the hot path instead of a chain of comparisons).
pub const TOKEN: u16 = 1;
pub const WORD: u16 = 1 << 1;
pub const UNRESERVED: u16 = 1 << 2;
pub const USER: u16 = 1 << 3;
pub const PASSWORD: u16 = 1 << 4;
pub const PARAMCHAR: u16 = 1 << 5;
pub const HCHAR: u16 = 1 << 6;
pub const PARAM_VALUE: u16 = 1 << 7;
pub const HOSTNAME: u16 = 1 << 8;
pub const WSP: u16 = 1 << 9;

const fn class_of(b: u8) -> u16 {
    let alnum = b.is_ascii_alphanumeric();
    // token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
    let token = alnum
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        );
    // word adds ( ) < > : \ DQUOTE / [ ] ? { } (the characters of a Call-ID)
    let word = token
        || matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        );
    // unreserved = alphanum / mark; mark = - _ . ! ~ * ' ( )
    let unreserved = alnum
        || matches!(
            b,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        );
    // user-unreserved = & = + $ , ; ? /
    let user = unreserved || matches!(b, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/');
    // password = *( unreserved / escaped / & = + $ , )
    let password = unreserved || matches!(b, b'&' | b'=' | b'+' | b'$' | b',');
    // param-unreserved = [ ] / : & + $ (also RFC 3966 tel parameters)
    let paramchar = unreserved || matches!(b, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$');
    // hnv-unreserved = [ ] / ? : + $
    let hchar = unreserved || matches!(b, b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$');
    // gen-value = token / host: an IPv6 reference `[..]`, or (RFC 5118 §4.5, Via
    // `received`) a bare IPv6 address with colons.
    let param_value = token || matches!(b, b':' | b'[' | b']');
    // hostname / IPv4address, liberally (`_` is seen in deployed hostnames).
    let hostname = alnum || matches!(b, b'-' | b'.' | b'_');
    let wsp = b == b' ' || b == b'\t';
    (token as u16 * TOKEN)
        | (word as u16 * WORD)
        | (unreserved as u16 * UNRESERVED)
        | (user as u16 * USER)
        | (password as u16 * PASSWORD)
        | (paramchar as u16 * PARAMCHAR)
        | (hchar as u16 * HCHAR)
        | (param_value as u16 * PARAM_VALUE)
        | (hostname as u16 * HOSTNAME)
        | (wsp as u16 * WSP)
}

static CLASSES: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = class_of(i as u8);
        i += 1;
    }
    t
};

/// Whether `b` belongs to any of the classes in `class`.
#[inline]
pub fn is(b: u8, class: u16) -> bool {
    CLASSES[usize::from(b)] & class != 0
}

/// Whether every byte of `s` belongs to `class` (true for an empty `s`). The class bits
/// are ANDed eight bytes at a time, without a branch per byte: the serializer checks
/// every host and Call-ID it writes with this, and a mismatch is the rare case.
pub fn all(s: &[u8], class: u16) -> bool {
    let t = |b: u8| CLASSES[usize::from(b)];
    let mut chunks = s.chunks_exact(8);
    let mut acc = class;
    for chunk in &mut chunks {
        if let Ok(&[a, b, c, d, e, f, g, h]) = <&[u8; 8]>::try_from(chunk) {
            acc &= t(a) & t(b) & t(c) & t(d) & t(e) & t(f) & t(g) & t(h);
        }
    }
    for &b in chunks.remainder() {
        acc &= t(b);
    }
    acc == class
}

#[inline]
pub fn is_token(b: u8) -> bool {
    is(b, TOKEN)
}

#[inline]
pub fn is_word(b: u8) -> bool {
    is(b, WORD)
}

#[inline]
pub fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

#[inline]
pub fn is_param_value(b: u8) -> bool {
    is(b, PARAM_VALUE)
}

/// Bytes to a `String`. Every caller passes UTF-8: the message parser rejects a start line
/// or header section that is not UTF-8 (`invalid_utf8`, RFC 3261 §25.1), the URI parser
/// rejects escapes that decode to something else (`invalid_uri`). The lossy branch is a
/// fallback that keeps this function total; it is never taken for a parsed message (the
/// fuzz target `parse_message` checks that no U+FFFD appears that was not sent).
pub fn text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// The longest UTF-8 prefix of a message, checked once: a `String` of bytes inside it
/// is a copy of a `str` slice, without validating those bytes again.
#[derive(Debug, Clone, Copy, Default)]
pub struct Utf8<'a>(&'a str);

impl<'a> Utf8<'a> {
    /// Text already checked (a `str`).
    pub fn new(s: &'a str) -> Self {
        Utf8(s)
    }

    /// The longest UTF-8 prefix of `data`.
    pub fn of(data: &'a [u8]) -> Self {
        match std::str::from_utf8(data) {
            Ok(s) => Utf8(s),
            Err(e) => Utf8(
                data.get(..e.valid_up_to())
                    .and_then(|p| std::str::from_utf8(p).ok())
                    .unwrap_or(""),
            ),
        }
    }

    /// `text(b)`, sliced from the checked text when `b` lies inside it (same address,
    /// whole characters).
    pub fn text(self, b: &[u8]) -> String {
        let offset = (b.as_ptr() as usize).wrapping_sub(self.0.as_ptr() as usize);
        match self.0.get(offset..offset.wrapping_add(b.len())) {
            Some(s) if s.as_ptr() == b.as_ptr() => s.to_owned(),
            _ => text(b),
        }
    }

    /// ASCII-lowercased `text(b)`.
    pub fn lower(self, b: &[u8]) -> String {
        let mut s = self.text(b);
        s.make_ascii_lowercase();
        s
    }
}

/// Rejects a parameter list that names a parameter twice (names are lowercased already).
/// RFC 3261 §19.1.1 says so of URI parameters and RFC 7235 §2.1 of auth parameters; for
/// header parameters a second value would be ambiguous, and the ordered map a message
/// holds them in could only keep one of the two.
pub fn unique_names(params: &Params) -> R<()> {
    const DUP: E = err(reasons::MULTIPLE_DEFINITION, "a parameter is given twice");
    // Short lists (nearly all) compare pairwise; a long one (bounded by the line length
    // limit) is checked through a set, so that hostile input stays linear.
    if params.len() <= 16 {
        for (i, (name, _)) in params.iter().enumerate() {
            if params.iter().skip(i + 1).any(|(other, _)| other == name) {
                return Err(DUP);
            }
        }
    } else {
        let mut seen = std::collections::HashSet::with_capacity(params.len());
        if !params.iter().all(|(name, _)| seen.insert(name.as_str())) {
            return Err(DUP);
        }
    }
    Ok(())
}

pub fn trim(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if is_wsp(*first) {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if is_wsp(*last) {
            b = rest;
        } else {
            break;
        }
    }
    b
}

/// A bounds-checked cursor over one (unfolded) header value.
#[derive(Debug, Clone, Copy)]
pub struct Cursor<'a> {
    pub s: &'a [u8],
    pub pos: usize,
    /// Checked text `s` may lie in (see `Utf8`).
    pub utf8: Utf8<'a>,
}

impl<'a> Cursor<'a> {
    pub fn new(s: &'a [u8]) -> Self {
        Cursor {
            s,
            pos: 0,
            utf8: Utf8::default(),
        }
    }

    /// A cursor over `s`, which may lie inside the checked text `utf8`.
    pub fn within(s: &'a [u8], utf8: Utf8<'a>) -> Self {
        Cursor { s, pos: 0, utf8 }
    }

    pub fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub fn rest(&self) -> &'a [u8] {
        self.s.get(self.pos..).unwrap_or(&[])
    }

    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips SP/HT; returns whether any was skipped.
    pub fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_wsp) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Skips SWS, then requires `b`, then skips SWS (SEMI, COMMA, EQUAL, SLASH, COLON).
    pub fn sep(&mut self, b: u8) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.eat(b) {
            self.skip_ws();
            true
        } else {
            self.pos = save;
            false
        }
    }

    /// The longest run of bytes satisfying `f` (possibly empty).
    pub fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let rest = self.rest();
        let n = rest.iter().position(|&b| !f(b)).unwrap_or(rest.len());
        self.pos += n;
        rest.get(..n).unwrap_or(&[])
    }

    pub fn token(&mut self) -> Option<&'a [u8]> {
        let t = self.take_while(is_token);
        if t.is_empty() {
            None
        } else {
            Some(t)
        }
    }

    pub fn expect_token(&mut self, what: &'static str) -> R<&'a [u8]> {
        self.token().ok_or(bad(what))
    }

    /// quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE, cursor on the opening quote.
    /// Returns the content with quoted-pairs resolved (RFC 3261 §25: `\` escapes any
    /// octet but CR and LF, so NUL, BEL and DEL come through: RFC 4475 intmeth).
    pub fn quoted_string(&mut self) -> R<String> {
        if !self.eat(b'"') {
            return Err(bad("expected a quoted string"));
        }
        let start = self.pos;
        let mut out: Option<Vec<u8>> = None;
        loop {
            match self.peek() {
                None => return Err(err(reasons::UNCLOSED_QSTRING, "unterminated quoted string")),
                Some(b'"') => {
                    let raw = self.s.get(start..self.pos).unwrap_or(&[]);
                    self.pos += 1;
                    return Ok(match out {
                        Some(v) => text(&v),
                        None => self.utf8.text(raw),
                    });
                }
                Some(b'\\') => {
                    let buf = out
                        .get_or_insert_with(|| self.s.get(start..self.pos).unwrap_or(&[]).to_vec());
                    match self.s.get(self.pos + 1) {
                        Some(&c) if c != b'\r' && c != b'\n' => buf.push(c),
                        _ => {
                            return Err(err(
                                reasons::UNCLOSED_QSTRING,
                                "quoted-pair at the end of a quoted string",
                            ))
                        }
                    }
                    self.pos += 2;
                }
                Some(c) => {
                    if let Some(buf) = out.as_mut() {
                        buf.push(c);
                    }
                    self.pos += 1;
                }
            }
        }
    }

    /// `*( SEMI generic-param )` with generic-param = token [ EQUAL gen-value ] and
    /// gen-value = token / host / quoted-string. Names lowercased, values unquoted.
    pub fn params(&mut self, out: &mut Params) -> R<()> {
        while self.sep(b';') {
            let name = self.expect_token("empty or invalid parameter name")?;
            let value = if self.sep(b'=') {
                Some(self.param_value()?)
            } else {
                None
            };
            out.push((self.utf8.lower(name), value));
        }
        unique_names(out)
    }

    /// gen-value: a quoted string (unquoted in the result) or a run of token/host chars.
    pub fn param_value(&mut self) -> R<String> {
        if self.peek() == Some(b'"') {
            return self.quoted_string();
        }
        let v = self.take_while(is_param_value);
        if v.is_empty() {
            return Err(bad("empty parameter value"));
        }
        Ok(self.utf8.text(v))
    }

    /// After one element of a comma list: `true` if a comma follows (another element),
    /// `false` at the end of the value, an error on anything else.
    pub fn list_next(&mut self) -> R<bool> {
        self.skip_ws();
        if self.at_end() {
            Ok(false)
        } else if self.eat(b',') {
            self.skip_ws();
            Ok(true)
        } else {
            Err(bad("unexpected characters after a value"))
        }
    }

    pub fn expect_end(&mut self) -> R<()> {
        self.skip_ws();
        if self.at_end() {
            Ok(())
        } else {
            Err(bad("unexpected characters after the value"))
        }
    }
}

/// Position of the first `needle` in `hay`, eight bytes at a time (the line scanner's
/// inner loop: a plain `position` compares one byte per iteration).
pub fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let pattern = LOW * u64::from(needle);
    let mut chunks = hay.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        if let Ok(bytes) = <[u8; 8]>::try_from(chunk) {
            let x = u64::from_le_bytes(bytes) ^ pattern;
            // A zero byte in x is a match; the lowest flagged byte is always a true one.
            let found = x.wrapping_sub(LOW) & !x & HIGH;
            if found != 0 {
                return Some(offset + (found.trailing_zeros() / 8) as usize);
            }
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|i| offset + i)
}

/// Position of the first CR or LF in `hay`, eight bytes at a time: one scan finds a
/// line's end and tells whether a CR comes before it.
pub fn find_cr_or_lf(hay: &[u8]) -> Option<usize> {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = hay.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        if let Ok(bytes) = <[u8; 8]>::try_from(chunk) {
            let w = u64::from_le_bytes(bytes);
            let (cr, lf) = (w ^ (LOW * u64::from(b'\r')), w ^ (LOW * u64::from(b'\n')));
            // As in `find_byte`: the lowest flagged byte of either test is a true match.
            let found = (cr.wrapping_sub(LOW) & !cr | lf.wrapping_sub(LOW) & !lf) & HIGH;
            if found != 0 {
                return Some(offset + (found.trailing_zeros() / 8) as usize);
            }
        }
        offset += 8;
    }
    // The last 0..8 bytes: one more word ending at the end of `hay`, overlapping bytes
    // already found clean, so its first match is the first of the remainder.
    if offset < hay.len() {
        if let Some(bytes) = hay
            .len()
            .checked_sub(8)
            .and_then(|start| hay.get(start..))
            .and_then(|tail| <[u8; 8]>::try_from(tail).ok())
        {
            let w = u64::from_le_bytes(bytes);
            let (cr, lf) = (w ^ (LOW * u64::from(b'\r')), w ^ (LOW * u64::from(b'\n')));
            let found = (cr.wrapping_sub(LOW) & !cr | lf.wrapping_sub(LOW) & !lf) & HIGH;
            return (found != 0).then(|| hay.len() - 8 + (found.trailing_zeros() / 8) as usize);
        }
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .map(|i| offset + i)
}

/// ASCII-lowercased copy (names are case-insensitive: RFC 3261 §7.3.1).
pub fn lower(b: &[u8]) -> String {
    let mut s = text(b);
    s.make_ascii_lowercase();
    s
}

pub fn upper(b: &[u8]) -> String {
    let mut s = text(b);
    s.make_ascii_uppercase();
    s
}

/// Parses 1*DIGIT (leading zeros allowed: RFC 4475 wsinv `0068`) into a value `<= max`.
/// Digits beyond the bound give `value_out_of_range`, anything else `not_number`.
pub fn uint(b: &[u8], max: u64, not_number: &'static str) -> R<u64> {
    if b.is_empty() {
        return Err(err(not_number, "expected a number"));
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return Err(err(not_number, "expected a number"));
        }
        v = v.saturating_mul(10).saturating_add(u64::from(c - b'0'));
    }
    if v > max {
        return Err(err(reasons::VALUE_OUT_OF_RANGE, "number out of range"));
    }
    Ok(v)
}

pub const U32_MAX: u64 = u32::MAX as u64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_byte_matches_position() {
        let hay: Vec<u8> = (0..200u16).map(|i| (i * 7 % 251) as u8).collect();
        for start in 0..40 {
            for needle in [0u8, 1, 10, 13, 128, 255, 0x0a, 0x81] {
                let h = &hay[start..];
                assert_eq!(find_byte(h, needle), h.iter().position(|&b| b == needle));
            }
        }
        assert_eq!(find_byte(b"", b'\n'), None);
        assert_eq!(find_byte(b"abcdefgh\x0b\n", b'\n'), Some(9));
        assert_eq!(find_byte(b"\x01\x0a", b'\n'), Some(1));
    }

    #[test]
    fn find_cr_or_lf_matches_position() {
        let hay: Vec<u8> = (0..300u16).map(|i| (i * 11 % 253) as u8).collect();
        for start in 0..60 {
            let h = &hay[start..];
            let want = h.iter().position(|&b| b == b'\r' || b == b'\n');
            assert_eq!(find_cr_or_lf(h), want);
        }
        let short = b"ab\rcdefghij\nklmnopqrstuvw\r\nxyz0123456789";
        for start in 0..short.len() {
            for end in start..=short.len() {
                let h = &short[start..end];
                let want = h.iter().position(|&b| b == b'\r' || b == b'\n');
                assert_eq!(find_cr_or_lf(h), want, "{start}..{end}");
            }
        }
        assert_eq!(find_cr_or_lf(b""), None);
        assert_eq!(find_cr_or_lf(b"abcdefgh\x0c\x0e\r\n"), Some(10));
        assert_eq!(find_cr_or_lf(b"abcdefghijk\n\r"), Some(11));
        assert_eq!(find_cr_or_lf(b"\x0c\x0b\x0e\x0d"), Some(3));
        assert_eq!(find_cr_or_lf(b"\x0c\x0b\x0e\x8d\x8a\x0a"), Some(5));
    }

    #[test]
    fn utf8_slices_equal_text() {
        let data = "Subject: caf\u{e9} \u{263a}\r\n".as_bytes().to_vec();
        let mut bad = data.clone();
        bad.extend_from_slice(b"X: \xff\xfe tail");
        for whole in [&data[..], &bad[..]] {
            let u = Utf8::of(whole);
            for a in 0..whole.len() {
                for b in a..=whole.len() {
                    assert_eq!(u.text(&whole[a..b]), text(&whole[a..b]), "{a}..{b}");
                }
            }
        }
        // Bytes outside the checked text, and an empty checked text.
        let other = b"caf\xc3\xa9 \xff".to_vec();
        assert_eq!(Utf8::of(&data).text(&other), text(&other));
        assert_eq!(Utf8::default().text(b"abc"), "abc");
        assert_eq!(Utf8::of(&bad).lower(b"AbC"), "abc");
    }

    #[test]
    fn quoted_pairs_are_resolved() {
        let mut c = Cursor::new(br#""J Rosenberg \\\"" rest"#);
        assert_eq!(c.quoted_string().unwrap(), "J Rosenberg \\\"");
        assert_eq!(c.rest(), b" rest");
    }

    #[test]
    fn unterminated_quote_is_unclosed_qstring() {
        let mut c = Cursor::new(b"\"abc");
        assert_eq!(c.quoted_string().unwrap_err().reason, "unclosed_qstring");
        let mut c = Cursor::new(b"\"abc\\");
        assert_eq!(c.quoted_string().unwrap_err().reason, "unclosed_qstring");
    }

    #[test]
    fn params_lowercase_names_and_unquote() {
        let mut c = Cursor::new(b" ;  Tag = abc ; Lr ;x=\"a b\"");
        let mut p = Params::new();
        c.params(&mut p).unwrap();
        assert_eq!(
            p,
            vec![
                ("tag".into(), Some("abc".into())),
                ("lr".into(), None),
                ("x".into(), Some("a b".into()))
            ]
        );
        assert!(c.at_end());
    }

    #[test]
    fn empty_params_are_errors() {
        let mut p = Params::new();
        assert!(Cursor::new(b";;").params(&mut p).is_err());
        assert!(Cursor::new(b";a=").params(&mut p).is_err());
    }

    #[test]
    fn uint_bounds_and_leading_zeros() {
        assert_eq!(uint(b"0068", 255, "x"), Ok(68));
        assert_eq!(
            uint(b"300", 255, "x").unwrap_err().reason,
            "value_out_of_range"
        );
        assert_eq!(
            uint(b"36893488147419103232", U32_MAX, "x")
                .unwrap_err()
                .reason,
            "value_out_of_range"
        );
        assert_eq!(uint(b"-1", 255, "x").unwrap_err().reason, "x");
        assert_eq!(uint(b"", 255, "x").unwrap_err().reason, "x");
    }
}
