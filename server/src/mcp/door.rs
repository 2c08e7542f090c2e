//! The MCP door: every HTTP request to `/mcp` is admitted exactly as a `/v1` call is
//! (the same credentials in the same three header forms, the browser origin, the key's
//! rate limit and the tenant's quota: `gatehouse_domain::admission`), counted as one
//! call, and logged under the key with the route `mcp:<tool>` for a tool call and
//! `mcp:<method>` for the protocol's other messages. It also binds each MCP session to
//! the key that opened it and keeps the session bounds (`sessions`).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{ORIGIN, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_domain::admission::{AdmittedCall, CallAttempt};
use gatehouse_domain::{DomainError, Gatehouse, KeyPrincipal};
use gatehouse_model::ErrorCode;
use rmcp::transport::streamable_http_server::session::SessionManager;
use serde::Deserialize;

use super::McpServer;
use super::sessions::SessionUse;
use crate::error::ApiError;
use crate::v1::layers::cors::AllowedOrigin;
use crate::v1::layers::key_auth::{presented_credential, refused_response};
use crate::v1::layers::request_log::{RequestFacts, name_the_answer};

/// The session header of the Streamable HTTP transport.
pub const SESSION_HEADER: &str = "mcp-session-id";

/// What the tool-call handler needs of the door's decision: who calls, and how to record
/// the call once its outcome is known.
pub struct AdmittedMessage {
    pub call: AdmittedCall,
    pub key: Arc<KeyPrincipal>,
    /// Taken by the first [`Self::record`], so that a message is counted and logged once.
    pending: Mutex<Option<Option<RequestFacts>>>,
}

impl AdmittedMessage {
    /// Counts the message's outcome against its key and logs it (once; later calls do
    /// nothing).
    pub fn record(&self, gatehouse: &Gatehouse, status: u16, code: Option<ErrorCode>) {
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let Some(facts) = pending else {
            return;
        };
        gatehouse.finish_call(&self.call, status < 400);
        if let Some(facts) = facts {
            facts.log(
                gatehouse,
                Arc::clone(&self.key),
                status,
                code.map(|code| code.as_str()),
                None,
            );
        }
    }
}

/// The parts of a JSON-RPC message the door reads: its method and a tool call's name.
#[derive(Deserialize)]
struct Message {
    method: Option<String>,
    params: Option<MessageParams>,
}

#[derive(Deserialize)]
struct MessageParams {
    name: Option<String>,
}

/// What kind of message a request carries, named for the request log.
struct Kind {
    route: String,
    /// A `tools/call`: its handler records it (the answer streams after the door).
    tool_call: bool,
    initialize: bool,
}

impl Kind {
    fn of(method: &Method, body: &[u8], server: &McpServer) -> Self {
        let message = (*method == Method::POST)
            .then(|| serde_json::from_slice::<Message>(body).ok())
            .flatten();
        let rpc_method = message.as_ref().and_then(|m| m.method.as_deref());
        let route = match (method, rpc_method) {
            (&Method::GET, _) => "mcp:stream".to_owned(),
            (&Method::DELETE, _) => "mcp:end_session".to_owned(),
            (_, Some("tools/call")) => {
                // Only a tool that exists names the route: the log never holds a name
                // the caller made up.
                let tool = message
                    .as_ref()
                    .and_then(|m| m.params.as_ref())
                    .and_then(|params| params.name.as_deref())
                    .and_then(|name| server.tools.get(name));
                match tool {
                    Some(tool) => format!("mcp:{}", tool.name()),
                    None => "mcp:tools/call".to_owned(),
                }
            }
            (_, Some(name)) if is_method_name(name) => format!("mcp:{name}"),
            _ => "mcp:other".to_owned(),
        };
        Self {
            route,
            tool_call: rpc_method == Some("tools/call"),
            initialize: rpc_method == Some("initialize"),
        }
    }
}

/// A JSON-RPC method name as MCP writes them (`tools/list`, `notifications/initialized`).
fn is_method_name(name: &str) -> bool {
    (1..=48).contains(&name.len())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte == b'/' || byte == b'_')
}

/// The challenge of a 401, as the MCP authorization spec asks (RFC 6750).
fn challenge(error: &DomainError) -> HeaderValue {
    let value = match error {
        DomainError::KeyRefused(gatehouse_domain::api_keys::KeyRefusal::Missing) => {
            r#"Bearer realm="gatehouse""#
        }
        _ => r#"Bearer realm="gatehouse", error="invalid_token""#,
    };
    HeaderValue::from_static(value)
}

