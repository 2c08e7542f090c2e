//! The MCP tools: one per key-authenticated `/v1` operation, made from the OpenAPI
//! document that `/openapi.json` serves, so that a tool's name (the `operationId`), its
//! description, its input schema (path, query and header parameters and the body's
//! properties, side by side) and the scope it needs have one source. A call's arguments
//! become the HTTP request the operation's handler reads.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, header};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

/// Set on an operation (`extensions(("x-destructive" = json!(true)))`) that takes
/// something away from a working integration: revoke, disable. `DELETE`s are destructive
/// without it.
pub const DESTRUCTIVE: &str = "x-destructive";
/// Set on a `POST` whose repetition with the same arguments changes nothing more.
pub const IDEMPOTENT: &str = "x-idempotent";
/// Set to `false` on an operation that is not a tool (the access-token exchange: an MCP
/// client already holds its credential, and a token minted into a conversation would
/// only leak it).
pub const NOT_A_TOOL: &str = "x-mcp-tool";

/// Where an argument goes in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Path,
    Query,
    /// A header, by its HTTP name.
    Header(String),
    /// A property of the JSON body.
    Body,
}

/// One tool and how a call of it becomes a request.
#[derive(Debug)]
pub struct ToolSpec {
    /// What `tools/list` shows.
    pub tool: Tool,
    /// The scope a restricted key needs (`None`: any key).
    pub scope: Option<String>,
    method: Method,
    /// The path with `{name}` for each path parameter.
    path: String,
    arguments: Vec<(String, Place)>,
    has_body: bool,
}

/// Every tool, in the document's order of paths.
#[derive(Debug, Default)]
pub struct ToolCatalog {
    tools: Vec<ToolSpec>,
    by_name: HashMap<String, usize>,
}

impl ToolCatalog {
    /// The tools of `document`: its `/v1` operations that a key calls.
    ///
    /// # Panics
    /// When the document breaks a rule a tool depends on (an operation without an
    /// `operationId`, two arguments of one name, a `$ref` that leads nowhere): the
    /// document is the server's own, so this is caught by the tests at start.
    pub fn from_document(document: &utoipa::openapi::OpenApi) -> Self {
        let document = serde_json::to_value(document).expect("the document serializes");
        let schemas = document["components"]["schemas"].clone();
        let mut catalog = Self::default();
        let paths = document["paths"].as_object().cloned().unwrap_or_default();
        for (path, item) in paths.iter().filter(|(path, _)| path.starts_with("/v1/")) {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let Ok(method) = method.to_uppercase().parse::<Method>() else {
                    continue;
                };
                if !called_with_a_key(operation) || operation.get(NOT_A_TOOL) == Some(&json!(false))
                {
                    continue;
                }
                let spec = ToolSpec::of(path, method, operation, &schemas);
                let name = spec.tool.name.to_string();
                assert!(
                    catalog
                        .by_name
                        .insert(name.clone(), catalog.tools.len())
                        .is_none(),
                    "two operations are named {name}"
                );
                catalog.tools.push(spec);
            }
        }
        catalog
    }

    pub fn get(&self, name: &str) -> Option<&ToolSpec> {
        self.by_name.get(name).map(|index| &self.tools[*index])
    }

    /// The tools a key with these grants may call, in the catalog's order.
    pub fn allowed<'a>(
        &'a self,
        grants: impl Fn(&str) -> bool + 'a,
    ) -> impl Iterator<Item = &'a ToolSpec> + 'a {
        self.tools
            .iter()
            .filter(move |spec| spec.scope.as_deref().is_none_or(&grants))
    }
}

/// Whether an operation's security asks for a key (any of the three header forms).
fn called_with_a_key(operation: &Value) -> bool {
    operation["security"]
        .as_array()
        .is_some_and(|requirements| requirements.iter().any(|r| r.get("bearer").is_some()))
}

