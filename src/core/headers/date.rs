//! Date (RFC 3261 §20.17): rfc1123-date = wkday "," SP date1 SP time SP "GMT". Only GMT is
//! legal (RFC 4475 baddate: EST, UT, UTC are rejected). Runs of LWS are accepted where one
//! SP is required; the weekday is checked as a name but not against the date.

use crate::core::abnf::{err, Cursor, E, R};
use crate::core::error::reasons;
use crate::core::model::Date;

const BAD: E = err(
    reasons::INVALID_DATE,
    "invalid Date: expected `Sun, 06 Nov 1994 08:49:37 GMT`",
);

const WKDAYS: [&[u8]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
const MONTHS: [&[u8]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn digits(c: &mut Cursor<'_>, min: usize, max: usize) -> R<u16> {
    let d = c.take_while(|b| b.is_ascii_digit());
    if d.len() < min || d.len() > max {
        return Err(BAD);
    }
    Ok(d.iter().fold(0u16, |a, &x| a * 10 + u16::from(x - b'0')))
}

fn name(c: &mut Cursor<'_>, names: &[&[u8]]) -> R<usize> {
    let w = c.take_while(|b| b.is_ascii_alphabetic());
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(w))
        .ok_or(BAD)
}

fn ws(c: &mut Cursor<'_>) -> R<()> {
    if c.skip_ws() {
        Ok(())
    } else {
        Err(BAD)
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

pub fn parse(v: &[u8]) -> R<Date> {
    let mut c = Cursor::new(v);
    name(&mut c, &WKDAYS)?;
    if !c.eat(b',') {
        return Err(BAD);
    }
    ws(&mut c)?;
    let day = digits(&mut c, 1, 2)?;
    ws(&mut c)?;
    let month = name(&mut c, &MONTHS)? as u8 + 1;
    ws(&mut c)?;
    let year = digits(&mut c, 4, 4)?;
    ws(&mut c)?;
    let hour = digits(&mut c, 2, 2)?;
    if !c.eat(b':') {
        return Err(BAD);
    }
    let minute = digits(&mut c, 2, 2)?;
    if !c.eat(b':') {
        return Err(BAD);
    }
    let second = digits(&mut c, 2, 2)?;
    ws(&mut c)?;
    // ABNF literals are case-insensitive (RFC 5234 §2.3).
    if !c.rest().eq_ignore_ascii_case(b"GMT") {
        return Err(BAD);
    }
    let day = day as u8;
    if day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 59 {
        return Err(BAD);
    }
    Ok(Date {
        year,
        month,
        day,
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1123_gmt() {
        assert_eq!(
            parse(b"Sat, 13 Nov 2010 23:29:00 GMT"),
            Ok(Date {
                year: 2010,
                month: 11,
                day: 13,
                hour: 23,
                minute: 29,
                second: 0
            })
        );
        assert_eq!(
            parse(b"Thu, 29 Feb 2024 00:00:59 GMT").map(|d| d.day),
            Ok(29)
        );
    }

    #[test]
    fn rejects_other_zones_and_bad_fields() {
        for v in [
            "Fri, 01 Jan 2010 16:00:00 EST",
            "Fri, 01 Jan 2010 16:00:00 UTC",
            "Fri, 01 Jan 2010 16:00:00 UT",
            "Fri, 01 Jan 2010 16:00:00",
            "Fri, 31 Apr 2010 16:00:00 GMT",
            "Fri, 29 Feb 2023 16:00:00 GMT",
            "Fri, 01 Foo 2010 16:00:00 GMT",
            "Fri 01 Jan 2010 16:00:00 GMT",
            "Fri, 01 Jan 10 16:00:00 GMT",
            "Fri, 01 Jan 2010 24:00:00 GMT",
            "Fri, 01 Jan 2010 16:00:00 GMT x",
            "",
        ] {
            assert_eq!(
                parse(v.as_bytes()).unwrap_err().reason,
                "invalid_date",
                "{v}"
            );
        }
    }
}
