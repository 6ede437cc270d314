//! Oracle: `parse_uri` returns Ok or Err on any string; it never panics or hangs.
#![no_main]

use _native::core::uri::parse_uri;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_uri(s);
    }
});
