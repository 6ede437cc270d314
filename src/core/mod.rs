//! The pure-Rust SIP core: grammar, parsers, framer. No Python here.

pub mod abnf;
pub mod error;
pub mod framer;
pub mod headers;
pub mod limits;
pub mod model;
pub mod parse;
pub mod uri;
