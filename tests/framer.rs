//! Stream framer: whole messages by Content-Length, RFC 5626 keep-alives, bounded buffers,
//! identical results however the stream is split.

use _native::core::error::reasons;
use _native::core::framer::{Frame, Framer};
use _native::core::limits::Limits;
use _native::core::parse::parse_message;

const M1: &str = "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\
    From: <sip:a@b>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n\
    Content-Length: 0\r\n\r\n";
const M2: &str = "MESSAGE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK2\r\n\
    l: 11\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c2\r\n\
    CSeq: 2 MESSAGE\r\n\r\nhello\r\n\r\nyo";
const M3: &str = "SIP/2.0 200 OK\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\ncontent-length :\n 4\n\nbody";

fn stream() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(b"\r\n\r\n");
    s.extend_from_slice(M1.as_bytes());
    s.extend_from_slice(b"\r\n");
    s.extend_from_slice(M2.as_bytes());
    s.extend_from_slice(b"\r\n\r\n\r\n\r\n");
    s.extend_from_slice(M3.as_bytes());
    s.extend_from_slice(b"\r\n");
    s.extend_from_slice(M1.as_bytes());
    s
}

fn expected() -> Vec<Frame> {
    vec![
        Frame::Ping,
        Frame::Message(M1.as_bytes().to_vec()),
        Frame::Pong,
        Frame::Message(M2.as_bytes().to_vec()),
        Frame::Ping,
        Frame::Ping,
        Frame::Message(M3.as_bytes().to_vec()),
        Frame::Pong,
        Frame::Message(M1.as_bytes().to_vec()),
    ]
}

fn feed_all(chunks: &[&[u8]]) -> Vec<Frame> {
    let mut f = Framer::new(Limits::default());
    let mut out = Vec::new();
    for c in chunks {
        out.extend(f.feed(c).unwrap());
    }
    assert_eq!(f.buffered(), 0);
    out
}

#[test]
fn whole_stream_at_once() {
    let s = stream();
    assert_eq!(feed_all(&[&s]), expected());
}

#[test]
fn one_byte_at_a_time() {
    let s = stream();
    let chunks: Vec<&[u8]> = s.chunks(1).collect();
    assert_eq!(feed_all(&chunks), expected());
}

#[test]
fn split_at_every_boundary() {
    let s = stream();
    for i in 0..=s.len() {
        let (a, b) = s.split_at(i);
        assert_eq!(feed_all(&[a, b]), expected(), "split at {i}");
    }
}

#[test]
fn frames_are_parseable_messages() {
    for frame in expected() {
        if let Frame::Message(m) = frame {
            parse_message(&m, &Limits::default()).unwrap();
        }
    }
}

#[test]
fn lone_crlf_waits_unless_eager() {
    let mut f = Framer::new(Limits::default());
    assert_eq!(f.feed(b"\r\n").unwrap(), vec![]);
    assert_eq!(f.feed(b"\r").unwrap(), vec![]);
    assert_eq!(f.feed(b"\n").unwrap(), vec![Frame::Ping]);
    assert_eq!(f.feed(b"\r\nO").unwrap(), vec![Frame::Pong]);
    assert_eq!(f.buffered(), 1);

    let mut client = Framer::new(Limits::default());
    client.eager_pong = true;
    assert_eq!(client.feed(b"\r\n").unwrap(), vec![Frame::Pong]);
    assert_eq!(client.feed(b"\r\n\r\n").unwrap(), vec![Frame::Ping]);
}

#[test]
fn frames_completed_before_an_error_are_returned_not_lost() {
    let mut f = Framer::new(Limits::default());
    assert!(f.failure().is_none());
    let no_cl = "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n";
    let stream = format!("{M1}{M2}\r\n\r\n{no_cl}");
    let frames = f.feed(stream.as_bytes()).unwrap();
    assert_eq!(
        frames,
        vec![
            Frame::Message(M1.as_bytes().to_vec()),
            Frame::Message(M2.as_bytes().to_vec()),
            Frame::Ping,
        ]
    );
    // The error is known at once, and every later feed returns it.
    assert_eq!(
        f.failure().map(|e| e.reason),
        Some(reasons::MISSING_CONTENT_LENGTH)
    );
    assert_eq!(f.buffered(), 0);
    assert_eq!(
        f.feed(M1.as_bytes()).unwrap_err().reason,
        reasons::MISSING_CONTENT_LENGTH
    );
}

#[test]
fn missing_or_bad_content_length_fails_for_good() {
    let mut f = Framer::new(Limits::default());
    let no_cl = "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n";
    let e = f.feed(no_cl.as_bytes()).unwrap_err();
    assert_eq!(
        (e.reason, e.status_code),
        (reasons::MISSING_CONTENT_LENGTH, 400)
    );
    // Stays failed, even for good data.
    assert_eq!(
        f.feed(M1.as_bytes()).unwrap_err().reason,
        reasons::MISSING_CONTENT_LENGTH
    );

    let data = |name: &str| {
        std::fs::read(
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/rfc4475")
                .join(format!("{name}.dat")),
        )
        .unwrap()
    };
    // RFC 4475 ncl and mcl01 over TCP: unrecoverable framing errors.
    let mut f = Framer::new(Limits::default());
    assert_eq!(
        f.feed(&data("ncl")).unwrap_err().reason,
        reasons::INVALID_CONTENT_LENGTH
    );
    let mut f = Framer::new(Limits::default());
    assert_eq!(
        f.feed(&data("mcl01")).unwrap_err().reason,
        reasons::MULTIPLE_DEFINITION
    );
    // clerr over TCP: wait for the rest of the 9999 octets.
    let mut f = Framer::new(Limits::default());
    assert_eq!(f.feed(&data("clerr")).unwrap(), vec![]);
    assert_eq!(f.buffered(), data("clerr").len());
}

#[test]
fn oversize_messages_and_buffers() {
    let limits = Limits {
        max_message_size: 200,
        max_stream_buffer: 400,
        ..Limits::default()
    };
    // Announced body too large: fails as soon as the headers are complete.
    let mut f = Framer::new(limits);
    let big = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 500\r\n\r\n";
    assert_eq!(
        f.feed(big.as_bytes()).unwrap_err().reason,
        reasons::MESSAGE_TOO_LARGE
    );
    // A header section that never ends.
    let mut f = Framer::new(limits);
    let mut failed = None;
    for _ in 0..100 {
        match f.feed(b"X-Junk: aaaaaaaaaaaaaaaaaaaa\r\n") {
            Ok(frames) => assert!(frames.is_empty()),
            Err(e) => {
                failed = Some(e.reason);
                break;
            }
        }
        assert!(f.buffered() <= 400);
    }
    assert_eq!(failed, Some(reasons::MESSAGE_TOO_LARGE));
    // Many small messages in one large chunk are fine: the buffer bound applies to what
    // is held, not to what is fed.
    let mut f = Framer::new(Limits {
        max_message_size: 200,
        max_stream_buffer: 210,
        ..Limits::default()
    });
    let one = "BYE sip:a@b SIP/2.0\r\nl: 0\r\n\r\n";
    let many = one.repeat(50);
    let frames = f.feed(many.as_bytes()).unwrap();
    assert_eq!(frames.len(), 50);
    assert_eq!(f.buffered(), 0);
}
