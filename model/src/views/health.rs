//! `GET /health`: whether the server and its database answer, as the API status tab
//! shows it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

wire_enum! {
    /// Whether the server and its database answer.
    pub enum HealthStatus {
        /// The database answers.
        Ok => "ok",
        /// The database does not answer (the server says so with 503).
        Unavailable => "unavailable",
    }
}

/// The answer of `GET /health`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    pub checked_at: DateTime<Utc>,
    pub version: String,
}
