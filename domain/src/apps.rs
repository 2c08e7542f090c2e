//! Apps: the integrations that keys and webhooks are bound to, their
//! allowed browser origins, and each user's selected app. People manage every app of
//! their tenant; an API key sees only its own app, and only a live key may change it
//! (its origins serve live traffic too, and live and test never mix).

use gatehouse_model::{
    AppId, AppInput, AppUpdate, AppView, AppsPage, EventType, FieldError, KeyMode, Page,
    PageRequest, TenantId,
};
use serde_json::json;
use sqlx::any::AnyRow;

use crate::access::Access;
use crate::actor::{Actor, Reach};
use crate::api_keys::validation::name_some;
use crate::audit::AuditRecord;
use crate::error::DomainError;
use crate::paging::Keyset;
use crate::stored::Stored;
use crate::text::TextRule;
use crate::{Gatehouse, ids, time};

pub const MAX_NAME_CHARS: usize = 80;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// An app's name and description.
pub const NAME: TextRule = TextRule::name("app", MAX_NAME_CHARS);
pub const DESCRIPTION: TextRule = TextRule::description(MAX_DESCRIPTION_CHARS);
pub const MAX_ORIGINS: usize = 20;

/// Checks one browser origin: exactly `scheme://host[:port]`, http or https, no path,
/// query, fragment or credentials. Returns it in the form browsers send (lower case,
/// an international name in its ASCII form, default port dropped), as the `url` crate
/// serializes an origin.
pub fn normalize_origin(origin: &str) -> Result<String, String> {
    let origin = origin.trim();
    let refuse = |why: &str| {
        Err(format!(
            "{} is not an origin: {why}",
            name_some(&[origin.to_owned()])
        ))
    };
    // What `url` would quietly accept or drop is refused here with its reason.
    let Some((scheme, rest)) = origin.split_once("://") else {
        return refuse("use scheme://host[:port], e.g. https://app.example.com");
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return refuse("the scheme must be http or https");
    }
    if rest.is_empty() {
        return refuse("the host is missing");
    }
    if rest.contains(['/', '\\', '?', '#']) {
        return refuse("an origin has no path, query or fragment (remove the trailing part)");
    }
    if rest.contains('@') {
        return refuse("an origin has no user name or password");
    }
    let url = match url::Url::parse(origin) {
        Ok(url) => url,
        Err(url::ParseError::InvalidPort) => {
            return refuse("the port must be a number from 1 to 65535");
        }
        Err(_) => return refuse("the host name is not valid"),
    };
    if url.port() == Some(0) {
        return refuse("the port must be a number from 1 to 65535");
    }
    match url.origin() {
        origin @ url::Origin::Tuple(..) => Ok(origin.ascii_serialization()),
        url::Origin::Opaque(_) => refuse("the host name is not valid"),
    }
}

/// Validates and normalizes what a user typed for an app; every problem is reported
/// against its field at once.
pub fn validate_app_input(input: &AppInput) -> Result<AppInput, DomainError> {
    let mut problems = Vec::new();
    let name = NAME.check(&input.name).unwrap_or_else(|message| {
        problems.push(field_error("name", &message));
        String::new()
    });
    let description = DESCRIPTION
        .check(&input.description)
        .unwrap_or_else(|message| {
            problems.push(field_error("description", &message));
            String::new()
        });
    let mut origins: Vec<String> = Vec::new();
    let typed: Vec<&String> = input
        .allowed_origins
        .iter()
        .filter(|line| !line.trim().is_empty())
        .collect();
    if typed.len() > MAX_ORIGINS {
        problems.push(field_error(
            "allowed_origins",
            &format!(
                "List at most {MAX_ORIGINS} origins ({} were sent).",
                typed.len()
            ),
        ));
    } else {
        let mut origin_problems = Vec::new();
        let mut repeated = Vec::new();
        for typed in typed {
            match normalize_origin(typed) {
                Ok(origin) if origins.contains(&origin) => repeated.push(origin),
                Ok(origin) => origins.push(origin),
                Err(message) => origin_problems.push(message),
            }
        }
        if !repeated.is_empty() {
            origin_problems.push(format!("listed twice: {}", name_some(&repeated)));
        }
        if !origin_problems.is_empty() {
            problems.push(field_error(
                "allowed_origins",
                &format!("{}.", origin_problems.join("; ")),
            ));
        }
    }
    if problems.is_empty() {
        Ok(AppInput {
            name,
            description,
            allowed_origins: origins,
        })
    } else {
        Err(DomainError::Validation(problems))
    }
}

