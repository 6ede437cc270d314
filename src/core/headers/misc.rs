//! The smaller header grammars of RFC 3261 §25 and its extensions: numbers, token lists,
//! media types, CSeq, Retry-After, Timestamp, Warning, RAck, Session-Expires...

use crate::core::abnf::{
    all, bad, err, is_token, is_word, text, trim, uint, Cursor, Utf8, R, U32_MAX, WORD,
};
use crate::core::error::reasons;
use crate::core::model::Params;

fn whole_token(v: &[u8], utf8: Utf8<'_>) -> R<String> {
    if !v.is_empty() && v.iter().all(|&b| is_token(b)) {
        Ok(utf8.text(v))
    } else {
        Err(bad("expected a token"))
    }
}

fn is_call_id(b: u8) -> bool {
    is_word(b) || b == b'@'
}

/// Whether a Call-ID written as is reads back (the serializer's check).
pub fn is_valid_call_id(s: &str) -> bool {
    !s.is_empty()
        && s.as_bytes()
            .split(|&b| b == b'@')
            .all(|word| all(word, WORD))
}

/// A Replaces call-id (RFC 3891 §6.1), which cannot hold the `"` that starts a param value.
pub fn is_valid_replaces_call_id(s: &str) -> bool {
    is_valid_call_id(s) && !s.contains('"')
}

/// warn-agent = hostport / pseudonym (RFC 3261 §20.43), read liberally as token
/// characters plus the `:` `[` `]` of a host and port.
fn is_warn_agent(b: u8) -> bool {
    is_token(b) || matches!(b, b':' | b'[' | b']')
}

/// Whether a Warning agent written as is reads back (the serializer's check).
pub fn is_valid_warn_agent(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_warn_agent)
}

/// callid = word [ "@" word ] (RFC 3261 §25; RFC 4475 intmeth uses every word char).
pub fn call_id(v: &[u8], utf8: Utf8<'_>) -> R<String> {
    if !v.is_empty() && v.iter().all(|&b| is_call_id(b)) {
        Ok(utf8.text(v))
    } else {
        Err(bad("invalid Call-ID"))
    }
}

pub fn single_token(v: &[u8]) -> R<String> {
    whole_token(v, Utf8::default())
}

pub fn int(v: &[u8], max: u64) -> R<u64> {
    uint(v, max, reasons::INVALID_HEADER)
}

/// Content-Length = 1*DIGIT (RFC 4475 ncl: `-999` is rejected, never used as a count).
pub fn content_length(v: &[u8]) -> R<u64> {
    uint(v, U32_MAX, reasons::INVALID_CONTENT_LENGTH)
}

/// Splits a comma list; empty elements (`a, ,b`, or an empty value, legal for Allow,
/// Supported, Accept...) are skipped.
fn comma_items(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',').map(trim).filter(|s| !s.is_empty())
}

/// Rejects an empty list where the grammar needs one element.
pub fn non_empty<T>(v: Vec<T>) -> R<Vec<T>> {
    if v.is_empty() {
        Err(bad("empty value"))
    } else {
        Ok(v)
    }
}

/// In-Reply-To = callid *( COMMA callid ): at least one.
pub fn call_id_list(v: &[u8]) -> R<Vec<String>> {
    non_empty(
        comma_items(v)
            .map(|id| call_id(id, Utf8::default()))
            .collect::<R<Vec<_>>>()?,
    )
}

/// option-tag / Method / content-coding lists: tokens separated by commas; empty
/// elements are skipped, like `comma_items` does.
pub fn tokens(v: &[u8], utf8: Utf8<'_>) -> R<Vec<String>> {
    // Sized once: Allow lists often have ten methods.
    let mut out = Vec::with_capacity(v.iter().filter(|&&b| b == b',').count() + 1);
    let mut c = Cursor::within(v, utf8);
    loop {
        c.skip_ws();
        if c.at_end() {
            return Ok(out);
        }
        if c.eat(b',') {
            continue;
        }
        let t = c.expect_token("expected a token")?;
        c.skip_ws();
        if !c.at_end() && !c.eat(b',') {
            return Err(bad("expected a token"));
        }
        out.push(utf8.text(t));
    }
}

