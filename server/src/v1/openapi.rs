//! The OpenAPI 3.1 document of `/v1`. Paths, parameters, bodies and success
//! answers come from each handler's `#[utoipa::path]` and the model's `ToSchema` types;
//! [`finish`] adds what operations share, each from one rule: the three ways to send a
//! key, the scope an operation needs (in its security requirement, `x-required-scope` and
//! its description), the error answers it can give (from [`ErrorCode`]), and the scope
//! catalog the server loaded.

use std::collections::BTreeMap;

use gatehouse_model::{ErrorBody, ErrorCode, ScopeCatalog};
use serde_json::json;
use utoipa::OpenApi;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ContentBuilder, Header, HeaderBuilder, Object, RefOr, Response, Schema, Type,
};

/// The scheme name handlers write in `security(("api_key" = ["area:read"]))`: a key is
/// needed, with that scope (none: any key). [`finish`] replaces it by the three schemes.
const KEY: &str = "api_key";

/// The three ways a client sends its key, as security schemes.
const SECURITY_SCHEMES: [&str; 3] = ["bearer", "x_api_key", "authorization_x_api_key"];

/// The operator token check's refusals (`/operator/v1`).
const OPERATOR_CHECK: &[ErrorCode] = &[
    ErrorCode::OperatorTokenMissing,
    ErrorCode::OperatorTokenInvalid,
    ErrorCode::InsufficientScope,
];

/// Codes of the router itself, for a path or method it does not serve (in the document's
/// description, since no operation answers them).
const ROUTING: &[ErrorCode] = &[ErrorCode::MethodNotAllowed];

/// Every operation can fail on our side.
const ANY_OPERATION: &[ErrorCode] = &[ErrorCode::Internal];
/// The key check's refusals, answered before the handler runs; a call over a rate or a
/// quota (a 429 other than `limit_reached`) is refused there too, see [`throttled`].
const KEY_CHECK: &[ErrorCode] = &[
    ErrorCode::ApiKeyMissing,
    ErrorCode::ApiKeyMalformed,
    ErrorCode::ApiKeyUnknown,
    ErrorCode::ApiKeyDisabled,
    ErrorCode::ApiKeyRevoked,
    ErrorCode::ApiKeyExpired,
    ErrorCode::ModuleNotEnabled,
    ErrorCode::SubscriptionInactive,
    ErrorCode::TenantSuspended,
    ErrorCode::OriginNotAllowed,
];
/// An operation that reads a body.
const WITH_BODY: &[ErrorCode] = &[ErrorCode::BadRequest, ErrorCode::PayloadTooLarge];
/// An operation that reads a query string.
/// (422: a value of the right type the operation refuses, such as a cursor of no page.)
const WITH_QUERY: &[ErrorCode] = &[ErrorCode::BadRequest, ErrorCode::ValidationFailed];
/// An operation on one resource, named by the id in its path.
const WITH_PATH_ID: &[ErrorCode] = &[ErrorCode::NotFound];

/// The 429s of the key check: a key's rate or the tenant's monthly quota, answered with
/// `Retry-After` and the `RateLimit` headers. Every 429 but the two that are about
/// something else (how many things exist; sign-ins).
fn throttled() -> impl Iterator<Item = ErrorCode> {
    ErrorCode::ALL.iter().copied().filter(|code| {
        code.http_status() == 429
            && !matches!(code, ErrorCode::LimitReached | ErrorCode::SignInThrottled)
    })
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse API",
        description = "The `/v1` API of this Gatehouse: apps, API keys, access tokens, key verification, webhook endpoints, events, usage, the audit trail and the request log. Guides: [/docs](/docs); for agents: [/llms.txt](/llms.txt).",
        license(name = "MIT", identifier = "MIT"),
    ),
    tags(
        (name = "Apps", description = "The integrations keys and webhooks belong to."),
        (name = "API keys", description = "Keys of the calling key's app and mode; the plaintext is in the create and rotate answers only."),
        (name = "Access tokens", description = "Short-lived tokens exchanged for a key's secret, and who the calling credential is."),
        (name = "Key verification", description = "For the SaaS's own services: is a customer's key good?"),
        (name = "Webhook endpoints", description = "Where events are delivered, signed (Standard Webhooks), with the delivery log and replays."),
        (name = "Events", description = "What the SaaS sends, and what Gatehouse emits itself."),
        (name = "Usage", description = "Platform calls per day, split by outcome."),
        (name = "Audit", description = "The append-only audit trail: who changed what, when, with before and after."),
        (name = "Request logs", description = "Every call by a key and every verification of a key, as it was answered: route, status, error code, latency, client."),
        (name = "Meta", description = "Liveness."),
        (name = "Operator", description = "For the SaaS's backend, with an operator token (`op_…`), never a tenant's key: tenants for its accounts, their people, one-time sign-in links and events. See [Run Gatehouse beside your SaaS](/docs/embedding)."),
    ),
    components(schemas(ErrorBody)),
    external_docs(url = "/docs", description = "The Gatehouse docs"),
)]
struct ApiDoc;

