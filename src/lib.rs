//! sippet's native core.
//!
//! `core` is pure Rust: the SIP grammar, the message parser, the URI parser and the stream
//! framer. It has no Python in it, so `cargo test` and the fuzzers exercise it directly.
//! `py` (feature `python`) is the PyO3 binding that maturin builds as `sippet._native`:
//! it turns `core`'s values into sippet's Python types and serializes Python messages.
//!
//! No `unsafe` here, and no panic reaches Python: the binding catches any unwind and turns
//! it into `sippet.ParseError`.
#![forbid(unsafe_code)]

pub mod core;

#[cfg(feature = "python")]
mod py;
