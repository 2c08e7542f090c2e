//! The audit trail as people and clients read it (SPEC L-1..L-3).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AppId, AuditEventId};

wire_enum! {
    /// Who did something recorded in the audit trail.
    pub enum ActorType {
        User => "user",
        ApiKey => "api_key",
        System => "system",
    }
}

/// One line of the audit trail as the Integration logs show it (SPEC L-1, L-3).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventView {
    pub id: AuditEventId,
    pub occurred_at: DateTime<Utc>,
    pub actor_type: ActorType,
    pub actor_id: Option<String>,
    /// Human-readable actor, shown as the log's source.
    pub actor_label: String,
    pub event_type: String,
    pub message: Option<String>,
    pub app_id: Option<AppId>,
}