/// Privacy = priv-value *( ";" priv-value ) (RFC 3323 §4.2). Commas are accepted as
/// separators too: several Privacy lines may be folded into one comma list (§7.3.1).
pub fn privacy(v: &[u8]) -> R<Vec<String>> {
    v.split(|&b| b == b';' || b == b',')
        .map(|t| whole_token(trim(t), Utf8::default()))
        .collect()
}

fn token_params_at(c: &mut Cursor<'_>) -> R<(String, Params)> {
    c.skip_ws();
    let t = c.utf8.text(c.expect_token("expected a token")?);
    let mut p = Params::new();
    c.params(&mut p)?;
    Ok((t, p))
}

/// `token *( SEMI generic-param )`: Event, Subscription-State, Content-Disposition.
pub fn token_params<'a>(v: &'a [u8], utf8: Utf8<'a>) -> R<(String, Params)> {
    let mut c = Cursor::within(v, utf8);
    let r = token_params_at(&mut c)?;
    c.expect_end()?;
    Ok(r)
}

/// Replaces = callid *( SEMI replaces-param ) (RFC 3891 §6.1).
pub fn call_id_params(v: &[u8]) -> R<(String, Params)> {
    let mut c = Cursor::new(v);
    let id = c.take_while(|b| is_call_id(b) && b != b'"');
    let id = call_id(id, Utf8::default())?;
    let mut p = Params::new();
    c.params(&mut p)?;
    c.expect_end()?;
    Ok((id, p))
}

/// A possibly empty comma list of `token *(SEMI param)`: Accept-Encoding,
/// Accept-Language, Reason.
pub fn token_params_list(v: &[u8]) -> R<Vec<(String, Params)>> {
    let mut c = Cursor::new(v);
    let mut out = Vec::new();
    if c.rest().iter().all(|&b| b == b' ' || b == b'\t') {
        return Ok(out);
    }
    loop {
        out.push(token_params_at(&mut c)?);
        if !c.list_next()? {
            return Ok(out);
        }
    }
}

/// media-type = m-type SLASH m-subtype *( SEMI m-parameter ). Type and subtype are
/// case-insensitive (RFC 2045 §5.1) and stored lowercased, so that comparisons with
/// `("application", "sdp")` work; parameter values keep their case.
fn media_type_at(c: &mut Cursor<'_>) -> R<(String, String, Params)> {
    c.skip_ws();
    let t = c.utf8.lower(c.expect_token("expected a media type")?);
    if !c.sep(b'/') {
        return Err(bad("expected / in a media type"));
    }
    let s = c.utf8.lower(c.expect_token("expected a media subtype")?);
    let mut p = Params::new();
    c.params(&mut p)?;
    Ok((t, s, p))
}

pub fn media_type<'a>(v: &'a [u8], utf8: Utf8<'a>) -> R<(String, String, Params)> {
    let mut c = Cursor::within(v, utf8);
    let r = media_type_at(&mut c)?;
    c.expect_end()?;
    Ok(r)
}

/// Accept = HCOLON [ accept-range *(COMMA accept-range) ]: may be empty.
pub fn media_type_list<'a>(v: &'a [u8], utf8: Utf8<'a>) -> R<Vec<(String, String, Params)>> {
    let mut c = Cursor::within(v, utf8);
    let mut out = Vec::new();
    if v.is_empty() {
        return Ok(out);
    }
    loop {
        out.push(media_type_at(&mut c)?);
        if !c.list_next()? {
            return Ok(out);
        }
    }
}

fn seq32(c: &mut Cursor<'_>) -> R<u32> {
    let d = c.take_while(|b| b.is_ascii_digit());
    Ok(uint(d, U32_MAX, reasons::INVALID_HEADER)? as u32)
}

/// CSeq = 1*DIGIT LWS Method; the number fits 32 bits (RFC 3261 §8.1.1.5, RFC 4475
/// scalar02). The method is kept as written.
pub fn cseq<'a>(v: &'a [u8], utf8: Utf8<'a>) -> R<(u32, String)> {
    let mut c = Cursor::within(v, utf8);
    let n = seq32(&mut c)?;
    if !c.skip_ws() {
        return Err(bad("expected LWS between CSeq number and method"));
    }
    let m = c.utf8.text(c.expect_token("missing CSeq method")?);
    c.expect_end()?;
    Ok((n, m))
}