/// Admits the request, binds its session, runs it, and records it.
pub async fn admit(State(server): State<Arc<McpServer>>, request: Request, next: Next) -> Response {
    let gatehouse = &server.state.gatehouse;
    let (parts, body) = request.into_parts();
    // A POST's body is read whole (`limits` bounds it) to name the message.
    let Ok(body) = axum::body::to_bytes(body, crate::limits::MAX_BODY_BYTES).await else {
        return crate::limits::too_large().into_response();
    };
    let kind = Kind::of(&parts.method, &body, &server);
    let id = gatehouse.fresh_request_id();
    let facts = RequestFacts::read(
        gatehouse,
        id.clone(),
        &parts.method,
        &parts.headers,
        &parts.extensions,
        || kind.route.clone(),
    );
    let session = parts
        .headers
        .get(SESSION_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let attempt = CallAttempt {
        credential: presented_credential(&parts.headers),
        origin: parts
            .headers
            .get(ORIGIN)
            .and_then(|value| value.to_str().ok()),
        ..CallAttempt::default()
    };
    let (call, key) = match gatehouse.admit(attempt).await {
        Ok(AdmittedCall { key: None, .. }) => {
            let error = DomainError::KeyRefused(gatehouse_domain::api_keys::KeyRefusal::Unknown);
            return refused(&id, error);
        }
        Ok(call) => {
            let key = call.key.clone().expect("matched above");
            (call, key)
        }
        Err(refusal) => {
            // A refused key ends the session of its own that the message names: a key
            // disabled, revoked or expired leaves no session behind. (A session named
            // with a credential of another key, or of none, is left alone.)
            if let (Some(session), Some(key), DomainError::KeyRefused(_)) =
                (&session, &refusal.key, &refusal.error)
                && server.sessions.belongs_to(session, &key.key_id)
            {
                close(&server, session).await;
            }
            let status = refusal.error.code().http_status();
            let code = refusal.error.code();
            if let (Some(facts), Some(key)) = (facts, refusal.key) {
                facts.log(gatehouse, key, status, Some(code.as_str()), None);
            }
            return refused(&id, refusal.error);
        }
    };
    let message = Arc::new(AdmittedMessage {
        call,
        key: Arc::clone(&key),
        pending: Mutex::new(Some(facts)),
    });
    let now = Instant::now();
    let mut reserved = false;
    match &session {
        Some(session) => match server.sessions.use_session(session, &key.key_id, now) {
            SessionUse::Live => {}
            found @ (SessionUse::Unknown | SessionUse::Expired) => {
                // Another key's session stays open: naming it ends nothing.
                if found == SessionUse::Expired {
                    close(&server, session).await;
                }
                message.record(gatehouse, 404, Some(ErrorCode::NotFound));
                let mut answer = ApiError::new(
                    ErrorCode::NotFound,
                    "No MCP session of this key has that id (it ended or expired): open a new \
                     one with initialize.",
                )
                .into_response();
                name_the_answer(&mut answer, &id);
                return answer;
            }
        },
        None if kind.initialize => {
            let (room, expired) = server.sessions.reserve(&key.key_id, now);
            for session in &expired {
                close(&server, session).await;
            }
            if !room {
                message.record(gatehouse, 429, Some(ErrorCode::LimitReached));
                let mut answer = ApiError::new(
                    ErrorCode::LimitReached,
                    format!(
                        "This key has {} open MCP sessions, the most it may hold: end one \
                         (DELETE /mcp with its Mcp-Session-Id) or let one expire.",
                        server.sessions.bounds().per_key
                    ),
                )
                .into_response();
                name_the_answer(&mut answer, &id);
                return answer;
            }
            reserved = true;
        }
        None => {}
    }
    let mut parts = parts;
    parts.extensions.insert(Arc::clone(&message));
    let method = parts.method.clone();
    let mut response = next.run(Request::from_parts(parts, Body::from(body))).await;
    if reserved {
        match response
            .headers()
            .get(SESSION_HEADER)
            .and_then(|value| value.to_str().ok())
        {
            Some(opened) if response.status().is_success() => {
                server.sessions.opened(opened, &key.key_id, Instant::now());
            }
            _ => server.sessions.not_opened(&key.key_id),
        }
    }
    if method == Method::DELETE
        && response.status().is_success()
        && let Some(session) = &session
    {
        server.sessions.end(session);
    }
    if message.call.origin_allowed {
        response.extensions_mut().insert(AllowedOrigin);
    }
    if !(kind.tool_call && response.status().is_success()) {
        let code = response.extensions().get::<ErrorCode>().copied();
        message.record(gatehouse, response.status().as_u16(), code);
    }
    name_the_answer(&mut response, &id);
    response
}

fn refused(id: &gatehouse_model::RequestId, error: DomainError) -> Response {
    let unauthorized = error.code().http_status() == StatusCode::UNAUTHORIZED.as_u16();
    let value = challenge(&error);
    let mut response = refused_response(error);
    if unauthorized {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    name_the_answer(&mut response, id);
    response
}

/// Ends a session in rmcp and in the registry.
async fn close(server: &McpServer, session: &str) {
    server.sessions.end(session);
    let id: Arc<str> = Arc::from(session);
    let _ = server.session_manager.close_session(&id).await;
}
