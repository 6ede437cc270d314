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

// The parser makes many small, short-lived allocations (one per header value and
// parameter); mimalloc serves them from per-thread free lists at a fraction of the cost
// of the system allocator. Only Rust's own allocations use it: Python objects are made by
// CPython's allocator, and no memory changes hands between the two.
#[cfg(feature = "python")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