/// RAck = response-num LWS CSeq-num LWS Method (RFC 3262 §7.2).
pub fn rack(v: &[u8]) -> R<(u32, u32, String)> {
    let mut c = Cursor::new(v);
    let r = seq32(&mut c)?;
    if !c.skip_ws() {
        return Err(bad("expected LWS in RAck"));
    }
    let n = seq32(&mut c)?;
    if !c.skip_ws() {
        return Err(bad("expected LWS in RAck"));
    }
    let m = text(c.expect_token("missing RAck method")?);
    c.expect_end()?;
    Ok((r, n, m))
}

/// MIME-Version = 1*DIGIT "." 1*DIGIT
pub fn mime_version(v: &[u8]) -> R<(u32, u32)> {
    let mut c = Cursor::new(v);
    let a = seq32(&mut c)?;
    if !c.eat(b'.') {
        return Err(bad("expected . in MIME-Version"));
    }
    let b = seq32(&mut c)?;
    c.expect_end()?;
    Ok((a, b))
}

/// comment = LPAREN *(ctext / quoted-pair / comment) RPAREN (RFC 3261 §25.1), cursor on
/// `(`. Nesting is tracked with a counter, not recursion. Returns the content without the
/// outer parens: quoted-pairs stand for their character (`\)` is `)`, as in a
/// quoted-string), nested comments keep their parens.
fn comment(c: &mut Cursor<'_>) -> R<String> {
    if !c.eat(b'(') {
        return Err(bad("expected ("));
    }
    let start = c.pos;
    // Built only once a quoted-pair is seen; until then the content is a plain slice.
    let mut out: Option<Vec<u8>> = None;
    let mut depth = 1usize;
    loop {
        let Some(b) = c.peek() else {
            return Err(bad("unterminated comment"));
        };
        match b {
            b'\\' => {
                let buf = out.get_or_insert_with(|| c.s.get(start..c.pos).unwrap_or(&[]).to_vec());
                // Lines are unfolded already: the quoted octet is never CR or LF.
                let q =
                    c.s.get(c.pos + 1)
                        .copied()
                        .ok_or(bad("unterminated comment"))?;
                buf.push(q);
                c.pos += 2;
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    let inner = c.s.get(start..c.pos).unwrap_or(&[]);
                    c.pos += 1;
                    return Ok(match out {
                        Some(v) => text(&v),
                        None => text(inner),
                    });
                }
            }
            _ => {}
        }
        if let Some(buf) = out.as_mut() {
            buf.push(b);
        }
        c.pos += 1;
    }
}

/// Retry-After = delta-seconds [ comment ] *( SEMI retry-param ) (RFC 3261 §20.33).
pub fn retry_after(v: &[u8]) -> R<(u32, Option<String>, Params)> {
    let mut c = Cursor::new(v);
    let secs = seq32(&mut c)?;
    c.skip_ws();
    let note = if c.peek() == Some(b'(') {
        Some(comment(&mut c)?)
    } else {
        None
    };
    let mut p = Params::new();
    c.params(&mut p)?;
    c.expect_end()?;
    Ok((secs, note, p))
}

/// `1*DIGIT [ "." *DIGIT ]` as a finite float. Only this grammar is read (Rust's float
/// parser would also take `inf`, `nan`, `1e5`); a number too large for a float (400
/// digits) is `value_out_of_range`, never infinity.
fn decimal(c: &mut Cursor<'_>) -> R<f64> {
    let start = c.pos;
    if c.take_while(|b| b.is_ascii_digit()).is_empty() {
        return Err(bad("expected a number"));
    }
    if c.eat(b'.') {
        c.take_while(|b| b.is_ascii_digit());
    }
    let s = c.s.get(start..c.pos).unwrap_or(&[]);
    let s = std::str::from_utf8(s).map_err(|_| bad("expected a number"))?;
    // "54." is legal in the grammar; Rust's float parser wants a digit after the dot.
    let v = s
        .trim_end_matches('.')
        .parse::<f64>()
        .map_err(|_| bad("expected a number"))?;
    if !v.is_finite() {
        return Err(err(reasons::VALUE_OUT_OF_RANGE, "number out of range"));
    }
    Ok(v)
}

/// Timestamp = 1*(DIGIT) [ "." *(DIGIT) ] [ LWS delay ] (RFC 3261 §20.38).
pub fn timestamp(v: &[u8]) -> R<(f64, Option<f64>)> {
    let mut c = Cursor::new(v);
    let t = decimal(&mut c)?;
    let d = if c.skip_ws() && !c.at_end() {
        Some(decimal(&mut c)?)
    } else {
        None
    };
    c.expect_end()?;
    Ok((t, d))
}

