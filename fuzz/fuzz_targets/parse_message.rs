//! Oracle: `parse_message` returns Ok or Err on any bytes; it never panics or hangs. With
//! tight limits too, so the limit paths are exercised.
#![no_main]

use _native::core::limits::Limits;
use _native::core::parse::parse_message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_message(data, &Limits::default());
    let tight = Limits {
        max_message_size: 512,
        max_header_count: 8,
        max_line_length: 64,
        max_via_count: 2,
        max_stream_buffer: 1024,
    };
    let _ = parse_message(data, &tight);
});