impl ToolSpec {
    fn of(path: &str, method: Method, operation: &Value, schemas: &Value) -> Self {
        let name = operation["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
            .to_owned();
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut arguments = Vec::new();
        let mut add = |argument: String, place: Place, schema: Value, needed: bool| {
            assert!(
                properties.insert(argument.clone(), schema).is_none(),
                "{name}: two arguments are named {argument}"
            );
            if needed {
                required.push(Value::String(argument.clone()));
            }
            arguments.push((argument, place));
        };
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let http_name = parameter["name"].as_str().expect("a parameter has a name");
            let (argument, place) = match parameter["in"].as_str() {
                Some("path") => (http_name.to_owned(), Place::Path),
                Some("query") => (http_name.to_owned(), Place::Query),
                Some("header") => (
                    http_name.to_ascii_lowercase().replace('-', "_"),
                    Place::Header(http_name.to_owned()),
                ),
                other => panic!("{name}: a parameter in {other:?}"),
            };
            let mut schema = resolve(&parameter["schema"], schemas, 0);
            if let (Some(description), Some(object)) =
                (parameter["description"].as_str(), schema.as_object_mut())
            {
                object.insert("description".to_owned(), json!(description));
            }
            let needed = parameter["required"].as_bool().unwrap_or(false);
            add(argument, place, schema, needed);
        }
        let body = &operation["requestBody"];
        let has_body = body.is_object();
        if has_body {
            let schema = resolve(&body["content"]["application/json"]["schema"], schemas, 0);
            let schema = not_null(schema);
            let body_required = body["required"].as_bool().unwrap_or(false);
            let needed: Vec<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for (property, property_schema) in
                schema["properties"].as_object().into_iter().flatten()
            {
                let needed = body_required && needed.contains(&property.as_str());
                add(
                    property.clone(),
                    Place::Body,
                    property_schema.clone(),
                    needed,
                );
            }
        }
        let input_schema = json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        });
        let summary = operation["summary"].as_str().unwrap_or_default();
        let description = match operation["description"].as_str() {
            Some(description) if !description.is_empty() => {
                format!("{summary}\n\n{description}")
            }
            _ => summary.to_owned(),
        };
        let flag = |name: &str| operation.get(name) == Some(&json!(true));
        let reads = method == Method::GET;
        let annotations = ToolAnnotations::with_title(summary)
            .read_only(reads)
            .destructive(method == Method::DELETE || flag(DESTRUCTIVE))
            .idempotent(
                reads || method == Method::DELETE || method == Method::PATCH || flag(IDEMPOTENT),
            )
            .open_world(false);
        let Value::Object(input_schema) = input_schema else {
            unreachable!("built as an object")
        };
        let mut tool = Tool::new(name, description, Arc::new(input_schema));
        tool.annotations = Some(annotations);
        Self {
            tool,
            scope: operation["x-required-scope"].as_str().map(str::to_owned),
            method,
            path: path.to_owned(),
            arguments,
            has_body,
        }
    }

    pub fn name(&self) -> &str {
        &self.tool.name
    }

    /// The request a call with `arguments` makes, or why the arguments make none (the
    /// handler checks the values themselves, as for any request).
    pub fn request(&self, arguments: Option<JsonObject>) -> Result<Request<Body>, String> {
        let mut arguments = arguments.unwrap_or_default();
        if let Some(unknown) = arguments
            .keys()
            .find(|given| !self.arguments.iter().any(|(name, _)| name == *given))
        {
            return Err(format!(
                "`{unknown}` is not an argument of {}.",
                self.name()
            ));
        }
        let mut path = self.path.clone();
        let mut query = form_urlencoded::Serializer::new(String::new());
        let mut body = Map::new();
        let mut builder = Request::builder().method(self.method.clone());
        for (name, place) in &self.arguments {
            let Some(value) = arguments.remove(name).filter(|value| !value.is_null()) else {
                if *place == Place::Path {
                    return Err(format!("`{name}` is required."));
                }
                continue;
            };
            match place {
                Place::Path => {
                    let id = value
                        .as_str()
                        .filter(|id| is_id(id))
                        .ok_or_else(|| format!("`{name}` must be an id, such as `key_01j…`."))?;
                    path = path.replace(&format!("{{{name}}}"), id);
                }
                Place::Query => {
                    for item in one_or_many(&value) {
                        query.append_pair(name, &plain_text(name, item)?);
                    }
                }
                Place::Header(header) => {
                    builder = builder.header(header.as_str(), plain_text(name, &value)?);
                }
                Place::Body => {
                    body.insert(name.clone(), value);
                }
            }
        }
        let query = query.finish();
        let uri = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        let body = if self.has_body && !body.is_empty() {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(Value::Object(body).to_string())
        } else {
            Body::empty()
        };
        builder
            .uri(uri)
            .body(body)
            .map_err(|_| "The arguments do not make a request.".to_owned())
    }
}

/// A Gatehouse id: letters, digits and `_` only (nothing that could change the path).
fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

fn one_or_many(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    }
}

/// A query or header value: a string, number or boolean as text.
fn plain_text(name: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        _ => Err(format!("`{name}` must be a string, a number or a boolean.")),
    }
}