/// Warning = warning-value *(COMMA warning-value); warning-value = warn-code SP
/// warn-agent SP warn-text, warn-code exactly 3 digits (RFC 4475 scalarlg: 1812 is
/// out of range), warn-agent a hostport or pseudonym, warn-text a quoted string.
pub fn warnings(v: &[u8]) -> R<Vec<(u16, String, String)>> {
    let mut c = Cursor::new(v);
    let mut out = Vec::with_capacity(1);
    loop {
        c.skip_ws();
        let d = c.take_while(|b| b.is_ascii_digit());
        if d.len() != 3 {
            return Err(if d.len() > 3 {
                err(reasons::VALUE_OUT_OF_RANGE, "Warning code is not 3 digits")
            } else {
                bad("Warning code is not 3 digits")
            });
        }
        let code = d.iter().fold(0u16, |a, &x| a * 10 + u16::from(x - b'0'));
        if !c.skip_ws() {
            return Err(bad("expected SP after the Warning code"));
        }
        let agent = c.take_while(is_warn_agent);
        if agent.is_empty() {
            return Err(bad("missing Warning agent"));
        }
        let agent = text(agent);
        if !c.skip_ws() {
            return Err(bad("expected SP after the Warning agent"));
        }
        let t = c.quoted_string()?;
        out.push((code, agent, t));
        if !c.list_next()? {
            return Ok(out);
        }
    }
}

