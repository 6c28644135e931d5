//! Inbound parsing: socket frames and `/info` answers become normalized
//! events. Shapes are in `model`, conversions in `convert`.

mod book_scan;
mod convert;
mod frames;
mod model;

pub use frames::{Parsed, parse as parse_frame};
pub(crate) use model::{WireClearinghouse, WireFill, WireOrder, WireOrderStatus};

pub(crate) use convert::{account, fill, order};
