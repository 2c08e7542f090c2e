//! People the SaaS provisions in a tenant: added or updated by email, listed, removed.
//! A person the SaaS adds has no password of their own (they come in by sign-in
//! links); a role change and a removal hold from their next request, because a
//! session reads its membership on every request.

use gatehouse_model::{
    EventType, OperatorScope, Page, PageRequest, PersonInput, PersonView, Role, TenantId, UserId,
};

use super::Operator;
use crate::actor::Actor;
use crate::audit::AuditRecord;
use crate::change::Change;
use crate::error::DomainError;
use crate::paging::Keyset;
use crate::stored::Stored;
use crate::text::{TextRule, normalize_email};
use crate::{ids, time};

/// The stored password hash of a person who has none: it never matches (see
/// `auth::password`, which checks it against the dummy hash, so its timing tells
/// nothing).
pub(crate) const NO_PASSWORD: &str = "!";

/// A person as the SaaS describes them, checked.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub email: String,
    /// `None` keeps the name a known person has.
    pub name: Option<String>,
    pub role: Role,
}

impl Person {
    pub fn checked(email: &str, name: Option<&str>, role: Role) -> Result<Self, DomainError> {
        let email = normalize_email(email)?;
        let name = match name {
            Some(name) => Some(
                TextRule::description(120)
                    .check(name)
                    .map_err(|message| DomainError::field("name", message))?,
            ),
            None => None,
        };
        Ok(Self { email, name, role })
    }
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upserted {
    /// The person was not in the tenant before.
    Added,
    /// The person was, and their name or role changed.
    Changed,
    /// The person was, as they are now.
    Unchanged,
}

/// Adds `person` to `tenant_id` or brings their name and role up to date, in `change`,
/// audited as `actor`.
pub(crate) async fn upsert_person(
    change: &mut Change<'_>,
    actor: &Actor,
    tenant_id: &TenantId,
    person: &Person,
) -> Result<(PersonView, Upserted), DomainError> {
    let now = change.now_ms;
    let fresh_id = UserId::from_body(&ids::fresh_body());
    sqlx::query(
        "INSERT INTO users (id, email, password_hash, created_at, name)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING",
    )
    .bind(fresh_id.as_str())
    .bind(&person.email)
    .bind(NO_PASSWORD)
    .bind(now)
    .bind(person.name.clone().unwrap_or_default())
    .execute(change.connection())
    .await?;
    let (user_id, name_before): (String, String) =
        sqlx::query_as("SELECT id, name FROM users WHERE email = $1")
            .bind(&person.email)
            .fetch_one(change.connection())
            .await?;
    let user_id = crate::stored::parsed("user", "id", &user_id, |id| UserId::parse(id).ok())?;
    let name = person.name.clone().unwrap_or_else(|| name_before.clone());
    if name != name_before {
        sqlx::query("UPDATE users SET name = $1 WHERE id = $2")
            .bind(&name)
            .bind(user_id.as_str())
            .execute(change.connection())
            .await?;
    }
    let membership: Option<(String, i64)> = sqlx::query_as(
        "SELECT role, created_at FROM memberships WHERE user_id = $1 AND tenant_id = $2",
    )
    .bind(user_id.as_str())
    .bind(tenant_id.as_str())
    .fetch_optional(change.connection())
    .await?;
    let (upserted, added_at) = match membership {
        None => {
            sqlx::query(
                "INSERT INTO memberships (user_id, tenant_id, role, selected_app_id, created_at)
                 VALUES ($1, $2, $3, NULL, $4)",
            )
            .bind(user_id.as_str())
            .bind(tenant_id.as_str())
            .bind(person.role.as_str())
            .bind(now)
            .execute(change.connection())
            .await?;
            let record = AuditRecord {
                after: Some(serde_json::json!({
                    "email": person.email, "name": name, "role": person.role.as_str()
                })),
                ..AuditRecord::by(
                    actor,
                    EventType::UserCreated,
                    format!("{} added as {}", person.email, person.role.as_str()),
                )
            }
            .related("user_id", &user_id);
            change.audit(record).await?;
            (Upserted::Added, now)
        }
        Some((role_before, added_at)) => {
            let role_before =
                crate::stored::parsed("membership", "role", &role_before, Role::parse)?;
            if role_before == person.role && name == name_before {
                (Upserted::Unchanged, added_at)
            } else {
                sqlx::query(
                    "UPDATE memberships SET role = $1 WHERE user_id = $2 AND tenant_id = $3",
                )
                .bind(person.role.as_str())
                .bind(user_id.as_str())
                .bind(tenant_id.as_str())
                .execute(change.connection())
                .await?;
                let record = AuditRecord {
                    before: Some(serde_json::json!({
                        "name": name_before, "role": role_before.as_str()
                    })),
                    after: Some(serde_json::json!({
                        "name": name, "role": person.role.as_str()
                    })),
                    ..AuditRecord::by(
                        actor,
                        EventType::UserUpdated,
                        format!("{} updated", person.email),
                    )
                }
                .related("user_id", &user_id);
                change.audit(record).await?;
                (Upserted::Changed, added_at)
            }
        }
    };
    Ok((
        PersonView {
            id: user_id,
            email: person.email.clone(),
            name,
            role: person.role,
            added_at: time::from_ms(added_at),
        },
        upserted,
    ))
}

/// A person added or updated by the operator, and whether they are new to the tenant.
#[derive(Debug, Clone)]
pub struct UpsertedPerson {
    pub person: PersonView,
    pub added: bool,
}

impl Operator<'_> {
    /// Adds a person to a tenant by email, or brings their name and role up to date.
    pub async fn upsert_person(
        &self,
        tenant_id: &TenantId,
        input: &PersonInput,
    ) -> Result<UpsertedPerson, DomainError> {
        self.require(OperatorScope::PeopleWrite)?;
        let person = Person::checked(&input.email, input.name.as_deref(), input.role)?;
        let tenant = self.gatehouse.tenant(tenant_id).await?;
        let mut change = self.gatehouse.begin_change().await?;
        let (person, upserted) =
            upsert_person(&mut change, &self.actor_in(&tenant.id), &tenant.id, &person).await?;
        if upserted == Upserted::Unchanged {
            // Nothing changed, so nothing is recorded.
            drop(change);
        } else {
            change.commit().await?;
        }
        Ok(UpsertedPerson {
            person,
            added: upserted == Upserted::Added,
        })
    }

