//! Deterministic mutation stress: the torture messages with bytes flipped, inserted,
//! deleted, duplicated and truncated (seeded, bounded), through `parse_message`,
//! `parse_uri` and the framer. The oracle: no panic, and what parses respects the limits.
//! (The cargo-fuzz targets in fuzz/ explore further; this keeps a cheap copy in
//! `cargo test`.)

use std::path::PathBuf;

use _native::core::framer::{Frame, Framer};
use _native::core::limits::Limits;
use _native::core::model::HeaderValue;
use _native::core::parse::parse_message;
use _native::core::uri::parse_uri;

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that matter to the grammar.
const INTERESTING: &[u8] = b",;:=<>\"\\%@[]()/? \t\r\n\x00\xff*0123456789";

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(d.len() + 1);
        let byte = if rng.below(2) == 0 {
            INTERESTING[rng.below(INTERESTING.len())]
        } else {
            rng.next() as u8
        };
        match rng.below(6) {
            0 if at < d.len() => d[at] = byte,
            1 => d.insert(at, byte),
            2 if at < d.len() => {
                d.remove(at);
            }
            3 => d.truncate(at),
            4 if at < d.len() => {
                let end = (at + 1 + rng.below(64)).min(d.len());
                let piece = d[at..end].to_vec();
                let to = rng.below(d.len() + 1);
                d.splice(to..to, piece);
            }
            _ if at < d.len() => d[at] ^= 1 << rng.below(8),
            _ => d.push(byte),
        }
    }
    d
}

fn seeds() -> Vec<Vec<u8>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut out = Vec::new();
    for dir in ["rfc4475", "rfc5118"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "dat"))
            .collect();
        paths.sort();
        out.extend(paths.iter().map(|p| std::fs::read(p).unwrap()));
    }
    out
}

fn check_limits(data: &[u8], limits: &Limits) {
    if let Ok(m) = parse_message(data, limits) {
        assert!(data.len() <= limits.max_message_size);
        assert!(m.body.len() <= data.len());
        assert!(m.headers.len() <= limits.max_header_count);
        for (_, v) in &m.headers {
            if let HeaderValue::Via(vias) = v {
                assert!(vias.len() <= limits.max_via_count);
            }
        }
    }
}

#[test]
fn mutated_messages_never_panic() {
    let tight = Limits {
        max_message_size: 700,
        max_header_count: 12,
        max_line_length: 120,
        max_via_count: 3,
        max_stream_buffer: 1024,
    };
    let mut rng = Rng(0x5eed_0f51_99e7);
    let mut parsed = 0;
    for seed in seeds() {
        for _ in 0..150 {
            let data = mutate(&mut rng, &seed);
            check_limits(&data, &Limits::default());
            check_limits(&data, &tight);
            parsed += usize::from(parse_message(&data, &Limits::default()).is_ok());
        }
    }
    // Many mutations land in bodies or harmless places: some must still parse.
    assert!(parsed > 1000, "only {parsed} mutated messages parsed");
}

#[test]
fn mutated_uris_never_panic() {
    let uris: &[&[u8]] = &[
        b"sip:alice:pw@[2001:db8::10]:5061;transport=tcp;lr?subject=a%20b&x=y",
        b"sip:user;par=u%40example.net@example.com",
        b"tel:+1-201-555-0123;phone-context=example.com",
        b"soap.beep://192.0.2.103:3002",
        b"sip:[2001:db8:::192.0.2.1]",
    ];
    let mut rng = Rng(42);
    for &u in uris {
        for _ in 0..2000 {
            let m = mutate(&mut rng, u);
            if let Ok(s) = std::str::from_utf8(&m) {
                if let Ok(uri) = parse_uri(s) {
                    assert!(!uri.scheme.is_empty());
                    assert_eq!(uri.scheme, uri.scheme.to_ascii_lowercase());
                }
            }
        }
    }
}

#[test]
fn mutated_streams_never_panic() {
    let limits = Limits {
        max_message_size: 4096,
        max_stream_buffer: 8192,
        ..Limits::default()
    };
    let mut rng = Rng(7);
    let seeds = seeds();
    for _ in 0..300 {
        let mut stream = Vec::new();
        for _ in 0..3 {
            let seed = &seeds[rng.below(seeds.len())];
            stream.extend(mutate(&mut rng, seed));
            stream.extend_from_slice([&b"\r\n"[..], b"\r\n\r\n", b""][rng.below(3)]);
        }
        let mut framer = Framer::new(limits);
        let mut rest = &stream[..];
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at((1 + rng.below(200)).min(rest.len()));
            rest = tail;
            match framer.feed(chunk) {
                Ok(frames) => {
                    for f in frames {
                        if let Frame::Message(m) = f {
                            assert!(m.len() <= limits.max_message_size);
                            let _ = parse_message(&m, &limits);
                        }
                    }
                }
                Err(_) => {
                    assert!(framer.feed(b"x").is_err());
                    break;
                }
            }
            assert!(framer.buffered() <= limits.max_stream_buffer);
        }
    }
}
