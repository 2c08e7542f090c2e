//! `GET /health` (SPEC X-6, S-1).

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

/// `GET /health` (SPEC X-6).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    pub checked_at: DateTime<Utc>,
    pub version: String,
}