/// The document's frame (info, tags, the error schema) before any route joins it.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Adds what every operation shares to the document the routes made, for `catalog`.
pub fn finish(
    mut document: utoipa::openapi::OpenApi,
    catalog: &ScopeCatalog,
) -> utoipa::openapi::OpenApi {
    let throttling = throttled().next().is_some();
    for (path, item) in document.paths.paths.iter_mut() {
        for (method, operation) in operations(item) {
            describe(path, method, operation, throttling);
        }
    }
    let components = document.components.get_or_insert_with(Default::default);
    state_input_rules(&mut components.schemas);
    state_catalog_rules(&mut components.schemas, catalog);
    for (name, scheme) in SECURITY_SCHEMES.iter().zip(security_schemes()) {
        components.add_security_scheme(*name, scheme);
    }
    components.add_security_scheme(
        crate::operator_api::OPERATOR_TOKEN,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "`Authorization: Bearer op_…`: an operator token, made with `gatehouse create-operator-token` (`/operator/v1` only).",
                ))
                .build(),
        ),
    );
    document.info.description = Some(format!(
        "{}\n\n{}",
        document.info.description.take().unwrap_or_default(),
        overview(catalog)
    ));
    let scopes: serde_json::Map<String, serde_json::Value> = catalog
        .areas
        .iter()
        .flat_map(|area| {
            area.access.iter().map(move |access| {
                (
                    format!("{}:{access}", area.id),
                    json!(format!("{}: {access}", area.label)),
                )
            })
        })
        .collect();
    document
        .extensions
        .get_or_insert_with(Default::default)
        .extend([
            ("x-scopes".to_owned(), serde_json::Value::Object(scopes)),
            ("x-scope-catalog".to_owned(), json!(catalog)),
        ]);
    document
}

/// The document's description: how to authenticate, scopes, errors and paging.
fn overview(catalog: &ScopeCatalog) -> String {
    let routing = ROUTING
        .iter()
        .map(|code| format!("`{}` ({})", code.as_str(), code.http_status()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "## Authentication\n\
         Send an API key (or an access token from `POST /v1/auth/token`) as \
         `Authorization: Bearer <key>`, `x-api-key: <key>` or `Authorization: x-api-key <key>`. \
         Each operation names the scope a restricted key needs (`x-required-scope`); secret \
         keys have every scope, and `area:write` also grants `area:read`.\n\n\
         ## Scopes\n{}\n\n\
         ## Errors\n\
         Errors are `{{\"error\": {{\"code\", \"message\", \"details\"}}}}` (the `ErrorBody` \
         schema); match on `code`, it never changes. Each operation lists the codes it can \
         answer (`x-error-codes`). A path that does not exist answers `not_found` (404); a \
         method a path does not answer, {routing}.\n\n\
         ## Lists\n\
         Lists answer `{{\"data\", \"has_more\", \"next_cursor\"}}`: pass `next_cursor` as \
         `cursor` for the next page, with `limit` up to 100.",
        crate::docs::scope_table(catalog)
    )
}

fn security_schemes() -> [SecurityScheme; 3] {
    [
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "`Authorization: Bearer <key>`: an API key (`sk_…`, `rk_…`) or an access token (`at_…`).",
                ))
                .build(),
        ),
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "x-api-key",
            "`x-api-key: <key>`: an API key or an access token.",
        ))),
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "`Authorization: x-api-key <key>`: the scheme `x-api-key`, then an API key or an access token.",
        ))),
    ]
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("patch", &mut item.patch),
        ("head", &mut item.head),
        ("options", &mut item.options),
        ("trace", &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|operation| (method, operation)))
}

