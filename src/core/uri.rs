//! URI parser. (Being written.)

use crate::core::error::ParseFailure;
use crate::core::model::Uri;

pub fn parse_uri(_text: &str) -> Result<Uri, ParseFailure> {
    Err(ParseFailure::new("not_ready", 500, "uri parser not written yet"))
}
