//! `/operator/v1`: the SaaS's backend provisions tenants and people, asks for one-time
//! sign-in links and posts events for a tenant, with an operator token
//! (`Authorization: Bearer op_…`). A tenant's key never works here, and an operator
//! token never works on `/v1`. No CORS: browsers never hold operator tokens. Thin
//! handlers over `gatehouse_domain::operator`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header::AUTHORIZATION};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use gatehouse_domain::operator::OperatorPrincipal;
use gatehouse_model::{
    EventView, OperatorEventInput, OperatorTenantInput, OperatorTenantQuery, OperatorTenantUpdate,
    OperatorTenantView, Page, PageRequest, PersonInput, PersonView, SignInLinkInput,
    SignInLinkView, TenantId, TenantPurgeView, UserId,
};

use crate::error::{ApiError, ApiQuery, PathId, created_or_replayed, idempotency_key, json_body};
use crate::state::AppState;

/// The scheme name handlers write in `security(("operator_token" = ["tenants:read"]))`.
pub const OPERATOR_TOKEN: &str = "operator_token";

/// The operator routes, behind the operator token check.
pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(create_tenant, list_tenants))
        .routes(routes!(get_tenant, update_tenant, delete_tenant))
        .routes(routes!(get_purge))
        .routes(routes!(upsert_person, list_people))
        .routes(routes!(remove_person))
        .routes(routes!(create_sign_in_link))
        .routes(routes!(send_tenant_event))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ))
}

/// The token from `Authorization: Bearer <token>`, if one was sent.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Checks the operator token on every call (a revoked one fails at once) and hands the
/// principal to the handler.
async fn authenticate(
    State(state): State<AppState>,
    mut request: Request<Body>,
    next: Next,
) -> Response {
    match state
        .gatehouse
        .authenticate_operator(bearer(request.headers()))
        .await
    {
        Ok(principal) => {
            request.extensions_mut().insert(Arc::new(principal));
            next.run(request).await
        }
        Err(refused) => ApiError::from(refused).into_response(),
    }
}

type Principal = Extension<Arc<OperatorPrincipal>>;
type ApiResult<T> = Result<Json<T>, ApiError>;

fn operator<'s>(
    state: &'s AppState,
    principal: &OperatorPrincipal,
) -> gatehouse_domain::operator::Operator<'s> {
    state.gatehouse.operator_with(principal.clone())
}

/// Create a tenant
///
/// A tenant for one of your accounts, with its shadow test tenant. `external_id` is your
/// account's id and is unique. With an `Idempotency-Key`, a retry within 24 hours
/// answers the first tenant (`Idempotent-Replayed: true`); the same key with another body
/// answers 409 `idempotency_key_reused`.
#[utoipa::path(post, path = "/operator/v1/tenants", tag = "Operator",
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Makes retries safe: the same key and body within 24 hours answer the first tenant.")),
    request_body(content = OperatorTenantInput, example = json!({
        "name": "Acme Inc", "external_id": "acct_1042", "plan": "pro"
    })),
    security(("operator_token" = ["tenants:write"])),
    extensions(("x-error-codes" = json!(["validation_failed", "conflict", "idempotency_key_reused"]))),
    responses(
        (status = 201, description = "The new tenant.", body = OperatorTenantView),
        (status = 200, description = "An idempotent replay: the first tenant made with this key.",
            body = OperatorTenantView,
            headers(("Idempotent-Replayed" = String, description = "`true`"))),
    ))]
async fn create_tenant(
    State(state): State<AppState>,
    Extension(principal): Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: OperatorTenantInput = json_body(&body)?;
    let created = operator(&state, &principal)
        .create_tenant_for_account(&input, idempotency_key(&headers)?)
        .await?;
    Ok(created_or_replayed(created.replayed, created.tenant))
}

/// List tenants
///
/// Tenants in the order they were made; `external_id` finds the one tenant of your
/// account.
#[utoipa::path(get, path = "/operator/v1/tenants", tag = "Operator", params(OperatorTenantQuery),
    security(("operator_token" = ["tenants:read"])),
    responses((status = 200, description = "A page of tenants.", body = Page<OperatorTenantView>)))]
async fn list_tenants(
    State(state): State<AppState>,
    Extension(principal): Principal,
    ApiQuery(query): ApiQuery<OperatorTenantQuery>,
) -> ApiResult<Page<OperatorTenantView>> {
    Ok(Json(
        operator(&state, &principal).list_tenants(&query).await?,
    ))
}

