//! What the MCP server answers, for the key its door admitted: the tools that key's
//! scopes allow, each call run by the `/v1` operation's own handler (so its checks and
//! its answer are the API's), and the docs pages and the scope catalog as resources.

use std::sync::Arc;

use axum::response::IntoResponse;
use gatehouse_model::ErrorCode;
use rmcp::ErrorData as McpError;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, Resource, ResourceContents, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler};
use serde_json::Value;
use tower::ServiceExt;

use super::McpServer;
use super::door::AdmittedMessage;
use crate::error::ApiError;

/// The largest answer a tool returns (a page of 100 items is far smaller).
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// The URI of the scope catalog resource; docs pages are `gatehouse://docs/<slug>`.
pub const SCOPES_URI: &str = "gatehouse://scopes";
const DOCS_URI: &str = "gatehouse://docs/";

const INSTRUCTIONS: &str = "Gatehouse's API as tools, acting as the API key (or access token) \
    you connected with, within its app, mode and scopes: you see only the tools its scopes \
    allow. Call `whoami` first to learn them. Lists are paged: pass `next_cursor` back as \
    `cursor` while `has_more` is true. A tool error carries the API's error \
    (`{\"error\": {\"code\", \"message\", \"details\"}}`); on `rate_limited` wait \
    `details.retry_after_seconds`. The docs are resources (`gatehouse://docs/<page>`).";

/// One per MCP session (rmcp makes one per session); all share the server.
#[derive(Clone)]
pub struct GatehouseMcp(pub Arc<McpServer>);

/// The message the door admitted, from the HTTP request rmcp hands over.
fn admitted(context: &RequestContext<RoleServer>) -> Result<Arc<AdmittedMessage>, McpError> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Arc<AdmittedMessage>>())
        .cloned()
        .ok_or_else(|| McpError::internal_error("the message was not admitted", None))
}

impl ServerHandler for GatehouseMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(
            Implementation::new("gatehouse", env!("CARGO_PKG_VERSION")).with_title("Gatehouse"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let message = admitted(&context)?;
        let key = &message.key;
        Ok(ListToolsResult::with_all_items(
            self.0
                .tools
                .allowed(|scope| key.grants(scope))
                .map(|spec| spec.tool.clone())
                .collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let message = admitted(&context)?;
        let Some(spec) = self.0.tools.get(&request.name) else {
            message.record(&self.0.state.gatehouse, 404, Some(ErrorCode::NotFound));
            return Err(McpError::invalid_params(
                format!("No tool is named {}.", request.name),
                None,
            ));
        };
        let answer = match spec.request(request.arguments) {
            Ok(mut call) => {
                call.extensions_mut()
                    .insert(Arc::clone(&message.call.actor));
                self.0
                    .key_operations
                    .clone()
                    .oneshot(call)
                    .await
                    .unwrap_or_else(|never| match never {})
            }
            Err(problem) => ApiError::new(ErrorCode::BadRequest, problem).into_response(),
        };
        let status = answer.status();
        let code = answer.extensions().get::<ErrorCode>().copied();
        message.record(&self.0.state.gatehouse, status.as_u16(), code);
        let body = axum::body::to_bytes(answer.into_body(), MAX_ANSWER_BYTES)
            .await
            .map_err(|_| McpError::internal_error("the answer was too large", None))?;
        let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Ok(CallToolResponse::from(if status.is_success() {
            CallToolResult::structured(value)
        } else {
            CallToolResult::structured_error(value)
        }))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        admitted(&context)?;
        let mut resources: Vec<Resource> = gatehouse_app::docs::DOC_PAGES
            .iter()
            .map(|page| {
                Resource::new(format!("{DOCS_URI}{}", page.slug), page.slug)
                    .with_title(page.title)
                    .with_description(page.summary)
                    .with_mime_type("text/markdown")
            })
            .collect();
        resources.push(
            Resource::new(SCOPES_URI, "scopes")
                .with_title("Scope catalog")
                .with_description(
                    "Every scope a restricted key can hold, by area, and the default set.",
                )
                .with_mime_type("application/json"),
        );
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        admitted(&context)?;
        let uri = request.uri;
        let contents = if uri == SCOPES_URI {
            let catalog = serde_json::to_string_pretty(self.0.state.gatehouse.scope_catalog())
                .map_err(|_| McpError::internal_error("the catalog did not serialize", None))?;
            ResourceContents::text(catalog, uri).with_mime_type("application/json")
        } else {
            let markdown = uri
                .strip_prefix(DOCS_URI)
                .and_then(|slug| self.0.docs.markdown(slug))
                .ok_or_else(|| {
                    McpError::resource_not_found(format!("No resource is at {uri}."), None)
                })?;
            ResourceContents::text(markdown, uri).with_mime_type("text/markdown")
        };
        Ok(ReadResourceResponse::from(ReadResourceResult::new(vec![
            contents,
        ])))
    }
}
