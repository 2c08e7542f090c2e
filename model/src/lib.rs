//! Types that cross a boundary (browser ⇄ server, client ⇄ `/v1` API): typed ids,
//! read models ("views"), roles and the error body. No I/O lives here, so the
//! wasm build can use every type.

pub mod error;
pub mod events;
pub mod ids;
pub mod views;
mod whole_number;

pub use error::{ErrorBody, ErrorCode, ErrorDetail, ErrorDetails, FieldError};
pub use events::{EventType, RESERVED_EVENT_FAMILIES};
pub use ids::*;
pub use views::*;