/// Get a tenant
#[utoipa::path(get, path = "/operator/v1/tenants/{id}", tag = "Operator",
    params(("id" = TenantId, Path)),
    security(("operator_token" = ["tenants:read"])),
    responses((status = 200, description = "The tenant.", body = OperatorTenantView)))]
async fn get_tenant(
    State(state): State<AppState>,
    Extension(principal): Principal,
    PathId(id): PathId<TenantId>,
) -> ApiResult<OperatorTenantView> {
    Ok(Json(operator(&state, &principal).tenant(&id).await?))
}

/// Update a tenant
///
/// Only the fields sent change: name, plan, modules, subscription state, monthly limit.
/// Every running instance honours the change within a second.
#[utoipa::path(patch, path = "/operator/v1/tenants/{id}", tag = "Operator",
    params(("id" = TenantId, Path)),
    request_body(content = OperatorTenantUpdate, example = json!({ "plan": "enterprise" })),
    security(("operator_token" = ["tenants:write"])),
    extensions(("x-error-codes" = json!(["validation_failed"]))),
    responses((status = 200, description = "The tenant as changed.", body = OperatorTenantView)))]
async fn update_tenant(
    State(state): State<AppState>,
    Extension(principal): Principal,
    PathId(id): PathId<TenantId>,
    body: Bytes,
) -> ApiResult<OperatorTenantView> {
    let update: OperatorTenantUpdate = json_body(&body)?;
    Ok(Json(
        operator(&state, &principal)
            .change_tenant(&id, &update)
            .await?,
    ))
}

/// Delete a tenant
///
/// Deletes the tenant and its shadow test tenant with everything they hold. From this
/// answer on, their keys are refused and their deliveries stop; the rows are then
/// purged in the background, in bounded batches that resume after a restart. The
/// answer is the purge's record, with rows removed per table; follow it at
/// `GET /operator/v1/tenants/{id}/purge`.
#[utoipa::path(delete, path = "/operator/v1/tenants/{id}", tag = "Operator",
    params(("id" = TenantId, Path)),
    security(("operator_token" = ["tenants:delete"])),
    responses((status = 202, description = "The purge, started.", body = TenantPurgeView)))]
async fn delete_tenant(
    State(state): State<AppState>,
    Extension(principal): Principal,
    PathId(id): PathId<TenantId>,
) -> Result<(StatusCode, Json<TenantPurgeView>), ApiError> {
    let purge = operator(&state, &principal).delete_tenant(&id).await?;
    Ok((StatusCode::ACCEPTED, Json(purge)))
}

/// Get a tenant's purge
///
/// The record of a deleted tenant's purge, which outlives the tenant: running or
/// finished, who asked, and the rows removed per table.
#[utoipa::path(get, path = "/operator/v1/tenants/{id}/purge", tag = "Operator",
    params(("id" = TenantId, Path)),
    security(("operator_token" = ["tenants:read"])),
    responses((status = 200, description = "The purge.", body = TenantPurgeView)))]
async fn get_purge(
    State(state): State<AppState>,
    Extension(principal): Principal,
    PathId(id): PathId<TenantId>,
) -> ApiResult<TenantPurgeView> {
    Ok(Json(operator(&state, &principal).purge(&id).await?))
}

/// Add or update a person
///
/// By email: a person new to the tenant is added (201), a known one gets the name and
/// role sent (200). A role change holds from the person's next request.
#[utoipa::path(post, path = "/operator/v1/tenants/{id}/people", tag = "Operator",
    params(("id" = TenantId, Path)),
    request_body(content = PersonInput, example = json!({
        "email": "dev@acme.example", "name": "Dana Developer", "role": "manager"
    })),
    security(("operator_token" = ["people:write"])),
    extensions(("x-error-codes" = json!(["validation_failed"]))),
    responses(
        (status = 201, description = "The person, new to the tenant.", body = PersonView),
        (status = 200, description = "The person, updated.", body = PersonView),
    ))]
async fn upsert_person(
    State(state): State<AppState>,
    Extension(principal): Principal,
    PathId(id): PathId<TenantId>,
    body: Bytes,
) -> Result<(StatusCode, Json<PersonView>), ApiError> {
    let input: PersonInput = json_body(&body)?;
    let upserted = operator(&state, &principal)
        .upsert_person(&id, &input)
        .await?;
    let status = if upserted.added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(upserted.person)))
}

