//! Dashboard users and their role in a tenant (owner, manager or member).

use gatehouse_model::{EventType, Role, TenantId, UserId};

use crate::audit::AuditRecord;
use crate::auth::{hash_password, validate_new_password};
use crate::error::DomainError;
use crate::ids;
use crate::operator::Operator;
use crate::text::normalize_email;

/// Length of a generated password (base62, about 119 bits).
const GENERATED_PASSWORD_LEN: usize = 20;

/// A user created by the operator, with the password to hand over.
#[derive(Debug)]
pub struct CreatedUser {
    pub user_id: UserId,
    pub email: String,
    /// The password: the one given, or a generated one.
    pub password: String,
    pub password_was_generated: bool,
}

impl Operator<'_> {
    /// Creates a user with a role in `tenant_id`; generates a password unless one is given.
    pub async fn create_user(
        &self,
        tenant_id: &TenantId,
        email: &str,
        role: Role,
        password: Option<String>,
    ) -> Result<CreatedUser, DomainError> {
        let email = normalize_email(email)?;
        let tenant = self.gatehouse.tenant(tenant_id).await?;
        let password_was_generated = password.is_none();
        let password = password.unwrap_or_else(|| ids::random_base62(GENERATED_PASSWORD_LEN));
        validate_new_password(&password)?;
        let password_hash = hash_password(&password).await?;
        let user_id = UserId::from_body(&ids::fresh_body());
        let mut change = self.gatehouse.begin_change().await?;
        let now = change.now_ms;
        let existing: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(change.connection())
            .await?;
        if existing.is_some() {
            return Err(DomainError::Conflict(format!(
                "A user with the email {email} already exists."
            )));
        }
        sqlx::query(
            "INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(user_id.as_str())
        .bind(&email)
        .bind(password_hash)
        .bind(now)
        .execute(change.connection())
        .await?;
        sqlx::query(
            "INSERT INTO memberships (user_id, tenant_id, role, selected_app_id, created_at)
             VALUES ($1, $2, $3, NULL, $4)",
        )
        .bind(user_id.as_str())
        .bind(tenant.id.as_str())
        .bind(role.as_str())
        .bind(now)
        .execute(change.connection())
        .await?;
        let record = AuditRecord {
            after: Some(serde_json::json!({ "email": email, "role": role.as_str() })),
            ..AuditRecord::by_system(
                &tenant.id,
                EventType::UserCreated,
                format!("User {email} added as {}", role.as_str()),
            )
        }
        .related("user_id", &user_id);
        change.audit(record).await?;
        change.commit().await?;
        Ok(CreatedUser {
            user_id,
            email,
            password,
            password_was_generated,
        })
    }
}
