//! Alerts to a tenant's owners and managers: what can be alerted, one alert as a notice
//! shows it, and a person's choice per kind.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::AlertId;

wire_enum! {
    /// What an alert is about. Each is sent once per thing it is about.
    pub enum AlertKind {
        KeyExpiring => "key_expiring",
        EndpointDisabled => "endpoint_disabled",
        UsageWarning => "usage_80",
        UsageExhausted => "usage_100",
    }
}

impl AlertKind {
    /// How the dashboard names the kind among a person's choices.
    pub fn label(self) -> &'static str {
        match self {
            Self::KeyExpiring => "An API key expires within 7 days",
            Self::EndpointDisabled => "A webhook endpoint was disabled after failing",
            Self::UsageWarning => "Live usage passed 80 % of the monthly limit",
            Self::UsageExhausted => "Live usage reached the monthly limit",
        }
    }
}

/// One alert, as the Overview shows it until dismissed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertView {
    pub id: AlertId,
    pub kind: AlertKind,
    pub title: String,
    pub message: String,
    /// Where in the dashboard to act on it (a path).
    pub link: String,
    pub created_at: DateTime<Utc>,
}

/// Whether a person receives one kind of alert (email and notice); every kind is on
/// until they turn it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertPreference {
    pub kind: AlertKind,
    pub enabled: bool,
}

/// The Overview's alerts: the person's notices not yet dismissed, newest first, and
/// their choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertsPanel {
    pub notices: Vec<AlertView>,
    pub preferences: Vec<AlertPreference>,
    /// Whether this Gatehouse sends email (the operator set up SMTP); without it,
    /// alerts are shown here only.
    pub email_configured: bool,
}
