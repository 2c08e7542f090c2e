//! Server functions: each resolves the session, then calls one domain operation.
//! All are POST; the server refuses cross-site calls to them (see the server's `csrf`).

use gatehouse_model::{
    AlertId, AlertPreference, AlertsPanel, ApiKeyId, ApiKeyInput, ApiKeyUpdate, ApiKeyView,
    ApiKeysPage, AppId, AppInput, AppView, AppsPage, AttemptView, AuditEventView, AuditFilter,
    CreatedApiKey, CreatedEndpoint, EndpointInput, EndpointUpdate, EndpointView, EventId,
    KeyActivity, Overview, Page, ReplayOutcome, RequestLogFilter, RequestLogView, RequestLogsPage,
    RotationOverlap, SetupGuide, UsagePage, Viewer, WebhookEndpointId, WebhookMessage,
    WebhooksPage,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::ssr;

/// Who is signed in; `None` when nobody is.
#[server(prefix = "/api", endpoint = "current_viewer")]
pub async fn current_viewer() -> Result<Option<Viewer>, AppError> {
    match ssr::signed_in().await {
        Ok((_, signed_in)) => {
            let mut viewer = signed_in.viewer;
            if viewer.embedded {
                viewer.frame_origins = ssr::context()?.embed_origins;
            }
            Ok(Some(viewer))
        }
        Err(error) if error.code() == gatehouse_model::ErrorCode::Unauthenticated => Ok(None),
        Err(error) => Err(error),
    }
}

/// Signs in. The sign-in page is a plain HTML form (it loads no wasm), so a browser's
/// own submission is answered with a redirect: to the Developers page, or back to the
/// form with the message and the email kept. Other callers get the viewer as JSON.
#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<Viewer, AppError> {
    let context = ssr::context()?;
    let signed_in = context
        .gatehouse
        .sign_in(&email, &password, ssr::client_address())
        .await;
    let plain_form = ssr::is_plain_form_post();
    match signed_in {
        Ok(session) => {
            let max_age = gatehouse_domain::auth::SESSION_TTL_MS / 1000;
            ssr::set_session_cookie(Some((&session.token, max_age)));
            if plain_form {
                leptos_axum::redirect(crate::pages::DEVELOPERS_PATH);
            }
            Ok(session.viewer)
        }
        Err(error) => {
            let error = AppError::from(error);
            if plain_form {
                ssr::remember_sign_in_failure(&crate::pages::SignInFailure::new(
                    &email,
                    &error.to_string(),
                ));
                leptos_axum::redirect(crate::pages::SIGN_IN_PATH);
            }
            Err(error)
        }
    }
}

#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let context = ssr::context()?;
    if let Some(token) = ssr::session_token() {
        context.gatehouse.sign_out(&token).await?;
    }
    ssr::set_session_cookie(None);
    Ok(())
}

#[server(prefix = "/api", endpoint = "load_overview")]
pub async fn load_overview() -> Result<Overview, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse.overview(&signed_in.actor).await?)
}

/// The Usage tab's report of the billing window, for the tenant or the selected app.
#[server(prefix = "/api", endpoint = "load_usage")]
pub async fn load_usage(for_selected_app: bool) -> Result<UsagePage, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .usage_page(&signed_in.actor, for_selected_app)
        .await?)
}

#[server(prefix = "/api", endpoint = "load_apps")]
pub async fn load_apps() -> Result<AppsPage, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse.apps_page(&signed_in.actor).await?)
}

#[server(prefix = "/api", input = Json, endpoint = "create_app")]
pub async fn create_app(input: AppInput) -> Result<AppView, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse.create_app(&signed_in.actor, &input).await?)
}

#[server(prefix = "/api", input = Json, endpoint = "update_app")]
pub async fn update_app(app_id: AppId, input: AppInput) -> Result<AppView, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .update_app(&signed_in.actor, &app_id, &input.into())
        .await?)
}

#[server(prefix = "/api", input = Json, endpoint = "select_app")]
pub async fn select_app(app_id: AppId) -> Result<AppView, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse.select_app(&signed_in.actor, &app_id).await?)
}

/// The latest 100 audit events for the Integration logs tab.
#[server(prefix = "/api", endpoint = "load_integration_logs")]
pub async fn load_integration_logs() -> Result<Vec<AuditEventView>, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse.recent_audit_events(&signed_in.actor, 100).await?)
}

/// Events a page of the Audit page holds.
pub const AUDIT_PAGE_SIZE: u32 = 25;