/// List people
#[utoipa::path(get, path = "/operator/v1/tenants/{id}/people", tag = "Operator",
    params(("id" = TenantId, Path), PageRequest),
    security(("operator_token" = ["tenants:read"])),
    responses((status = 200, description = "A page of the tenant's people.", body = Page<PersonView>)))]
async fn list_people(
    State(state): State<AppState>,
    Extension(principal): Principal,
    PathId(id): PathId<TenantId>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> ApiResult<Page<PersonView>> {
    Ok(Json(
        operator(&state, &principal).list_people(&id, &page).await?,
    ))
}

/// Remove a person
///
/// The person's sessions in the tenant end at once.
#[utoipa::path(delete, path = "/operator/v1/tenants/{id}/people/{person_id}", tag = "Operator",
    params(("id" = TenantId, Path), ("person_id" = UserId, Path)),
    security(("operator_token" = ["people:write"])),
    responses((status = 204, description = "Removed.")))]
async fn remove_person(
    State(state): State<AppState>,
    Extension(principal): Principal,
    crate::error::PathIds(id, person_id): crate::error::PathIds<TenantId, UserId>,
) -> Result<StatusCode, ApiError> {
    operator(&state, &principal)
        .remove_person(&id, &person_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create a sign-in link
///
/// A one-time link that signs a person of your SaaS into this tenant's workspace without
/// a password: opening it adds or updates the person, starts a session and lands on
/// `path`. It works once, within `ttl_seconds` (60 by default, 600 at most). Hand it to
/// the person's browser, or frame it, at once; never log it.
#[utoipa::path(post, path = "/operator/v1/tenants/{id}/sign-in-links", tag = "Operator",
    params(("id" = TenantId, Path)),
    request_body(content = SignInLinkInput, example = json!({
        "email": "dev@acme.example", "name": "Dana Developer", "role": "manager",
        "path": "/settings/developers/api-keys", "ttl_seconds": 60
    })),
    security(("operator_token" = ["sign_in_links:create"])),
    extensions(("x-error-codes" = json!(["validation_failed"]))),
    responses((status = 201, description = "The link and when it stops working.", body = SignInLinkView)))]
async fn create_sign_in_link(
    State(state): State<AppState>,
    Extension(principal): Principal,
    PathId(id): PathId<TenantId>,
    body: Bytes,
) -> Result<(StatusCode, Json<SignInLinkView>), ApiError> {
    let input: SignInLinkInput = json_body(&body)?;
    let link = operator(&state, &principal)
        .create_sign_in_link(&id, &input)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SignInLinkView {
            url: format!("{}{}", state.dashboard_url, link.path),
            expires_at: gatehouse_domain::time::from_ms(link.expires_at_ms),
        }),
    ))
}

/// Send an event for a tenant
///
/// An event of one of the tenant's apps (live unless `mode` says test), without that
/// tenant's key: the same rules, idempotency and fan-out as `POST /v1/events`.
#[utoipa::path(post, path = "/operator/v1/tenants/{id}/events", tag = "Operator",
    params(("id" = TenantId, Path),
        ("Idempotency-Key" = Option<String>, Header,
            description = "Makes retries safe: the same key within 24 hours answers the first event.")),
    request_body(content = OperatorEventInput, example = json!({
        "app_id": "app_01jqz8n3k4m5p6q7r8s9t0v1w2", "type": "invoice.paid",
        "data": { "id": "in_123", "amount": 4200 }
    })),
    security(("operator_token" = ["events:write"])),
    extensions(("x-error-codes" = json!(["validation_failed"]))),
    responses(
        (status = 201, description = "The event, stored with its deliveries.", body = EventView),
        (status = 200, description = "An idempotent replay: the first event with this `Idempotency-Key`.",
            body = EventView,
            headers(("Idempotent-Replayed" = String, description = "`true`"))),
    ))]
async fn send_tenant_event(
    State(state): State<AppState>,
    Extension(principal): Principal,
    PathId(id): PathId<TenantId>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: OperatorEventInput = json_body(&body)?;
    let sent = operator(&state, &principal)
        .send_event(&id, &input, idempotency_key(&headers)?)
        .await?;
    Ok(created_or_replayed(sent.replayed, sent.event))
}
