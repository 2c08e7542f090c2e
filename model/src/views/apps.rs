//! Apps: the integrations that keys and webhooks are bound to.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AppId, TenantId};

/// An app as the dashboard and the API show it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppView {
    pub id: AppId,
    pub name: String,
    pub description: String,
    pub allowed_origins: Vec<String>,
    /// The shadow test tenant that this app's test-mode data belongs to.
    pub test_tenant_id: TenantId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a user types to create or edit an app.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

/// What can be changed on an app; a field left out (`None`) keeps its value, so
/// `PATCH /v1/apps/{id}` sends only changes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub allowed_origins: Option<Vec<String>>,
}

impl From<AppInput> for AppUpdate {
    fn from(input: AppInput) -> Self {
        Self {
            name: Some(input.name),
            description: Some(input.description),
            allowed_origins: Some(input.allowed_origins),
        }
    }
}

/// The Apps tab: every app of the tenant and the user's selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppsPage {
    pub apps: Vec<AppView>,
    pub selected_app_id: Option<AppId>,
}
