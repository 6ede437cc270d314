//! Oracle: the framer returns Ok or Err however the stream is split, never panics, never
//! holds more than its buffer bound, and every message frame it cuts is exactly as long
//! as its headers plus Content-Length (checked by re-framing the frame alone). Once it
//! has failed (`failure()` set, even by a feed that still returned earlier frames), every
//! later feed fails.
#![no_main]

use _native::core::framer::{Frame, Framer};
use _native::core::limits::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_message_size: 2048,
        max_stream_buffer: 4096,
        ..Limits::default()
    };
    // The first byte picks the chunk size, the rest is the stream.
    let Some((&step, stream)) = data.split_first() else {
        return;
    };
    let step = usize::from(step % 16) + 1;
    let mut framer = Framer::new(limits);
    let mut frames = Vec::new();
    for chunk in stream.chunks(step) {
        match framer.feed(chunk) {
            Ok(f) => frames.extend(f),
            Err(_) => {
                assert!(framer.failure().is_some(), "an error is kept");
                assert!(framer.feed(b"\r\n\r\n").is_err(), "framer must stay failed");
                return;
            }
        }
        if framer.failure().is_some() {
            assert!(framer.feed(b"\r\n\r\n").is_err(), "framer must stay failed");
            break;
        }
        assert!(framer.buffered() <= limits.max_stream_buffer);
    }
    for frame in frames {
        if let Frame::Message(m) = frame {
            let mut again = Framer::new(limits);
            let out = again.feed(&m).expect("a frame re-frames");
            assert_eq!(out, vec![Frame::Message(m)]);
        }
    }
});