    /// The tenant's people, a page at a time.
    pub async fn list_people(
        &self,
        tenant_id: &TenantId,
        page: &PageRequest,
    ) -> Result<Page<PersonView>, DomainError> {
        self.require(OperatorScope::TenantsRead)?;
        let tenant = self.gatehouse.tenant(tenant_id).await?;
        let keyset = Keyset::from_request(page, |cursor| UserId::parse(cursor).is_ok())?;
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.name, m.role, m.created_at
             FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.tenant_id = $1 AND u.id > $2 ORDER BY u.id LIMIT $3",
        )
        .bind(tenant.id.as_str())
        .bind(keyset.after.clone().unwrap_or_default())
        .bind(keyset.rows_to_read())
        .fetch_all(self.gatehouse.db().pool())
        .await?;
        let people = rows
            .iter()
            .map(|row| {
                let stored = Stored::new(row, "person");
                Ok(PersonView {
                    id: stored.parsed("id", |id| UserId::parse(id).ok())?,
                    email: stored.get("email")?,
                    name: stored.get("name")?,
                    role: stored.parsed("role", Role::parse)?,
                    added_at: stored.time("created_at")?,
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        Ok(keyset.page(people, |person| person.id.to_string()))
    }

    /// Removes a person from a tenant: their sessions there end at once.
    pub async fn remove_person(
        &self,
        tenant_id: &TenantId,
        user_id: &UserId,
    ) -> Result<(), DomainError> {
        self.require(OperatorScope::PeopleWrite)?;
        let tenant = self.gatehouse.tenant(tenant_id).await?;
        let mut change = self.gatehouse.begin_change().await?;
        let email: Option<(String,)> = sqlx::query_as(
            "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.user_id = $1 AND m.tenant_id = $2",
        )
        .bind(user_id.as_str())
        .bind(tenant.id.as_str())
        .fetch_optional(change.connection())
        .await?;
        let (email,) = email.ok_or(DomainError::NotFound("person"))?;
        for statement in [
            "DELETE FROM sessions WHERE user_id = $1 AND tenant_id = $2",
            "DELETE FROM setup_guide_dismissals WHERE user_id = $1 AND tenant_id = $2",
            "DELETE FROM alert_preferences WHERE user_id = $1 AND tenant_id = $2",
            // Alerts not yet mailed are no longer theirs to receive.
            "DELETE FROM alert_recipients WHERE user_id = $1 AND mail_state = 'pending'
                AND alert_id IN (SELECT id FROM alerts WHERE tenant_id = $2)",
            "DELETE FROM memberships WHERE user_id = $1 AND tenant_id = $2",
        ] {
            sqlx::query(statement)
                .bind(user_id.as_str())
                .bind(tenant.id.as_str())
                .execute(change.connection())
                .await?;
        }
        let record = AuditRecord::by(
            &self.actor_in(&tenant.id),
            EventType::UserRemoved,
            format!("{email} removed"),
        )
        .related("user_id", user_id);
        change.audit(record).await?;
        change.commit().await
    }
}