/// What calling an operation takes, as its handler's annotation says.
enum Needs {
    /// An open route: no `security(...)`.
    Nothing,
    /// `security(("api_key" = []))`: any key or access token.
    AnyKey,
    /// `security(("api_key" = ["area:read"]))`: a key holding that scope.
    Scope(String),
    /// `security(("operator_token" = ["tenants:read"]))`: an operator token holding that
    /// scope.
    OperatorScope(String),
}

impl Needs {
    fn of(path: &str, method: &str, operation: &Operation) -> Self {
        let Some(requirements) = &operation.security else {
            return Self::Nothing;
        };
        let [requirement] = requirements.as_slice() else {
            panic!("{method} {path}: name one security requirement, (\"{KEY}\" = [scope])");
        };
        let requirement: BTreeMap<String, Vec<String>> = serde_json::to_value(requirement)
            .and_then(serde_json::from_value)
            .expect("a security requirement is a map of scheme names to scopes");
        if let (Some([scope]), 1) = (
            requirement
                .get(crate::operator_api::OPERATOR_TOKEN)
                .map(Vec::as_slice),
            requirement.len(),
        ) {
            return Self::OperatorScope(scope.clone());
        }
        match requirement.get(KEY).map(Vec::as_slice) {
            Some([]) if requirement.len() == 1 => Self::AnyKey,
            Some([scope]) if requirement.len() == 1 => Self::Scope(scope.clone()),
            _ => panic!("{method} {path}: the security requirement must be (\"{KEY}\" = [scope])"),
        }
    }

    fn scopes(&self) -> Vec<String> {
        match self {
            Self::Scope(scope) | Self::OperatorScope(scope) => vec![scope.clone()],
            _ => Vec::new(),
        }
    }

    fn sentence(&self) -> String {
        match self {
            Self::Nothing => "**Authentication:** none.".to_owned(),
            Self::AnyKey => {
                "**Authentication:** any API key or access token; no scope needed.".to_owned()
            }
            Self::Scope(scope) => format!(
                "**Required scope:** `{scope}` (secret keys have every scope; `area:write` also grants `area:read`)."
            ),
            Self::OperatorScope(scope) => {
                format!(
                    "**Required operator scope:** `{scope}` (an operator token, never a tenant's key)."
                )
            }
        }
    }
}

/// Finishes one operation: how to authenticate, and every error answer it can give.
/// The id prefix of what a list at `path` holds: its `cursor` is one of those ids.
fn listed_id_prefix(path: &str) -> Option<&'static str> {
    use gatehouse_model::{
        ApiKeyId, AppId, AuditEventId, EventId, RequestId, TenantId, UserId, WebhookEndpointId,
    };
    Some(match path {
        "/v1/apps" => AppId::PREFIX,
        "/v1/api-keys" => ApiKeyId::PREFIX,
        "/v1/webhook-endpoints" => WebhookEndpointId::PREFIX,
        "/v1/events" => EventId::PREFIX,
        "/v1/audit-events" => AuditEventId::PREFIX,
        "/v1/request-logs" => RequestId::PREFIX,
        "/operator/v1/tenants" => TenantId::PREFIX,
        "/operator/v1/tenants/{id}/people" => UserId::PREFIX,
        _ => return None,
    })
}

/// The rules the domain checks on what clients send, stated on the bodies' schemas
/// from the domain's own constants: a client or an agent filling a body in sees every
/// bound the server enforces, and the document cannot drift from the check.
fn state_input_rules(schemas: &mut BTreeMap<String, RefOr<Schema>>) {
    use gatehouse_domain::api_keys::validation as keys;
    use gatehouse_domain::{apps, webhooks::endpoints};
    for (schema, property, rule) in [
        ("ApiKeyInput", "name", keys::NAME),
        ("ApiKeyInput", "description", keys::DESCRIPTION),
        ("ApiKeyUpdate", "name", keys::NAME),
        ("ApiKeyUpdate", "description", keys::DESCRIPTION),
        ("AppInput", "name", apps::NAME),
        ("AppInput", "description", apps::DESCRIPTION),
        ("EndpointInput", "description", endpoints::DESCRIPTION),
        ("EndpointUpdate", "description", endpoints::DESCRIPTION),
    ] {
        let property = property_of(schemas, schema, property);
        property.max_length = Some(rule.max_chars);
        property.pattern = Some(rule.schema_pattern());
    }
    let most_per_second = i64::from(endpoints::MAX_RATE_LIMIT_PER_SECOND);
    for (schema, property, most) in [
        ("ApiKeyInput", "expiry_days", keys::MAX_EXPIRY_DAYS),
        ("KeyRateLimit", "requests", keys::MAX_RATE_LIMIT_REQUESTS),
        ("EndpointInput", "rate_limit_per_second", most_per_second),
        ("EndpointUpdate", "rate_limit_per_second", most_per_second),
    ] {
        let property = property_of(schemas, schema, property);
        property.minimum = Some(utoipa::Number::Int(1));
        property.maximum = Some(utoipa::Number::Int(
            isize::try_from(most).unwrap_or(isize::MAX),
        ));
    }
}

