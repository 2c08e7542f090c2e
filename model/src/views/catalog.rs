//! The scope catalog: capability areas with read and write, the default
//! pre-selection, the event families and an example event of some of their types.

use serde::{Deserialize, Serialize};

/// One capability area of the scope picker: read and/or write.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeArea {
    pub id: String,
    pub label: String,
    /// `read`, `write` (or `manage`), in the order the picker shows them.
    pub access: Vec<String>,
}

impl ScopeArea {
    /// The area's scopes, e.g. `imports:read`, `imports:write`.
    pub fn scopes(&self) -> impl Iterator<Item = String> + '_ {
        self.access
            .iter()
            .map(|access| format!("{}:{access}", self.id))
    }
}

/// The scope catalog: areas, the default pre-selection and the event families. Data
/// the operator can replace with a file of their own.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeCatalog {
    pub areas: Vec<ScopeArea>,
    pub default_scopes: Vec<String>,
    pub event_families: Vec<String>,
    /// Example events "Send test event" can send, one per type.
    #[serde(default)]
    pub event_examples: Vec<EventExample>,
}

/// An event type of the SaaS's families with an example of its data.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventExample {
    #[serde(rename = "type")]
    pub event_type: String,
    /// A JSON object, sent as the event's `data`.
    pub data: serde_json::Value,
}

impl ScopeCatalog {
    /// The example of `event_type`, if the catalog has one.
    pub fn event_example(&self, event_type: &str) -> Option<&EventExample> {
        self.event_examples
            .iter()
            .find(|example| example.event_type == event_type)
    }

    /// Whether the catalog lists `scope`.
    pub fn contains(&self, scope: &str) -> bool {
        self.areas
            .iter()
            .any(|area| area.scopes().any(|known| known == scope))
    }
}
