//! Oracle: `parse_message` returns Ok or Err on any bytes; it never panics or hangs. With
//! tight limits too, so the limit paths are exercised. A parsed message holds no U+FFFD
//! that was not sent (as its UTF-8 octets or as a %-escape of them): octets are never
//! replaced (RFC 3261 §25.1).
#![no_main]

use _native::core::limits::Limits;
use _native::core::parse::parse_message;
use libfuzzer_sys::fuzz_target;

fn sent_replacement_char(data: &[u8]) -> bool {
    let lower = data.to_ascii_lowercase();
    lower.windows(3).any(|w| w == "\u{fffd}".as_bytes())
        || lower.windows(9).any(|w| w == b"%ef%bf%bd")
}

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = parse_message(data, &Limits::default()) {
        // Debug writes strings' characters as they are; the body is printed as numbers.
        if format!("{:?}", (&m.start_line, &m.headers)).contains('\u{fffd}') {
            assert!(sent_replacement_char(data), "U+FFFD not sent: {m:?}");
        }
    }
    let tight = Limits {
        max_message_size: 512,
        max_header_count: 8,
        max_line_length: 64,
        max_via_count: 2,
        max_stream_buffer: 1024,
    };
    let _ = parse_message(data, &tight);
});