/// The rules that depend on the scope catalog the server loaded: an event's type is
/// `family.action` of one of its families, an endpoint subscribes to its families or
/// `*`.
fn state_catalog_rules(schemas: &mut BTreeMap<String, RefOr<Schema>>, catalog: &ScopeCatalog) {
    use gatehouse_domain::webhooks::events::{MAX_EVENT_TYPE_CHARS, event_type_pattern};
    let event_type = property_of(schemas, "EventInput", "type");
    event_type.max_length = Some(MAX_EVENT_TYPE_CHARS);
    event_type.pattern = Some(event_type_pattern(catalog));
    let families: Vec<serde_json::Value> =
        std::iter::once(gatehouse_model::ALL_EVENT_FAMILIES.to_owned())
            .chain(catalog.event_families.iter().cloned())
            .map(serde_json::Value::String)
            .collect();
    for schema in ["EndpointInput", "EndpointUpdate"] {
        let Some(RefOr::T(Schema::Object(object))) = schemas.get_mut(schema) else {
            panic!("the document has no schema {schema}");
        };
        let Some(RefOr::T(Schema::Array(array))) = object.properties.get_mut("event_families")
        else {
            panic!("{schema} has no list event_families");
        };
        let utoipa::openapi::schema::ArrayItems::RefOrSchema(items) = &mut array.items else {
            panic!("{schema}'s event_families has no item schema");
        };
        let RefOr::T(Schema::Object(item)) = items.as_mut() else {
            panic!("{schema}'s event_families items are not plain");
        };
        item.enum_values = Some(families.clone());
    }
}

/// A property of a body's schema, which [`state_input_rules`] names (a renamed type or
/// field stops the server at its first start, in every test).
fn property_of<'a>(
    schemas: &'a mut BTreeMap<String, RefOr<Schema>>,
    schema: &str,
    property: &str,
) -> &'a mut Object {
    let Some(RefOr::T(Schema::Object(object))) = schemas.get_mut(schema) else {
        panic!("the document has no schema {schema}");
    };
    match object.properties.get_mut(property) {
        Some(RefOr::T(Schema::Object(property))) => property,
        _ => panic!("{schema} has no plain property {property}"),
    }
}

/// Narrows a list's `cursor` parameter to the ids of what it lists (a cursor of
/// another list's kind is refused with 422).
fn state_the_cursor_kind(operation: &mut Operation, prefix: &str) {
    state_parameter(
        operation,
        ParameterIn::Query,
        "cursor",
        text(format!("^{prefix}{ID_BODY}$")),
    );
}

/// States the `Idempotency-Key` header's rule where an operation takes one.
fn state_the_idempotency_key(operation: &mut Operation) {
    use gatehouse_domain::webhooks::events::MAX_IDEMPOTENCY_KEY_CHARS;
    let mut rule = text("^[!-~]+$".to_owned());
    rule.min_length = Some(1);
    rule.max_length = Some(MAX_IDEMPOTENCY_KEY_CHARS);
    state_parameter(operation, ParameterIn::Header, "Idempotency-Key", rule);
}

/// States the audit trail's filters that the domain checks: an actor is a user or a
/// key; a related id is printable ASCII without spaces.
fn state_the_audit_filters(operation: &mut Operation) {
    use gatehouse_domain::audit::MAX_RELATED_ID_CHARS;
    use gatehouse_model::{ApiKeyId, UserId};
    let actor = format!("^({}|{}){ID_BODY}$", UserId::PREFIX, ApiKeyId::PREFIX);
    state_parameter(operation, ParameterIn::Query, "actor_id", text(actor));
    let mut related = text("^[!-~]+$".to_owned());
    related.max_length = Some(MAX_RELATED_ID_CHARS);
    state_parameter(operation, ParameterIn::Query, "related_id", related);
}

/// The body of every id after its prefix (a lower-case ULID).
const ID_BODY: &str = "[0-9a-hjkmnp-tv-z]{26}";

