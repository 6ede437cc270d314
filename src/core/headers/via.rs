//! Via (RFC 3261 §20.42, §25): `SIP / 2.0 / UDP host[:port] *( SEMI via-params )`, LWS
//! allowed around `/` and `:` (RFC 4475 wsinv); several values per line.

use crate::core::abnf::{bad, uint, Cursor, Utf8, E, R};
use crate::core::error::reasons;
use crate::core::model::{Params, Via};
use crate::core::uri::{scan_host, scan_port};

fn as_header_error(e: E) -> E {
    E {
        reason: reasons::INVALID_HEADER,
        msg: e.msg,
    }
}

/// protocol-version = token; we take `major.minor`, each at most three digits (SIP/2.0
/// in practice; anything we accept, the serializer writes back).
fn version(c: &mut Cursor<'_>) -> R<(u32, u32)> {
    let n = |d: &[u8]| uint(d, 999, reasons::INVALID_HEADER).map(|v| v as u32);
    let major = n(c.take_while(|b| b.is_ascii_digit()))?;
    if !c.eat(b'.') {
        return Err(bad("invalid Via protocol version"));
    }
    let minor = n(c.take_while(|b| b.is_ascii_digit()))?;
    Ok((major, minor))
}

fn one(c: &mut Cursor<'_>) -> R<Via> {
    c.skip_ws();
    let proto = c.expect_token("missing Via protocol")?;
    if !proto.eq_ignore_ascii_case(b"SIP") {
        return Err(bad("Via protocol is not SIP"));
    }
    if !c.sep(b'/') {
        return Err(bad("malformed Via sent-protocol"));
    }
    let version = version(c)?;
    if !c.sep(b'/') {
        return Err(bad("malformed Via sent-protocol"));
    }
    let mut transport = c.utf8.text(c.expect_token("missing Via transport")?);
    transport.make_ascii_uppercase();
    if !c.skip_ws() {
        return Err(bad("missing LWS before the Via sent-by"));
    }
    let host = scan_host(c).map_err(as_header_error)?;
    let port = if c.sep(b':') {
        Some(scan_port(c).map_err(as_header_error)?)
    } else {
        None
    };
    let mut params = Params::new();
    c.params(&mut params)?;
    Ok(Via {
        version,
        transport,
        host,
        port,
        params,
    })
}

pub fn list<'a>(v: &'a [u8], utf8: Utf8<'a>) -> R<Vec<Via>> {
    let mut c = Cursor::within(v, utf8);
    let mut out = Vec::with_capacity(1);
    loop {
        out.push(one(&mut c)?);
        if !c.list_next()? {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lws_around_slashes_and_lists() {
        let l = list(b"SIP  / 2.0  / tcp     spindle.example.com   ; branch  =   z9hG4bK9ikj8  , SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239", Utf8::default()).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].transport, "TCP");
        assert_eq!(l[0].host, "spindle.example.com");
        assert_eq!(
            l[0].params,
            vec![("branch".into(), Some("z9hG4bK9ikj8".into()))]
        );
        assert_eq!(
            (l[1].host.as_str(), l[1].version),
            ("192.168.255.111", (2, 0))
        );
    }

    #[test]
    fn rfc5118_ipv6_via() {
        let l = list(
            b"SIP/2.0/UDP [2001:db8::9:1]:5070;branch=z9hG4bKas3-111;received=2001:db8::9:255",
            Utf8::default(),
        )
        .unwrap();
        assert_eq!(l[0].host, "2001:db8::9:1");
        assert_eq!(l[0].port, Some(5070));
        assert_eq!(
            l[0].params[1],
            ("received".into(), Some("2001:db8::9:255".into()))
        );
        assert!(list(b"SIP/2.0/UDP 2001:db8::9:1;branch=x", Utf8::default()).is_err());
    }

    #[test]
    fn sent_by_port_may_have_leading_zeros() {
        // port = 1*DIGIT (RFC 3261 §25.1)
        for (v, port) in [
            ("SIP/2.0/UDP h:05060;branch=z9hG4bK1", 5060),
            ("SIP/2.0/UDP [2001:db8::1] : 00005060", 5060),
        ] {
            assert_eq!(
                list(v.as_bytes(), Utf8::default()).unwrap()[0].port,
                Some(port)
            );
        }
        assert!(list(b"SIP/2.0/UDP [2001:db8::9:1;branch=x", Utf8::default()).is_err());
    }

    #[test]
    fn malformed_vias() {
        for v in [
            "SIP/2.0/UDP 192.0.2.15;;,;,,",
            "SIP/2.0/UDP",
            "SIP/2.0/UDP h:99999",
            "SIP/2.0/UDP h:065536",
            "HTTP/2.0/UDP h",
            "SIP/2.0 UDP h",
            "SIP/2.0/UDPh",
            "SIP/2.0/UDP h,",
            "SIP/2.0/UDP h x",
            "SIP/1000.0/UDP h",
            "SIP/2.1000/UDP h",
        ] {
            assert!(list(v.as_bytes(), Utf8::default()).is_err(), "{v}");
        }
    }
}
