//! The request log as people and clients read it: one `/v1` call or key verification as
//! it was answered, and the filters of a search. Never a credential, never a body.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::KeyMode;
use crate::ids::{ApiKeyId, AppId, RequestId};

wire_enum! {
    /// A range of HTTP statuses, as the log's filter names them.
    pub enum StatusClass {
        Success => "2xx",
        Redirect => "3xx",
        ClientError => "4xx",
        ServerError => "5xx",
    }
}

impl StatusClass {
    /// The statuses of the class: `low <= status < high`.
    pub fn bounds(self) -> (u16, u16) {
        match self {
            Self::Success => (200, 300),
            Self::Redirect => (300, 400),
            Self::ClientError => (400, 500),
            Self::ServerError => (500, 600),
        }
    }
}

/// One recorded request: a `/v1` call by a key, or a verification of a key by the SaaS.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestLogView {
    /// Also sent back with the answer, as its `Request-Id` header.
    pub id: RequestId,
    pub occurred_at: DateTime<Utc>,
    /// The key that called, or the key that was verified.
    pub key_id: ApiKeyId,
    /// That key's name as it is now; none once the key is gone.
    #[serde(default)]
    pub key_name: Option<String>,
    pub app_id: AppId,
    pub mode: KeyMode,
    pub method: String,
    /// The route's template (`/v1/api-keys/{id}`), never the raw path.
    pub route: String,
    pub status: u16,
    /// The error body's code when the call failed (`insufficient_scope`, …).
    pub error_code: Option<String>,
    /// For a verification: its answer (`VALID`, `REVOKED`, …).
    pub verify_code: Option<String>,
    /// From the request's arrival to its answer, in microseconds.
    pub latency_us: i64,
    pub origin: Option<String>,
    /// The caller's address: the socket's peer, or `X-Forwarded-For`'s when the
    /// operator names the proxy as trusted.
    pub client_ip: Option<String>,
}

/// What a search of the request log keeps; every filter left out keeps all.
/// `GET /v1/request-logs` takes these as query parameters of the same names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct RequestLogFilter {
    /// The app's requests (the dashboard's selected app; a key reads its own app's only).
    #[serde(default)]
    pub app_id: Option<AppId>,
    /// `live` or `test`; `live` when left out (a key reads its own mode only).
    #[serde(default)]
    pub mode: Option<KeyMode>,
    /// `2xx`, `3xx`, `4xx` or `5xx`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(inline))]
    pub status_class: Option<StatusClass>,
    /// Requests answered with this error code (e.g. `insufficient_scope`).
    #[serde(default)]
    pub error_code: Option<String>,
    /// Requests to this route template (e.g. `/v1/api-keys/{id}`).
    #[serde(default)]
    pub route: Option<String>,
    /// Requests by, or verifications of, this key.
    #[serde(default)]
    pub key_id: Option<ApiKeyId>,
    /// Requests at or after this time (RFC 3339).
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    /// Requests before this time (RFC 3339).
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
}

/// The dashboard's Logs page: the selected app (none yet: nothing to show) and a page of
/// its requests in the mode asked for, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestLogsPage {
    pub app: Option<super::AppView>,
    pub mode: KeyMode,
    pub requests: super::Page<RequestLogView>,
}