/// A string schema with `pattern`.
fn text(pattern: String) -> Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .build()
}

/// Replaces the schema of the operation's parameter `name` in `location`, if it has one.
fn state_parameter(operation: &mut Operation, location: ParameterIn, name: &str, schema: Object) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if parameter.name == name && parameter.parameter_in == location {
            parameter.schema = Some(RefOr::T(Schema::Object(schema.clone())));
        }
    }
}

fn describe(path: &str, method: &str, operation: &mut Operation, throttling: bool) {
    let needs = Needs::of(path, method, operation);
    let codes = error_codes(path, method, &needs, operation);
    let extensions = operation.extensions.get_or_insert_with(Default::default);
    extensions.insert(
        "x-error-codes".to_owned(),
        json!(codes.iter().map(|code| code.as_str()).collect::<Vec<_>>()),
    );
    if let Needs::Scope(scope) | Needs::OperatorScope(scope) = &needs {
        extensions.insert("x-required-scope".to_owned(), json!(scope));
    }
    operation.description = Some(match operation.description.take() {
        Some(description) if !description.is_empty() => {
            format!("{description}\n\n{}", needs.sentence())
        }
        _ => needs.sentence(),
    });
    operation.security = Some(match needs {
        Needs::Nothing => Vec::new(),
        Needs::OperatorScope(_) => vec![SecurityRequirement::new(
            crate::operator_api::OPERATOR_TOKEN,
            needs.scopes(),
        )],
        _ => SECURITY_SCHEMES
            .iter()
            .map(|name| SecurityRequirement::new(*name, needs.scopes()))
            .collect(),
    });
    if let Some(prefix) = listed_id_prefix(path) {
        state_the_cursor_kind(operation, prefix);
    }
    state_the_idempotency_key(operation);
    if path == "/v1/audit-events" {
        state_the_audit_filters(operation);
    }
    let responses = &mut operation.responses.responses;
    if matches!(needs, Needs::AnyKey | Needs::Scope(_)) && throttling {
        for (status, response) in responses.iter_mut() {
            if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                response.headers.extend(rate_limit_headers());
            }
        }
    }
    for (status, codes) in by_status(&codes) {
        responses.insert(status.to_string(), RefOr::T(error_response(&codes)));
    }
}

/// The codes an operation can answer: those of the rules that apply to it, and those its
/// annotation lists in `x-error-codes`; in the order of the error reference.
fn error_codes(
    path: &str,
    method: &str,
    needs: &Needs,
    operation: &mut Operation,
) -> Vec<ErrorCode> {
    let mut codes: Vec<ErrorCode> = ANY_OPERATION.to_vec();
    let listed = operation
        .extensions
        .as_mut()
        .and_then(|extensions| extensions.remove("x-error-codes"));
    if let Some(listed) = listed {
        let listed: Vec<String> = serde_json::from_value(listed)
            .unwrap_or_else(|_| panic!("{method} {path}: x-error-codes is a list of codes"));
        codes.extend(listed.iter().map(|wire| {
            ErrorCode::ALL
                .iter()
                .copied()
                .find(|code| code.as_str() == wire)
                .unwrap_or_else(|| panic!("{method} {path}: `{wire}` is no error code"))
        }));
    }
    match needs {
        Needs::Nothing => {}
        Needs::OperatorScope(_) => codes.extend(OPERATOR_CHECK),
        Needs::AnyKey | Needs::Scope(_) => {
            codes.extend(KEY_CHECK);
            codes.extend(throttled());
        }
    }
    if let Needs::Scope(_) = needs {
        codes.push(ErrorCode::InsufficientScope);
    }
    if operation.request_body.is_some() {
        codes.extend(WITH_BODY);
    }
    let reads_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|parameter| parameter.parameter_in == ParameterIn::Query);
    if reads_query {
        codes.extend(WITH_QUERY);
    }
    if path.contains('{') {
        codes.extend(WITH_PATH_ID);
    }
    ErrorCode::ALL
        .iter()
        .copied()
        .filter(|code| codes.contains(code))
        .collect()
}

fn by_status(codes: &[ErrorCode]) -> BTreeMap<u16, Vec<ErrorCode>> {
    let mut grouped: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for code in codes {
        grouped.entry(code.http_status()).or_default().push(*code);
    }
    grouped
}

