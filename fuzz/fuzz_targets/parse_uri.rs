//! Oracle: `parse_uri` returns Ok or Err on any string; it never panics or hangs. A parsed
//! URI holds no U+FFFD that was not written (escaped octets are never replaced).
#![no_main]

use _native::core::uri::parse_uri;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(uri) = parse_uri(s) {
            if format!("{uri:?}").contains('\u{fffd}') {
                let lower = s.to_ascii_lowercase();
                assert!(
                    lower.contains('\u{fffd}') || lower.contains("%ef%bf%bd"),
                    "U+FFFD not written: {uri:?}"
                );
            }
        }
    }
});
