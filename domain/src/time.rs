//! Time as the database stores it: Unix milliseconds in a BIGINT, on both engines.

use chrono::{DateTime, TimeZone, Utc};

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Reads a stored time back as a UTC timestamp.
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}