/// Session-Expires / Min-SE = delta-seconds *( SEMI param ) (RFC 4028 §4).
pub fn delta_params<'a>(v: &'a [u8], utf8: Utf8<'a>) -> R<(u32, Params)> {
    let mut c = Cursor::within(v, utf8);
    let s = seq32(&mut c)?;
    let mut p = Params::new();
    c.params(&mut p)?;
    c.expect_end()?;
    Ok((s, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lists() {
        assert_eq!(
            tokens(b"INVITE, ACK ,BYE", Utf8::default()).unwrap(),
            vec!["INVITE", "ACK", "BYE"]
        );
        assert_eq!(tokens(b"", Utf8::default()).unwrap(), Vec::<String>::new());
        assert!(tokens(b"a b", Utf8::default()).is_err());
        assert_eq!(privacy(b"id;user").unwrap(), vec!["id", "user"]);
        assert_eq!(
            privacy(b"header, session").unwrap(),
            vec!["header", "session"]
        );
        assert!(privacy(b"id;;user").is_err());
        assert_eq!(call_id_list(b"a@b, c").unwrap(), vec!["a@b", "c"]);
        assert!(call_id(b"a b", Utf8::default()).is_err());
    }

    #[test]
    fn token_lists_match_split_and_trim() {
        // The one-pass scanner against the definition: split on commas, trim, skip empty
        // elements, every other element one token.
        let reference = |v: &[u8]| -> Option<Vec<String>> {
            comma_items(v)
                .map(|t| whole_token(t, Utf8::default()).ok())
                .collect()
        };
        for v in [
            "",
            " ",
            ",",
            " , ,",
            "a",
            "a,b",
            "a, ,b",
            ",a,",
            "a ,b",
            "a\t,\tb ",
            "a b",
            "a,b c",
            "a;b",
            "a,,",
            "  INVITE ,ACK",
            "a,\"b\"",
            "a ,",
            "\t",
        ] {
            let got = tokens(v.as_bytes(), Utf8::of(v.as_bytes())).ok();
            assert_eq!(got, reference(v.as_bytes()), "{v:?}");
        }
    }

    #[test]
    fn media_types() {
        assert_eq!(
            media_type(b"Application/SDP ; charset=UTF-8", Utf8::default()).unwrap(),
            (
                "application".into(),
                "sdp".into(),
                vec![("charset".into(), Some("UTF-8".into()))]
            )
        );
        let l = media_type_list(
            b"text/nobodyKnowsThis, */*;q=0.1, application/sdp",
            Utf8::default(),
        )
        .unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!((l[1].0.as_str(), l[1].1.as_str()), ("*", "*"));
        assert!(media_type(b"text", Utf8::default()).is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(
            cseq(b"0009 INVITE", Utf8::default()),
            Ok((9, "INVITE".into()))
        );
        assert_eq!(
            cseq(b"36893488147419103232 INVITE", Utf8::default())
                .unwrap_err()
                .reason,
            "value_out_of_range"
        );
        assert!(cseq(b"9INVITE", Utf8::default()).is_err());
        assert_eq!(rack(b"776656 1 INVITE"), Ok((776656, 1, "INVITE".into())));
        assert_eq!(mime_version(b"1.0"), Ok((1, 0)));
        assert_eq!(
            content_length(b"-999").unwrap_err().reason,
            "invalid_content_length"
        );
        assert_eq!(
            content_length(b"five").unwrap_err().reason,
            "invalid_content_length"
        );
        assert_eq!(int(b"300", 255).unwrap_err().reason, "value_out_of_range");
    }

    #[test]
    fn retry_after_timestamp_warning() {
        assert_eq!(
            retry_after(b"120 (I'm in a (meeting)) ;duration=60").unwrap(),
            (
                120,
                Some("I'm in a (meeting)".into()),
                vec![("duration".into(), Some("60".into()))]
            )
        );
        assert_eq!(
            retry_after(b"18446744073709551616").unwrap_err().reason,
            "value_out_of_range"
        );
        assert!(retry_after(b"1 (open").is_err());
        assert!(retry_after(b"1 (open\\").is_err());
        assert!(retry_after(b"1 (open\\)").is_err());
        assert!(retry_after(b"1 (a (b)").is_err());
        // RFC 3261 §25.1: quoted-pairs resolved, nested comments kept.
        for (v, want) in [
            (&br"1 (a \) b)"[..], "a ) b"),
            (br#"1 (say \"hi\")"#, "say \"hi\""),
            (br"1 (back\\slash)", "back\\slash"),
            (br"1 (\(x)", "(x"),
            (br"1 (a (b \) c) d)", "a (b ) c) d"),
            (br"1 ()", ""),
            ("1 (caf\u{e9} \\\u{e9})".as_bytes(), "caf\u{e9} \u{e9}"),
        ] {
            assert_eq!(retry_after(v).unwrap().1.as_deref(), Some(want), "{v:?}");
        }
        assert_eq!(timestamp(b"54.3 0.5"), Ok((54.3, Some(0.5))));
        assert_eq!(timestamp(b"54."), Ok((54.0, None)));
        // RFC 3261 §20.38: 1*(DIGIT) [ "." *(DIGIT) ] for value and delay, nothing else.
        for v in [
            "inf", "nan", "1e5", "1E5", "+1", "-1", ".5", "1 inf", "1 nan", "1 1e5", "0x10",
            "1.5.2", "infinity", "1 .5",
        ] {
            assert_eq!(
                timestamp(v.as_bytes()).unwrap_err().reason,
                "invalid_header",
                "{v}"
            );
        }
        let huge = "9".repeat(400);
        for v in [huge.clone(), format!("1 {huge}"), format!("{huge}.5 1")] {
            assert_eq!(
                timestamp(v.as_bytes()).unwrap_err().reason,
                "value_out_of_range"
            );
        }
        let long_fraction = format!("0.{huge}");
        assert_eq!(timestamp(long_fraction.as_bytes()), Ok((1.0, None)));
        assert_eq!(timestamp(b"0 00.000"), Ok((0.0, Some(0.0))));
        assert_eq!(
            warnings(
                br#"307 isi.edu "Session parameter 'foo' not understood", 301 [::1]:5060 "x""#
            )
            .unwrap(),
            vec![
                (
                    307,
                    "isi.edu".into(),
                    "Session parameter 'foo' not understood".into()
                ),
                (301, "[::1]:5060".into(), "x".into())
            ]
        );
        assert_eq!(
            warnings(br#"1812 overture "In Progress""#)
                .unwrap_err()
                .reason,
            "value_out_of_range"
        );
    }

    #[test]
    fn token_params_and_replaces() {
        assert_eq!(
            token_params(b"presence;id=1", Utf8::default()).unwrap(),
            ("presence".into(), vec![("id".into(), Some("1".into()))])
        );
        let (id, p) =
            call_id_params(b"98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff").unwrap();
        assert_eq!((id.as_str(), p.len()), ("98732@sip.example.com", 2));
        assert_eq!(token_params_list(b"").unwrap(), vec![]);
        assert_eq!(
            delta_params(b"1800;refresher=uac", Utf8::default())
                .unwrap()
                .0,
            1800
        );
    }
}