/// One error answer: the `ErrorBody` schema, and the codes it can carry with their
/// meanings (also as `x-error-codes`).
fn error_response(codes: &[ErrorCode]) -> Response {
    let description = codes
        .iter()
        .map(|code| format!("- `{}`: {}", code.as_str(), code.meaning()))
        .collect::<Vec<_>>()
        .join("\n");
    let content = ContentBuilder::new()
        .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            "ErrorBody",
        ))))
        .build();
    let mut response = Response::new(description);
    response
        .content
        .insert("application/json".to_owned(), content);
    response.extensions = Some(Extensions::from_iter([(
        "x-error-codes",
        json!(codes.iter().map(|code| code.as_str()).collect::<Vec<_>>()),
    )]));
    if codes
        .iter()
        .any(|code| throttled().any(|limit| limit == *code))
    {
        response.headers.insert(
            "Retry-After".to_owned(),
            header(
                Type::Integer,
                "With `usage_exceeded`, seconds until the billing window resets; with `rate_limited`, until the key's window does.",
            ),
        );
        response.headers.extend(rate_limit_headers());
    }
    response
}

/// The IETF `RateLimit` headers every live answer of a key-authenticated route carries.
fn rate_limit_headers() -> [(String, Header); 2] {
    [
        (
            "RateLimit-Policy".to_owned(),
            header(
                Type::String,
                "The limits that apply: `\"monthly\";q=<limit>;w=<window seconds>` (the tenant's monthly platform calls) and, for a key with a rate, `\"key\";q=<n>;w=<1 or 60>`.",
            ),
        ),
        (
            "RateLimit".to_owned(),
            header(
                Type::String,
                "What is left: `\"monthly\";r=<remaining>;t=<seconds to reset>` and, for a key with a rate, `\"key\";r=<remaining>;t=<seconds>`.",
            ),
        ),
    ]
}

fn header(schema_type: Type, description: &str) -> Header {
    HeaderBuilder::new()
        .schema(Object::with_type(schema_type))
        .description(Some(description))
        .build()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Codes that only the dashboard answers, never `/v1`.
    const DASHBOARD_ONLY: &[ErrorCode] = &[
        ErrorCode::Unauthenticated,
        ErrorCode::InvalidCredentials,
        ErrorCode::PermissionDenied,
        ErrorCode::CrossSiteRequest,
        ErrorCode::SignInThrottled,
    ];

    fn document_json(document: &utoipa::openapi::OpenApi) -> serde_json::Value {
        serde_json::to_value(document).unwrap()
    }

    /// The `/v1` paths the served router holds, read from its debug form (axum lists
    /// every registered path there); the catch-all that answers `not_found` aside.
    fn served_v1_paths(router: &axum::Router) -> BTreeSet<String> {
        let debug = format!("{router:?}");
        debug
            .split('"')
            .filter(|text| {
                (text.starts_with("/v1/") || text.starts_with("/operator/v1/"))
                    && !text.ends_with("/{*rest}")
            })
            .map(str::to_owned)
            .collect()
    }

    #[tokio::test]
    async fn every_served_v1_route_is_in_the_document() {
        let (state, _folder) = crate::test_support::state().await;
        let document = crate::v1::router(&state).document;
        let served = served_v1_paths(&crate::router::router(state));
        let documented: BTreeSet<String> = document.paths.paths.keys().cloned().collect();
        assert!(
            served.len() > 20,
            "the router's debug form no longer lists its paths: {served:?}"
        );
        let undocumented: Vec<_> = served.difference(&documented).collect();
        assert!(
            undocumented.is_empty(),
            "served under /v1 but not in /openapi.json: {undocumented:?}. Register the route \
             with `.routes(routes!(handler))` and annotate the handler with #[utoipa::path]."
        );
        assert_eq!(served, documented, "documented but not served");
    }

    #[tokio::test]
    async fn every_code_the_api_answers_is_in_some_operation() {
        let (state, _folder) = crate::test_support::state().await;
        let document = document_json(&crate::v1::router(&state).document);
        let mut listed = BTreeSet::new();
        for item in document["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                for code in operation["x-error-codes"].as_array().unwrap() {
                    listed.insert(code.as_str().unwrap().to_owned());
                }
            }
        }
        for code in ErrorCode::ALL {
            let elsewhere = DASHBOARD_ONLY.contains(code) || ROUTING.contains(code);
            assert!(
                listed.contains(code.as_str()) || elsewhere,
                "`{code}` is in no operation's errors: add it to a rule in v1/openapi.rs \
                 (KEY_CHECK, WITH_BODY, …) or to an operation's x-error-codes"
            );
        }
    }
}
