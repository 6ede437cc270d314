//! Message parser: datagram bytes to `model::Message`. (Being written.)

use crate::core::error::ParseFailure;
use crate::core::limits::Limits;
use crate::core::model::Message;

pub fn parse_message(_data: &[u8], _limits: &Limits) -> Result<Message, ParseFailure> {
    Err(ParseFailure::new("not_ready", 500, "parser not written yet"))
}
