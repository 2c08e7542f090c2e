//! The HTTP boundary's one error type, [`ApiError`], answered as
//! `{ "error": { "code", "message", "details" } }`, and the typed inputs
//! that answer with it: the JSON body reader ([`json_body`]), the query string
//! ([`ApiQuery`]) and a path id ([`PathId`]). Used by the `/v1` handlers and layers and
//! by the layers in front of the whole server (`csrf`, `limits`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_domain::DomainError;
use gatehouse_model::{ErrorBody, ErrorCode, ErrorDetail, PageRequest};
use serde::de::DeserializeOwned;

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
/// A body that may be left out: nothing, white space or `null` is the default (what
/// a client sends when it has nothing to say); anything else is read as [`json_body`].
pub fn optional_json_body<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    let text = body.trim_ascii();
    if text.is_empty() || text == b"null" {
        return Ok(T::default());
    }
    json_body(text)
}

/// The answer of a create that takes an `Idempotency-Key`: 201 with what was made, or,
/// for a retry the key recognised, 200 with what the first request made and
/// `Idempotent-Replayed: true`.
pub fn created_or_replayed<T: serde::Serialize>(replayed: bool, made: T) -> Response {
    if replayed {
        (
            StatusCode::OK,
            [("idempotent-replayed", "true")],
            axum::Json(made),
        )
            .into_response()
    } else {
        (StatusCode::CREATED, axum::Json(made)).into_response()
    }
}

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
        read_query(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// A search's query string: its filter `F` (declared once, in the model; an unknown
/// parameter is refused as by [`ApiQuery`]) and the page asked for (`limit`, `cursor`).
pub struct ApiSearch<F>(pub F, pub PageRequest);

impl<F: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiSearch<F> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let (mut paging, mut filtering) = (
            form_urlencoded::Serializer::new(String::new()),
            form_urlencoded::Serializer::new(String::new()),
        );
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let part = if name == "limit" || name == "cursor" {
                &mut paging
            } else {
                &mut filtering
            };
            part.append_pair(&name, &value);
        }
        let page = read_query(&paging.finish())?;
        let filter = read_query(&filtering.finish())?;
        Ok(ApiSearch(filter, page))
    }
}

/// Reads a query string as `T`; a malformed one is `400 bad_request`, naming the
/// parameter only when it is one of ours.
fn read_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    // A NUL is never a value of ours, and PostgreSQL refuses it in any text.
    if form_urlencoded::parse(query.as_bytes())
        .any(|(name, value)| name.contains('\0') || value.contains('\0'))
    {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "The query string could not be read: it holds a NUL character.",
        ));
    }
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
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

impl PathIdKind for gatehouse_model::TenantId {
    const RESOURCE: &'static str = "tenant";
    fn parse_path(raw: &str) -> Option<Self> {
        Self::parse(raw).ok()
    }
}

impl PathIdKind for gatehouse_model::UserId {
    const RESOURCE: &'static str = "person";
    fn parse_path(raw: &str) -> Option<Self> {
        Self::parse(raw).ok()
    }
}

/// The request's `Idempotency-Key`, if it sent one (its rules are the domain's).
pub fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<&str>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|value| {
            value.to_str().map_err(|_| {
                ApiError::new(
                    ErrorCode::BadRequest,
                    "The Idempotency-Key header must be printable ASCII.",
                )
            })
        })
        .transpose()
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

/// Two ids from the path, in order (`/v1/webhook-endpoints/{id}/messages/{event_id}`);
/// one that does not parse answers 404 naming its resource.
pub struct PathIds<A, B>(pub A, pub B);

impl<A, B, S> axum::extract::FromRequestParts<S> for PathIds<A, B>
where
    A: PathIdKind + Send,
    B: PathIdKind + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let axum::extract::Path((first, second)) =
            axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
                .await
                .map_err(|_| DomainError::NotFound(A::RESOURCE))?;
        let first = A::parse_path(&first).ok_or(DomainError::NotFound(A::RESOURCE))?;
        let second = B::parse_path(&second).ok_or(DomainError::NotFound(B::RESOURCE))?;
        Ok(PathIds(first, second))
    }
}
