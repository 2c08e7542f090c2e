//! The scope catalog: built in from `catalog/default_scopes.json`, or read
//! from the operator's own file, and checked before use (scopes, defaults, and the
//! event examples' types and data).

use gatehouse_model::ScopeCatalog;

use crate::api_keys::is_scope;
use crate::error::DomainError;

const BUILT_IN: &str = include_str!("../catalog/default_scopes.json");

/// The catalog Gatehouse ships with: its own API and a sample product API.
pub fn built_in() -> ScopeCatalog {
    parse(BUILT_IN).expect("the built-in scope catalog is valid")
}

/// Reads and checks an operator's catalog file.
pub fn load(path: &std::path::Path) -> Result<ScopeCatalog, DomainError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        DomainError::Internal(format!(
            "cannot read scope catalog {}: {error}",
            path.display()
        ))
    })?;
    parse(&text).map_err(|message| {
        DomainError::Internal(format!("scope catalog {}: {message}", path.display()))
    })
}

/// Parses a catalog and checks that every scope is well formed and every default is listed.
pub fn parse(text: &str) -> Result<ScopeCatalog, String> {
    let catalog: ScopeCatalog = serde_json::from_str(text).map_err(|error| error.to_string())?;
    if catalog.areas.is_empty() {
        return Err("it lists no areas".to_owned());
    }
    for area in &catalog.areas {
        if let Some(bad) = area.scopes().find(|scope| !is_scope(scope)) {
            return Err(format!(
                "`{bad}` is not a scope (area:read, area:write or area:manage)"
            ));
        }
    }
    if let Some(missing) = catalog
        .default_scopes
        .iter()
        .find(|scope| !catalog.contains(scope))
    {
        return Err(format!("the default scope `{missing}` is not in any area"));
    }
    let mut seen = std::collections::HashSet::new();
    for example in &catalog.event_examples {
        let event_type = &example.event_type;
        crate::webhooks::events::validate_event_type(event_type, &catalog).map_err(|error| {
            let why = error
                .to_detail()
                .field_message("type")
                .unwrap_or_else(|| error.to_string());
            format!("the event example `{event_type}`: {why}")
        })?;
        if !example.data.is_object() {
            return Err(format!(
                "the event example `{event_type}`: its data is not a JSON object"
            ));
        }
        if !seen.insert(event_type) {
            return Err(format!("the event example `{event_type}` is listed twice"));
        }
    }
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_catalog_covers_the_spec() {
        let catalog = built_in();
        for scope in [
            "payment_intents:read",
            "reconciliation_cases:write",
            "imports:write",
            "exports:read",
            "invoices:read",
            "customers:write",
            "refunds:write",
            "payouts:read",
            "api_keys:write",
            "apps:read",
        ] {
            assert!(catalog.contains(scope), "{scope}");
        }
        assert_eq!(
            catalog.default_scopes,
            ["payment_intents:read", "reconciliation_cases:read"]
        );
        assert!(
            catalog
                .event_families
                .iter()
                .any(|family| family == "api_key.*")
        );
    }

    #[test]
    fn bad_catalogs_are_refused_with_the_reason() {
        let bad_scope = r#"{"areas":[{"id":"Bad Area","label":"x","access":["read"]}],"default_scopes":[],"event_families":[]}"#;
        assert!(parse(bad_scope).unwrap_err().contains("is not a scope"));
        let bad_default = r#"{"areas":[{"id":"imports","label":"Imports","access":["read"]}],"default_scopes":["imports:write"],"event_families":[]}"#;
        assert!(parse(bad_default).unwrap_err().contains("imports:write"));
        let example = |example: &str| {
            format!(
                r#"{{"areas":[{{"id":"imports","label":"Imports","access":["read"]}}],"default_scopes":[],"event_families":["import.*"],"event_examples":[{example}]}}"#
            )
        };
        assert!(parse(&example(r#"{"type":"import.completed","data":{"rows":1}}"#)).is_ok());
        for (bad, reason) in [
            (
                r#"{"type":"export.ready","data":{}}"#,
                "not an event family",
            ),
            (
                r#"{"type":"webhook.test","data":{}}"#,
                "sent by Gatehouse itself",
            ),
            (
                r#"{"type":"import.completed","data":[1]}"#,
                "not a JSON object",
            ),
            (
                r#"{"type":"import.completed","data":{}},{"type":"import.completed","data":{}}"#,
                "listed twice",
            ),
        ] {
            let error = parse(&example(bad)).unwrap_err();
            assert!(error.contains(reason), "{bad}: {error}");
        }
    }
}