fn field_error(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

fn app_from_row(row: &AnyRow) -> Result<AppView, DomainError> {
    let stored = Stored::new(row, "app");
    Ok(AppView {
        id: stored.parsed("id", |id| AppId::parse(id).ok())?,
        name: stored.get("name")?,
        description: stored.get("description")?,
        allowed_origins: stored.json("allowed_origins")?,
        test_tenant_id: stored.parsed("test_tenant_id", |id| TenantId::parse(id).ok())?,
        created_at: stored.time("created_at")?,
        updated_at: stored.time("updated_at")?,
    })
}

const APP_COLUMNS: &str =
    "id, name, description, allowed_origins, test_tenant_id, created_at, updated_at";

fn audit_state(app: &AppView) -> serde_json::Value {
    json!({ "name": app.name, "description": app.description, "allowed_origins": app.allowed_origins })
}

impl Gatehouse {
    /// Creates an app in the actor's tenant, linked to its shadow test tenant. The
    /// user's first app becomes their selected app. API keys cannot create apps: a key
    /// belongs to one app and acts only there.
    pub async fn create_app(
        &self,
        actor: &Actor,
        input: &AppInput,
    ) -> Result<AppView, DomainError> {
        actor.require(Access::APPS_WRITE)?;
        if actor.api_key().is_some() {
            return Err(DomainError::CredentialNotAllowed(
                "An API key acts only within its own app: create apps in the dashboard.",
            ));
        }
        let input = validate_app_input(input)?;
        let tenant = self.tenant(&actor.tenant_id).await?;
        let id = AppId::from_body(&ids::fresh_body());
        let (_, actor_id, actor_label) = actor.audit_identity();
        let changed_by = actor_id.unwrap_or(actor_label);
        let mut change = self.begin_change().await?;
        let now = change.now_ms;
        let apps = change.lock_tenant_and_count(&tenant.id, "apps").await?;
        if apps >= tenant.caps.max_apps {
            return Err(DomainError::LimitReached(format!(
                "This workspace has at most {} apps: delete one first, or ask for more.",
                tenant.caps.max_apps
            )));
        }
        sqlx::query(
            "INSERT INTO apps (id, tenant_id, test_tenant_id, name, description, allowed_origins,
                created_at, created_by, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $8)",
        )
        .bind(id.as_str())
        .bind(tenant.id.as_str())
        .bind(tenant.test_tenant_id.as_str())
        .bind(&input.name)
        .bind(&input.description)
        .bind(json!(input.allowed_origins).to_string())
        .bind(now)
        .bind(&changed_by)
        .execute(change.connection())
        .await?;
        if let Some(user_id) = actor.user_id() {
            sqlx::query(
                "UPDATE memberships SET selected_app_id = $1
                 WHERE user_id = $2 AND tenant_id = $3 AND selected_app_id IS NULL",
            )
            .bind(id.as_str())
            .bind(user_id.as_str())
            .bind(tenant.id.as_str())
            .execute(change.connection())
            .await?;
        }
        let app = AppView {
            id: id.clone(),
            name: input.name.clone(),
            description: input.description.clone(),
            allowed_origins: input.allowed_origins.clone(),
            test_tenant_id: tenant.test_tenant_id.clone(),
            created_at: time::from_ms(now),
            updated_at: time::from_ms(now),
        };
        // App changes belong to the live side: only people and live keys make them.
        let record = AuditRecord {
            after: Some(audit_state(&app)),
            ..AuditRecord::by(
                actor,
                EventType::AppCreated,
                format!("App {} created", app.name),
            )
        }
        .in_app(&id, KeyMode::Live);
        change.audit(record).await?;
        change.app_changed(&id);
        change.commit().await?;
        Ok(app)
    }

    /// Changes an app's name, description and allowed origins; fields left out keep
    /// their value. A key may change only its own app, and only a live key.
    pub async fn update_app(
        &self,
        actor: &Actor,
        app_id: &AppId,
        update: &AppUpdate,
    ) -> Result<AppView, DomainError> {
        actor.require(Access::APPS_WRITE)?;
        let before = self.app(actor, app_id).await?;
        if actor.api_key().is_some_and(|own| own.mode == KeyMode::Test) {
            return Err(DomainError::CredentialNotAllowed(
                "A test-mode key cannot change its app: the app's settings serve live traffic too.",
            ));
        }
        let input = validate_app_input(&AppInput {
            name: update.name.clone().unwrap_or_else(|| before.name.clone()),
            description: update
                .description
                .clone()
                .unwrap_or_else(|| before.description.clone()),
            allowed_origins: update
                .allowed_origins
                .clone()
                .unwrap_or_else(|| before.allowed_origins.clone()),
        })?;
        let (_, actor_id, actor_label) = actor.audit_identity();
        let mut change = self.begin_change().await?;
        let now = change.now_ms;
        let updated = sqlx::query(
            "UPDATE apps SET name = $1, description = $2, allowed_origins = $3, updated_at = $4,
                updated_by = $5
             WHERE id = $6 AND tenant_id = $7",
        )
        .bind(&input.name)
        .bind(&input.description)
        .bind(json!(input.allowed_origins).to_string())
        .bind(now)
        .bind(actor_id.unwrap_or(actor_label))
        .bind(app_id.as_str())
        .bind(actor.tenant_id.as_str())
        .execute(change.connection())
        .await?;
        if updated.rows_affected() == 0 {
            return Err(DomainError::NotFound("app"));
        }
        let after = AppView {
            name: input.name,
            description: input.description,
            allowed_origins: input.allowed_origins,
            updated_at: time::from_ms(now),
            ..before.clone()
        };
        let record = AuditRecord {
            before: Some(audit_state(&before)),
            after: Some(audit_state(&after)),
            ..AuditRecord::by(
                actor,
                EventType::AppUpdated,
                format!("App {} updated", after.name),
            )
        }
        .in_app(app_id, KeyMode::Live);
        change.audit(record).await?;
        change.app_changed(app_id);
        change.commit().await?;
        Ok(after)
    }

    /// One app of the actor's tenant; another tenant's id is "not found".
    pub async fn app(&self, actor: &Actor, app_id: &AppId) -> Result<AppView, DomainError> {
        actor.require(Access::APPS_READ)?;
        actor.reach().require_app(app_id)?;
        self.find_app(&actor.tenant_id, app_id).await
    }

    /// The app and mode a read of one mode's data covers: a key's own (another app is
    /// "not found", the other mode a field error naming `what`); people choose, every
    /// app when they name none, live unless they ask for test.
    pub(crate) async fn confined_app_and_mode(
        &self,
        actor: &Actor,
        asked_app: Option<&AppId>,
        asked_mode: Option<KeyMode>,
        what: &str,
    ) -> Result<(KeyMode, Option<AppId>), DomainError> {
        let reach = actor.reach();
        let mode = reach.mode(asked_mode, what)?;
        if let Some(app_id) = asked_app {
            reach.require_app(app_id)?;
            if reach == Reach::Tenant {
                self.find_app(&actor.tenant_id, app_id).await?;
            }
        }
        let app_id = asked_app
            .cloned()
            .or_else(|| reach.own().map(|(own, _)| own.clone()));
        Ok((mode, app_id))
    }

    /// An app of `tenant_id`, for operations that checked their own access already.
    pub(crate) async fn find_app(
        &self,
        tenant_id: &TenantId,
        app_id: &AppId,
    ) -> Result<AppView, DomainError> {
        let row = sqlx::query(&format!(
            "SELECT {APP_COLUMNS} FROM apps WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(app_id.as_str())
        .bind(tenant_id.as_str())
        .fetch_optional(self.db().pool())
        .await?
        .ok_or(DomainError::NotFound("app"))?;
        app_from_row(&row)
    }

    /// The actor's tenant's apps, oldest first, a page at a time; a key lists only its
    /// own app.
    pub async fn list_apps(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<AppView>, DomainError> {
        actor.require(Access::APPS_READ)?;
        let keyset = Keyset::from_request(page, |cursor| AppId::parse(cursor).is_ok())?;
        let rows = sqlx::query(&format!(
            "SELECT {APP_COLUMNS} FROM apps
             WHERE tenant_id = $1 AND ($2 = '' OR id = $2) AND id > $3
             ORDER BY id LIMIT $4"
        ))
        .bind(actor.tenant_id.as_str())
        .bind(actor.reach().app_bind())
        .bind(keyset.after.clone().unwrap_or_default())
        .bind(keyset.rows_to_read())
        .fetch_all(self.db().pool())
        .await?;
        let apps = rows
            .iter()
            .map(app_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(keyset.page(apps, |app| app.id.to_string()))
    }

    /// The Apps tab: the list and the user's selection.
    pub async fn apps_page(&self, actor: &Actor) -> Result<AppsPage, DomainError> {
        let apps = self.list_apps(actor, &PageRequest::default()).await?.data;
        let selected_app_id = self.selected_app_id(actor).await?;
        Ok(AppsPage {
            apps,
            selected_app_id,
        })
    }

    /// The app the user selected, if it still exists in the tenant.
    pub async fn selected_app_id(&self, actor: &Actor) -> Result<Option<AppId>, DomainError> {
        let Some(user_id) = actor.user_id() else {
            return Ok(None);
        };
        let selected: Option<(String,)> = sqlx::query_as(
            "SELECT a.id FROM memberships m JOIN apps a ON a.id = m.selected_app_id AND a.tenant_id = m.tenant_id
             WHERE m.user_id = $1 AND m.tenant_id = $2",
        )
        .bind(user_id.as_str())
        .bind(actor.tenant_id.as_str())
        .fetch_optional(self.db().pool())
        .await?;
        Ok(selected.and_then(|(id,)| AppId::parse(&id).ok()))
    }

    /// Remembers the user's selected app.
    pub async fn select_app(&self, actor: &Actor, app_id: &AppId) -> Result<AppView, DomainError> {
        let app = self.app(actor, app_id).await?;
        let user_id = actor.user_id().ok_or(DomainError::Unauthenticated)?;
        sqlx::query(
            "UPDATE memberships SET selected_app_id = $1 WHERE user_id = $2 AND tenant_id = $3",
        )
        .bind(app_id.as_str())
        .bind(user_id.as_str())
        .bind(actor.tenant_id.as_str())
        .execute(self.db().writer())
        .await?;
        Ok(app)
    }

    /// How many apps the tenant has.
    pub async fn app_count(&self, tenant_id: &TenantId) -> Result<i64, DomainError> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM apps WHERE tenant_id = $1")
            .bind(tenant_id.as_str())
            .fetch_one(self.db().pool())
            .await?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(typed: &str, expected: Result<&str, &str>) {
        match (normalize_origin(typed), expected) {
            (Ok(origin), Ok(want)) => assert_eq!(origin, want, "{typed}"),
            (Err(message), Err(fragment)) => {
                assert!(message.contains(fragment), "{typed}: {message}")
            }
            (got, want) => panic!("{typed}: got {got:?}, wanted {want:?}"),
        }
    }

    #[test]
    fn origins_are_exact_scheme_host_port() {
        check("https://app.example.com", Ok("https://app.example.com"));
        check(
            " HTTPS://App.Example.com:8443 ",
            Ok("https://app.example.com:8443"),
        );
        check("https://app.example.com:443", Ok("https://app.example.com"));
        check("http://localhost:3000", Ok("http://localhost:3000"));
        check("http://[::1]:8080", Ok("http://[::1]:8080"));
        check("https://app.example.com/", Err("no path"));
        check("https://app.example.com/callback", Err("no path"));
        check("app.example.com", Err("scheme://host"));
        check("ftp://app.example.com", Err("http or https"));
        check("https://user@app.example.com", Err("user name"));
        check("https://app.example.com:99999", Err("port"));
        check("https://exa mple.com", Err("host name"));
        check("https://", Err("host is missing"));
        check(
            "https://bücher.example",
            Ok("https://xn--bcher-kva.example"),
        );
        check("http://127.0.0.1:0", Err("port"));
    }

    #[test]
    fn app_input_reports_every_field() {
        let input = AppInput {
            name: "  ".into(),
            description: "x".repeat(501),
            allowed_origins: vec!["https://ok.example.com".into(), "nope".into(), "".into()],
        };
        let Err(DomainError::Validation(fields)) = validate_app_input(&input) else {
            panic!("expected a validation error")
        };
        let names: Vec<_> = fields.iter().map(|field| field.field.as_str()).collect();
        assert_eq!(names, ["name", "description", "allowed_origins"]);
    }

    #[test]
    fn duplicate_origins_are_refused_after_normalizing() {
        let input = AppInput {
            name: "Checkout".into(),
            description: String::new(),
            allowed_origins: vec![
                "https://a.example.com".into(),
                "https://A.example.com:443".into(),
            ],
        };
        assert!(validate_app_input(&input).is_err());
    }
}
