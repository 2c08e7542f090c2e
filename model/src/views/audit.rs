//! The audit trail as people and clients read it: one event with its
//! related ids and before/after, the filters of a search, and the field-by-field
//! changes the Audit page shows.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::KeyMode;
use crate::events::EventType;
use crate::ids::{AppId, AuditEventId};

wire_enum! {
    /// Who did something recorded in the audit trail.
    pub enum ActorType {
        User => "user",
        ApiKey => "api_key",
        /// The SaaS's backend through an operator token.
        Operator => "operator",
        System => "system",
    }
}

/// One event of the audit trail: who did what, when, to what.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventView {
    pub id: AuditEventId,
    pub occurred_at: DateTime<Utc>,
    pub actor_type: ActorType,
    /// The user's (`usr_…`) or key's (`key_…`) id; `None` for Gatehouse itself.
    pub actor_id: Option<String>,
    /// Human-readable actor, shown as the log's source.
    pub actor_label: String,
    pub event_type: String,
    pub message: Option<String>,
    pub app_id: Option<AppId>,
    /// The side the event belongs to when it concerns an app (app changes are live);
    /// `None` for tenant-wide events (sign-ins, users).
    pub mode: Option<KeyMode>,
    /// Further ids the event concerns, by name (`key_id`, `endpoint_id`, the SaaS's
    /// own ids of an event it sent, …).
    pub related_ids: BTreeMap<String, String>,
    /// The state before the change, where it applies.
    pub before: Option<Value>,
    /// The state after the change, where it applies.
    pub after: Option<Value>,
}

/// What a search of the audit trail keeps; every filter left out keeps all.
/// `GET /v1/audit-events` takes these as query parameters of the same names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// Events of this type only (e.g. `api_key.created`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(inline))]
    pub event_type: Option<EventType>,
    /// Events done by this user (`usr_…`) or API key (`key_…`).
    #[serde(default)]
    pub actor_id: Option<String>,
    /// Events that concern this id: their app, or any of their related ids (a key, an
    /// endpoint, a user, an event, or the SaaS's own ids in an event it sent).
    #[serde(default)]
    pub related_id: Option<String>,
    /// Events at or after this time (RFC 3339).
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    /// Events before this time (RFC 3339; the range is half-open:
    /// `from <= occurred_at < to`).
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
}

/// How one field of an event's state differs between before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    /// The value before, readable; `None` when the field was added.
    pub before: Option<String>,
    /// The value after, readable; `None` when the field was removed.
    pub after: Option<String>,
}

impl AuditEventView {
    /// The fields that differ between `before` and `after`, in field order: changed
    /// ones with both values, added ones (or every field of a creation) with only the
    /// new value, removed ones (or every field of a deletion) with only the old.
    pub fn changes(&self) -> Vec<FieldChange> {
        let fields = |state: &Option<Value>| -> BTreeMap<String, Value> {
            match state {
                Some(Value::Object(map)) => map.clone().into_iter().collect(),
                Some(other) => BTreeMap::from([("value".to_owned(), other.clone())]),
                None => BTreeMap::new(),
            }
        };
        let before = fields(&self.before);
        let after = fields(&self.after);
        let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter(|name| before.get(*name) != after.get(*name))
            .map(|name| FieldChange {
                field: name.clone(),
                before: before.get(name).map(readable),
                after: after.get(name).map(readable),
            })
            .collect()
    }
}

/// A state value as a person reads it: text without quotes, lists joined by commas,
/// nothing as "none", empty text or lists as "(empty)", anything else as compact JSON.
fn readable(value: &Value) -> String {
    match value {
        Value::Null => "none".to_owned(),
        Value::String(text) if text.is_empty() => "(empty)".to_owned(),
        Value::String(text) => text.clone(),
        Value::Array(items) if items.is_empty() => "(empty)".to_owned(),
        Value::Array(items)
            if items
                .iter()
                .all(|item| !item.is_array() && !item.is_object()) =>
        {
            items.iter().map(readable).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(before: Option<Value>, after: Option<Value>) -> AuditEventView {
        AuditEventView {
            id: AuditEventId::from_body("01jaaaaaaaaaaaaaaaaaaaaaaa"),
            occurred_at: DateTime::<Utc>::UNIX_EPOCH,
            actor_type: ActorType::System,
            actor_id: None,
            actor_label: "Gatehouse".to_owned(),
            event_type: "api_key.updated".to_owned(),
            message: None,
            app_id: None,
            mode: None,
            related_ids: BTreeMap::new(),
            before,
            after,
        }
    }

    fn change(field: &str, before: Option<&str>, after: Option<&str>) -> FieldChange {
        FieldChange {
            field: field.to_owned(),
            before: before.map(str::to_owned),
            after: after.map(str::to_owned),
        }
    }

    #[test]
    fn an_edit_shows_only_what_changed_added_and_removed() {
        let edited = event(
            Some(json!({
                "name": "Old", "description": "", "scopes": ["a:read"], "status": "enabled",
                "gone": 1,
            })),
            Some(json!({
                "name": "New", "description": "Nightly", "scopes": ["a:read", "b:write"],
                "status": "enabled", "expires_at": null,
            })),
        );
        assert_eq!(
            edited.changes(),
            vec![
                change("description", Some("(empty)"), Some("Nightly")),
                change("expires_at", None, Some("none")),
                change("gone", Some("1"), None),
                change("name", Some("Old"), Some("New")),
                change("scopes", Some("a:read"), Some("a:read, b:write")),
            ]
        );
    }

    #[test]
    fn a_creation_lists_every_field_and_an_event_without_state_nothing() {
        let created = event(
            None,
            Some(json!({ "name": "Checkout", "allowed_origins": [] })),
        );
        assert_eq!(
            created.changes(),
            vec![
                change("allowed_origins", None, Some("(empty)")),
                change("name", None, Some("Checkout")),
            ]
        );
        let deleted = event(Some(json!({ "url": "https://x.test" })), None);
        assert_eq!(
            deleted.changes(),
            vec![change("url", Some("https://x.test"), None)]
        );
        assert!(event(None, None).changes().is_empty());
        let nested = event(None, Some(json!({ "limits": { "per_second": 5 } })));
        assert_eq!(
            nested.changes()[0].after.as_deref(),
            Some(r#"{"per_second":5}"#)
        );
    }
}