/// A page of the audit trail for the Audit page, newest first, filtered.
#[server(prefix = "/api", input = Json, endpoint = "load_audit_events")]
pub async fn load_audit_events(
    filter: AuditFilter,
    cursor: Option<String>,
) -> Result<Page<AuditEventView>, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    let page = gatehouse_model::PageRequest {
        limit: Some(AUDIT_PAGE_SIZE),
        cursor,
    };
    Ok(gatehouse
        .search_audit_events(&signed_in.actor, &filter, &page)
        .await?)
}

/// The person's alerts (notices not yet dismissed) and their choice per kind.
#[server(prefix = "/api", endpoint = "load_alerts")]
pub async fn load_alerts() -> Result<AlertsPanel, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse.alerts_panel(&signed_in.actor).await?)
}

/// Hides one notice for the person.
#[server(prefix = "/api", input = Json, endpoint = "dismiss_alert")]
pub async fn dismiss_alert(alert_id: AlertId) -> Result<(), AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse.dismiss_alert(&signed_in.actor, &alert_id).await?)
}

/// Turns one kind of alert on or off for the person.
#[server(prefix = "/api", input = Json, endpoint = "set_alert_preference")]
pub async fn set_alert_preference(
    preference: AlertPreference,
) -> Result<AlertPreference, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .set_alert_preference(&signed_in.actor, preference)
        .await?)
}

/// Hides the Overview's setup guide for the person, once every step is done.
#[server(prefix = "/api", input = Json, endpoint = "dismiss_setup_guide")]
pub async fn dismiss_setup_guide() -> Result<SetupGuide, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse.dismiss_setup_guide(&signed_in.actor).await?)
}

/// Requests a page of the Logs page holds.
pub const REQUEST_LOGS_PAGE_SIZE: u32 = 25;

/// A page of the selected app's request log for the Logs page, newest first, filtered.
#[server(prefix = "/api", input = Json, endpoint = "load_request_logs")]
pub async fn load_request_logs(
    filter: RequestLogFilter,
    cursor: Option<String>,
) -> Result<RequestLogsPage, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    let page = gatehouse_model::PageRequest {
        limit: Some(REQUEST_LOGS_PAGE_SIZE),
        cursor,
    };
    Ok(gatehouse
        .request_logs_page(&signed_in.actor, filter, &page)
        .await?)
}

/// Requests a key's detail shows.
pub const KEY_RECENT_REQUESTS: u32 = 10;

/// A key's latest requests, for its detail.
#[server(prefix = "/api", input = Json, endpoint = "load_key_requests")]
pub async fn load_key_requests(key_id: ApiKeyId) -> Result<Vec<RequestLogView>, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .recent_requests_of_key(&signed_in.actor, &key_id, KEY_RECENT_REQUESTS)
        .await?)
}

/// A key's calls per hour (24 hours) and per day (30 days), for its detail's chart.
#[server(prefix = "/api", input = Json, endpoint = "load_key_activity")]
pub async fn load_key_activity(key_id: ApiKeyId) -> Result<KeyActivity, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse.key_activity(&signed_in.actor, &key_id).await?)
}

/// The API keys tab: the selected app's keys, with 24-hour counts, and the scope catalog.
#[server(prefix = "/api", endpoint = "load_api_keys")]
pub async fn load_api_keys() -> Result<ApiKeysPage, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse.api_keys_page(&signed_in.actor).await?)
}

/// Creates a key; the answer holds the plaintext, shown once.
#[server(prefix = "/api", input = Json, endpoint = "create_api_key")]
pub async fn create_api_key(input: ApiKeyInput) -> Result<CreatedApiKey, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse.create_api_key(&signed_in.actor, &input).await?)
}

#[server(prefix = "/api", input = Json, endpoint = "update_api_key")]
pub async fn update_api_key(
    key_id: ApiKeyId,
    update: ApiKeyUpdate,
) -> Result<ApiKeyView, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .update_api_key(&signed_in.actor, &key_id, &update)
        .await?)
}

#[server(prefix = "/api", input = Json, endpoint = "set_api_key_enabled")]
pub async fn set_api_key_enabled(key_id: ApiKeyId, enabled: bool) -> Result<ApiKeyView, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .set_api_key_enabled(&signed_in.actor, &key_id, enabled)
        .await?)
}

#[server(prefix = "/api", input = Json, endpoint = "revoke_api_key")]
pub async fn revoke_api_key(key_id: ApiKeyId) -> Result<ApiKeyView, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse.revoke_api_key(&signed_in.actor, &key_id).await?)
}

/// A new secret for the same key; the old one works for `overlap`.
#[server(prefix = "/api", input = Json, endpoint = "rotate_api_key")]
pub async fn rotate_api_key(
    key_id: ApiKeyId,
    overlap: RotationOverlap,
) -> Result<CreatedApiKey, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .rotate_api_key(&signed_in.actor, &key_id, overlap)
        .await?)
}