/// `schema` with every `$ref` to `#/components/schemas/…` replaced by what it names, so
/// that a tool's input schema stands alone.
fn resolve(schema: &Value, schemas: &Value, depth: usize) -> Value {
    assert!(
        depth < 32,
        "the document's schemas refer to each other in a loop"
    );
    match schema {
        Value::Object(object) => {
            if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
                let name = reference
                    .strip_prefix("#/components/schemas/")
                    .unwrap_or_else(|| panic!("a $ref outside the schemas: {reference}"));
                let target = schemas
                    .get(name)
                    .unwrap_or_else(|| panic!("no schema {name}"));
                let mut resolved = resolve(target, schemas, depth + 1);
                // Keywords beside the `$ref` (a description) are kept.
                if let Value::Object(resolved) = &mut resolved {
                    for (key, value) in object.iter().filter(|(key, _)| *key != "$ref") {
                        resolved.insert(key.clone(), resolve(value, schemas, depth + 1));
                    }
                }
                resolved
            } else {
                Value::Object(
                    object
                        .iter()
                        .map(|(key, value)| (key.clone(), resolve(value, schemas, depth + 1)))
                        .collect(),
                )
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| resolve(item, schemas, depth + 1))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// An optional body's schema (`oneOf: [null, X]`) as X.
fn not_null(schema: Value) -> Value {
    let choices = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array);
    if let Some(choices) = choices {
        let mut others = choices
            .iter()
            .filter(|choice| choice.get("type") != Some(&json!("null")));
        if let (Some(only), None) = (others.next(), others.next()) {
            return only.clone();
        }
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn catalog() -> (ToolCatalog, Value) {
        let (state, _folder) = crate::test_support::state().await;
        let document = crate::v1::router(&state).document;
        (
            ToolCatalog::from_document(&document),
            serde_json::to_value(&document).unwrap(),
        )
    }

    fn tool<'a>(catalog: &'a ToolCatalog, name: &str) -> &'a ToolSpec {
        catalog
            .get(name)
            .unwrap_or_else(|| panic!("no tool {name}"))
    }

    #[tokio::test]
    async fn every_operation_a_key_calls_is_a_tool_but_the_token_exchange() {
        let (catalog, document) = catalog().await;
        let mut operations = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for operation in item.as_object().unwrap().values() {
                if path.starts_with("/v1/") && called_with_a_key(operation) {
                    operations.push(operation["operationId"].as_str().unwrap().to_owned());
                }
            }
        }
        let mut tools: Vec<String> = catalog
            .allowed(|_| true)
            .map(|spec| spec.name().to_owned())
            .collect();
        operations.retain(|name| name != "issue_token");
        operations.sort();
        tools.sort();
        assert_eq!(tools, operations);
        for name in [
            "whoami",
            "list_keys",
            "create_key",
            "revoke_key",
            "send_event",
        ] {
            tool(&catalog, name);
        }
        let text = serde_json::to_string(
            &catalog
                .allowed(|_| true)
                .map(|spec| &spec.tool)
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(!text.contains("$ref"), "every input schema stands alone");
    }

    #[tokio::test]
    async fn scopes_and_hints_come_from_the_operations() {
        let (catalog, _) = catalog().await;
        assert_eq!(tool(&catalog, "whoami").scope, None);
        assert_eq!(
            tool(&catalog, "list_keys").scope.as_deref(),
            Some("api_keys:read")
        );
        let read_only = |name| tool(&catalog, name).tool.annotations.clone().unwrap();
        for name in ["list_keys", "get_key", "whoami", "list_events"] {
            assert_eq!(read_only(name).read_only_hint, Some(true), "{name}");
        }
        for name in [
            "revoke_key",
            "disable_key",
            "delete_key",
            "disable_endpoint",
            "delete_endpoint",
        ] {
            let hints = read_only(name);
            assert_eq!(hints.destructive_hint, Some(true), "{name}");
            assert_eq!(hints.read_only_hint, Some(false), "{name}");
        }
        for name in ["enable_key", "update_key", "create_key", "send_event"] {
            assert_eq!(read_only(name).destructive_hint, Some(false), "{name}");
        }
        assert_eq!(read_only("enable_key").idempotent_hint, Some(true));
        assert_eq!(read_only("create_key").idempotent_hint, Some(false));
        let schema = &tool(&catalog, "create_key").tool.input_schema;
        assert_eq!(schema["additionalProperties"], false);
        assert!(
            schema["required"]
                .as_array()
                .unwrap()
                .contains(&json!("name"))
        );
        assert_eq!(
            schema["properties"]["name"]["maxLength"],
            json!(gatehouse_domain::api_keys::validation::NAME.max_chars)
        );
    }

    #[tokio::test]
    async fn arguments_become_the_request_and_nothing_else() {
        let (catalog, _) = catalog().await;
        let arguments = |value: Value| match value {
            Value::Object(map) => Some(map),
            _ => unreachable!(),
        };
        let list = tool(&catalog, "list_keys")
            .request(arguments(json!({"limit": 5, "cursor": null})))
            .unwrap();
        assert_eq!(list.method(), Method::GET);
        assert_eq!(list.uri(), "/v1/api-keys?limit=5");
        let id = "key_01m99f0w3p7s47hs66rnqkqah1";
        let revoke = tool(&catalog, "revoke_key")
            .request(arguments(json!({"id": id})))
            .unwrap();
        assert_eq!(revoke.uri().path(), format!("/v1/api-keys/{id}/revoke"));
        let sent = tool(&catalog, "send_event")
            .request(arguments(
                json!({"type": "payment_intent.created", "data": {}, "idempotency_key": "k-1"}),
            ))
            .unwrap();
        assert_eq!(sent.headers()["idempotency-key"], "k-1");
        assert_eq!(sent.headers()[header::CONTENT_TYPE], "application/json");
        for (name, wrong) in [
            ("get_key", json!({"id": "../apps"})),
            ("get_key", json!({"id": "key_1/../../apps"})),
            ("get_key", json!({})),
            ("whoami", json!({"as": "owner"})),
            ("list_keys", json!({"limit": {"nested": 1}})),
        ] {
            assert!(
                tool(&catalog, name)
                    .request(arguments(wrong.clone()))
                    .is_err(),
                "{name} {wrong}"
            );
        }
    }
}
