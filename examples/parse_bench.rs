//! Parses the benchmark INVITE of `bench/parse.py` N times (default 10,000), for
//! instruction counts of `core::parse::parse_message` alone:
//!
//! ```text
//! cargo build --release --example parse_bench
//! valgrind --tool=callgrind target/release/examples/parse_bench 1000
//! ```
//!
//! Compare the totals of two N (e.g. 1000 and 2000) to cancel start-up costs. Not run by
//! any test; speed is measured, never asserted. It also prints the wall time per parse, a
//! rough figure on a shared machine: `cargo run --release --example parse_bench 200000`.

use std::hint::black_box;

use _native::core::limits::Limits;
use _native::core::parse::parse_message;

const SDP: &str = "v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n\
s=-\r\n\
c=IN IP4 192.0.2.101\r\n\
t=0 0\r\n\
m=audio 49172 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=sendrecv\r\n";

/// The 15-header INVITE of `bench/parse.py`, byte for byte.
fn invite() -> Vec<u8> {
    let head = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.example.com;transport=udp>\r\n\
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY\r\n\
Supported: replaces, timer\r\n\
User-Agent: ExamplePhone/1.0\r\n\
Accept: application/sdp\r\n\
Session-Expires: 1800;refresher=uac\r\n\
Subject: Lunch\r\n\
Content-Type: application/sdp\r\n";
    format!("{head}Content-Length: {}\r\n\r\n{SDP}", SDP.len()).into_bytes()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let data = invite();
    let limits = Limits::default();
    let mut headers = 0;
    let start = std::time::Instant::now();
    for _ in 0..n {
        match parse_message(black_box(&data), &limits) {
            Ok(m) => headers += black_box(m).headers.len(),
            Err(e) => {
                eprintln!("parse failed: {e}");
                std::process::exit(1);
            }
        }
    }
    let elapsed = start.elapsed();
    println!("{} bytes, {n} parses, {headers} headers", data.len());
    if n > 0 {
        println!("{:?} per parse (wall time)", elapsed / n as u32);
    }
}
