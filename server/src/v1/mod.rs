//! The `/v1` JSON API: thin handlers over the same domain operations the dashboard
//! uses, answering errors as `{ "error": { "code", "message", "details" } }` (SPEC X-5).

mod audit;
mod cors;
mod key_auth;
mod keys;
pub mod openapi;
mod rate_headers;
pub mod request_log;
mod request_logs;
mod resources;
mod usage;
mod webhooks;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_domain::DomainError;
use gatehouse_model::{ErrorBody, ErrorCode, ErrorDetail};
use serde::de::DeserializeOwned;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Every `/v1` route and the OpenAPI document that describes them, from one list: each
/// route is registered with `routes!` from its handler's `#[utoipa::path]`, so a route
/// cannot be served without being documented (a test compares the served paths with the
/// document's). The key-authenticated resources sit behind the key check, the rest are
/// open, and CORS is around all of them.
pub fn router(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let authenticated = resources::router()
        .merge(webhooks::router())
        .merge(usage::router())
        .merge(audit::router())
        .merge(request_logs::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            key_auth::authenticate,
        ));
    let (router, document) = OpenApiRouter::with_openapi(openapi::base())
        .merge(keys::router())
        .routes(routes!(ping))
        .merge(authenticated)
        .split_for_parts();
    let router = router
        .route("/v1/{*rest}", axum::routing::any(no_such_route))
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_log::log_requests,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cors::cors,
        ));
    (
        router,
        openapi::finish(document, state.gatehouse.scope_catalog()),
    )
}

async fn wrong_method() -> ApiError {
    ApiError::new(
        gatehouse_model::ErrorCode::MethodNotAllowed,
        "This route does not answer that HTTP method.",
    )
}

async fn no_such_route() -> ApiError {
    ApiError::new(gatehouse_model::ErrorCode::NotFound, "No such API route.")
}

/// Ping
///
/// Liveness without touching the database (`/health` checks it).
#[utoipa::path(get, path = "/v1/ping", tag = "Meta",
    responses((status = 200, description = "The server answers.", body = Pong)))]
async fn ping() -> axum::Json<Pong> {
    axum::Json(Pong { status: "ok" })
}

/// `GET /v1/ping`'s answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Pong {
    /// Always `ok`.
    status: &'static str,
}

/// The API boundary's one error type.
#[derive(Debug)]
pub struct ApiError(ErrorDetail);

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ErrorDetail {
            code,
            message: message.into(),
            details: Default::default(),
        })
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        if error.is_internal() {
            tracing::error!(%error, "API call failed");
        }
        Self(error.to_detail())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = self.0.code;
        let mut response = (status, axum::Json(ErrorBody { error: self.0 })).into_response();
        // For the request log: the answer's code without reading the body back.
        response.extensions_mut().insert(code);
        response
    }
}

/// Reads a JSON body, answering `bad_request` that names the field at fault (never
/// echoing the client's values back).
pub fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let unreadable = |reason: String| {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("The request body could not be read: {reason}."),
        )
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.classify() != serde_json::error::Category::Data {
            return unreadable("the body is not valid JSON".to_owned());
        }
        // Only our own words and field names are echoed, never the client's: a missing
        // field is one of ours; an unknown one is the client's, so only the fields that
        // are taken are listed; any other data error would quote the client's value, so
        // only the field's path is named, and only when it is one of ours.
        let text = inner.to_string();
        let what = text.split(" at line ").next().unwrap_or_default();
        let place = match safe_path(&path) {
            Some(".") | None => String::new(),
            Some(path) => format!(" in `{path}`"),
        };
        unreadable(if what.starts_with("missing field") {
            format!("{what}{place}")
        } else if what.starts_with("unknown field") {
            let taken = what
                .split_once("expected ")
                .map(|(_, expected)| format!(" (expected {expected})"))
                .unwrap_or_default();
            format!("a field this operation does not take{place}{taken}")
        } else {
            match safe_path(&path) {
                Some(".") | None => "a field has the wrong type or value".to_owned(),
                Some(path) => format!("`{path}` has the wrong type or value"),
            }
        })
    })?;
    deserializer
        .end()
        .map_err(|_| unreadable("the body is not valid JSON".to_owned()))?;
    Ok(value)
}

/// A field path from a parse error when it can only be one of ours (lower-case names,
/// indexes and dots, short); `None` when it may hold what the client sent.
fn safe_path(path: &str) -> Option<&str> {
    let ours = path.len() <= 80
        && path
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || b"0123456789_.[]".contains(&byte));
    ours.then_some(path)
}

/// A typed query string (`?limit=&cursor=`); a malformed one is `400 bad_request`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        // A NUL is never a value of ours, and PostgreSQL refuses it in any text.
        if url_encoded_pairs(query.as_bytes())
            .any(|(name, value)| name.contains('\0') || value.contains('\0'))
        {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "The query string could not be read: it holds a NUL character.",
            ));
        }
        let deserializer = serde_urlencoded::Deserializer::new(url_encoded_pairs(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|error| {
                ApiError::new(
                    ErrorCode::BadRequest,
                    match safe_path(&error.path().to_string()) {
                        Some(path) if path != "." => format!(
                            "The query string could not be read: `{path}` has the wrong type or value."
                        ),
                        _ => "The query string could not be read: a parameter is unknown or has the wrong type or value."
                            .to_owned(),
                    },
                )
            })
    }
}

fn url_encoded_pairs(query: &[u8]) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query)
}

/// The query of a list of one app's things (`?app_id=&limit=&cursor=`).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AppListQuery {
    /// Defaults to the calling key's app.
    app_id: Option<gatehouse_model::AppId>,
    /// 1 to 100; 100 when left out.
    limit: Option<u32>,
    /// The `next_cursor` of the previous page; the first page when left out.
    cursor: Option<String>,
}

impl AppListQuery {
    fn page(&self) -> gatehouse_model::PageRequest {
        gatehouse_model::PageRequest {
            limit: self.limit,
            cursor: self.cursor.clone(),
        }
    }
}

/// A typed id from the route's path: a malformed id is answered like a missing
/// resource (`404 not_found`), exactly as another tenant's id is.
pub struct PathId<T>(pub T);

/// The ids a path may carry, with the resource name a 404 gives.
pub trait PathIdKind: Sized {
    const RESOURCE: &'static str;
    fn parse_path(raw: &str) -> Option<Self>;
}

impl PathIdKind for gatehouse_model::AppId {
    const RESOURCE: &'static str = "app";
    fn parse_path(raw: &str) -> Option<Self> {
        Self::parse(raw).ok()
    }
}

impl PathIdKind for gatehouse_model::ApiKeyId {
    const RESOURCE: &'static str = "API key";
    fn parse_path(raw: &str) -> Option<Self> {
        Self::parse(raw).ok()
    }
}

impl PathIdKind for gatehouse_model::WebhookEndpointId {
    const RESOURCE: &'static str = "webhook endpoint";
    fn parse_path(raw: &str) -> Option<Self> {
        Self::parse(raw).ok()
    }
}

impl PathIdKind for gatehouse_model::EventId {
    const RESOURCE: &'static str = "event";
    fn parse_path(raw: &str) -> Option<Self> {
        Self::parse(raw).ok()
    }
}

impl<T: PathIdKind + Send, S: Send + Sync> axum::extract::FromRequestParts<S> for PathId<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| DomainError::NotFound(T::RESOURCE))?;
        T::parse_path(&raw)
            .map(PathId)
            .ok_or_else(|| DomainError::NotFound(T::RESOURCE).into())
    }
}
