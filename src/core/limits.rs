//! Bounds on what the parser and framer accept; mirrors `python/sippet/limits.py`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_message_size: usize,
    pub max_header_count: usize,
    pub max_line_length: usize,
    pub max_via_count: usize,
    pub max_stream_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 65_535,
            max_header_count: 256,
            max_line_length: 8_192,
            max_via_count: 70,
            max_stream_buffer: 131_072,
        }
    }
}