#[server(prefix = "/api", input = Json, endpoint = "duplicate_api_key")]
pub async fn duplicate_api_key(key_id: ApiKeyId) -> Result<CreatedApiKey, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .duplicate_api_key(&signed_in.actor, &key_id)
        .await?)
}

/// The Webhooks tab: the selected app's endpoints with their last day of deliveries,
/// and the event families to choose from.
#[server(prefix = "/api", endpoint = "load_webhooks")]
pub async fn load_webhooks() -> Result<WebhooksPage, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse.webhooks_page(&signed_in.actor).await?)
}

/// Creates an endpoint; the answer holds its signing secret, shown once.
#[server(prefix = "/api", input = Json, endpoint = "create_webhook_endpoint")]
pub async fn create_webhook_endpoint(input: EndpointInput) -> Result<CreatedEndpoint, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .create_webhook_endpoint(&signed_in.actor, &input)
        .await?)
}

#[server(prefix = "/api", input = Json, endpoint = "update_webhook_endpoint")]
pub async fn update_webhook_endpoint(
    endpoint_id: WebhookEndpointId,
    update: EndpointUpdate,
) -> Result<EndpointView, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .update_webhook_endpoint(&signed_in.actor, &endpoint_id, &update)
        .await?)
}

#[server(prefix = "/api", input = Json, endpoint = "set_webhook_endpoint_enabled")]
pub async fn set_webhook_endpoint_enabled(
    endpoint_id: WebhookEndpointId,
    enabled: bool,
) -> Result<EndpointView, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .set_webhook_endpoint_enabled(&signed_in.actor, &endpoint_id, enabled)
        .await?)
}

#[server(prefix = "/api", input = Json, endpoint = "delete_webhook_endpoint")]
pub async fn delete_webhook_endpoint(
    endpoint_id: WebhookEndpointId,
) -> Result<EndpointView, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .delete_webhook_endpoint(&signed_in.actor, &endpoint_id)
        .await?)
}

/// A new signing secret; the old one signs too for 24 hours.
#[server(prefix = "/api", input = Json, endpoint = "rotate_webhook_secret")]
pub async fn rotate_webhook_secret(
    endpoint_id: WebhookEndpointId,
) -> Result<CreatedEndpoint, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .rotate_webhook_secret(&signed_in.actor, &endpoint_id)
        .await?)
}

/// Sends `webhook.test`, or the catalog's example of `event_type`, at once and answers with
/// the attempt.
#[server(prefix = "/api", input = Json, endpoint = "send_test_webhook")]
pub async fn send_test_webhook(
    endpoint_id: WebhookEndpointId,
    event_type: Option<String>,
) -> Result<AttemptView, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .send_test_webhook(&signed_in.actor, &endpoint_id, event_type.as_deref())
        .await?)
}

/// A page of an endpoint's delivery log, newest first.
#[server(prefix = "/api", input = Json, endpoint = "load_delivery_attempts")]
pub async fn load_delivery_attempts(
    endpoint_id: WebhookEndpointId,
    cursor: Option<String>,
) -> Result<Page<AttemptView>, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    let page = gatehouse_model::PageRequest {
        limit: Some(20),
        cursor,
    };
    Ok(gatehouse
        .list_delivery_attempts(&signed_in.actor, &endpoint_id, &page)
        .await?)
}

/// One event as the endpoint was sent it: the body and each attempt with its headers.
#[server(prefix = "/api", input = Json, endpoint = "load_webhook_message")]
pub async fn load_webhook_message(
    endpoint_id: WebhookEndpointId,
    event_id: EventId,
) -> Result<WebhookMessage, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    Ok(gatehouse
        .webhook_message(&signed_in.actor, &endpoint_id, &event_id)
        .await?)
}

/// Replays one event to an endpoint, or every event that failed there within the last
/// `failed_within_hours` (counted on the server's clock).
#[server(prefix = "/api", input = Json, endpoint = "replay_webhooks")]
pub async fn replay_webhooks(
    endpoint_id: WebhookEndpointId,
    event_id: Option<EventId>,
    failed_within_hours: Option<i64>,
) -> Result<ReplayOutcome, AppError> {
    let (gatehouse, signed_in) = ssr::signed_in().await?;
    let failed_since = failed_within_hours.map(|hours| {
        gatehouse_domain::time::from_ms(gatehouse.now_ms() - hours.clamp(0, 24 * 30) * 3_600_000)
    });
    let request = gatehouse_model::ReplayRequest {
        event_id,
        failed_since,
    };
    Ok(gatehouse
        .replay_webhooks(&signed_in.actor, &endpoint_id, &request)
        .await?)
}
