//! The append-only audit trail: every change writes its events in the
//! same transaction as the change itself (through `change::Change`), and the trail is
//! searched here, the one place for that rule. The tables' triggers refuse UPDATE and
//! DELETE (and TRUNCATE on PostgreSQL).
//!
//! Search: by event type, actor, related id and a half-open time range, newest first
//! (`occurred_at`, then id), a keyset page at a time. People see their whole tenant; an
//! API key sees only the events of its own app and mode (app changes count as live).
//! The related id of an event is its app or any value of its `related_ids`; each is
//! copied into `audit_event_refs` when the event is written, so that a search by id
//! reads an index rather than scanning JSON. The SaaS's own ids reach the trail through
//! the events it sends: `POST /v1/events` records an `event.sent` event related to
//! the event's id and to the `id` and `…_id` fields at the top of its data.

use std::collections::BTreeMap;

use gatehouse_model::{
    ActorType, ApiKeyId, AppId, AuditEventId, AuditEventView, AuditFilter, EventType, KeyMode,
    Page, PageRequest, TenantId, UserId,
};
use serde_json::Value;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::access::Access;
use crate::actor::Actor;
use crate::db::Placeholders;
use crate::error::DomainError;
use crate::paging::Keyset;
use crate::stored::Stored;
use crate::{Engine, Gatehouse, ids};

/// Longest related id that is recorded or searched for.
pub const MAX_RELATED_ID_CHARS: usize = 128;
/// Most ids of a sent event's data that its audit event is related to.
pub const MAX_SENT_EVENT_IDS: usize = 10;

/// One event to record.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub tenant_id: Option<TenantId>,
    pub actor_type: ActorType,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub event_type: EventType,
    pub message: Option<String>,
    pub app_id: Option<AppId>,
    /// The side of the app the event belongs to: required with `app_id` (app changes
    /// are live), so that a key reads only its own mode's events.
    pub mode: Option<KeyMode>,
    pub related_ids: serde_json::Map<String, Value>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditRecord {
    /// An event done by `actor` in its tenant.
    pub fn by(actor: &Actor, event_type: EventType, message: impl Into<String>) -> Self {
        let (actor_type, actor_id, actor_label) = actor.audit_identity();
        Self {
            tenant_id: Some(actor.tenant_id.clone()),
            actor_type,
            actor_id,
            actor_label,
            event_type,
            message: Some(message.into()),
            app_id: None,
            mode: None,
            related_ids: serde_json::Map::new(),
            before: None,
            after: None,
        }
    }

    /// An event done by Gatehouse itself (the operator's commands, housekeeping).
    pub fn by_system(
        tenant_id: &TenantId,
        event_type: EventType,
        message: impl Into<String>,
    ) -> Self {
        Self::by(&Actor::system(tenant_id.clone()), event_type, message)
    }

    /// Sets the app the event concerns and the side (live or test) it belongs to.
    pub fn in_app(mut self, app_id: &AppId, mode: KeyMode) -> Self {
        self.app_id = Some(app_id.clone());
        self.mode = Some(mode);
        self
    }

    /// Adds a related id (`key_id`, `user_id`, …) that the trail can be searched by.
    pub fn related(mut self, name: &str, id: impl std::fmt::Display) -> Self {
        self.related_ids
            .insert(name.to_owned(), Value::String(id.to_string()));
        self
    }

    /// Relates the event to the SaaS's own ids in an event's `data`: the top-level
    /// fields named `id` or ending in `_id` whose value is a string or an integer of at
    /// most [`MAX_RELATED_ID_CHARS`] printable characters, at most
    /// [`MAX_SENT_EVENT_IDS`] of them in field order. Names already related (such as
    /// `event_id`) keep Gatehouse's value.
    pub fn related_to_data_ids(mut self, data: &Value) -> Self {
        let Some(fields) = data.as_object() else {
            return self;
        };
        let ids = fields
            .iter()
            .filter(|(name, _)| name.as_str() == "id" || name.ends_with("_id"))
            .filter(|(name, _)| !self.related_ids.contains_key(name.as_str()))
            .filter_map(|(name, value)| {
                let text = match value {
                    Value::String(text) => text.clone(),
                    Value::Number(number) if number.is_i64() || number.is_u64() => {
                        number.to_string()
                    }
                    _ => return None,
                };
                is_searchable_id(&text).then(|| (name.clone(), Value::String(text)))
            })
            .take(MAX_SENT_EVENT_IDS)
            .collect::<Vec<_>>();
        self.related_ids.extend(ids);
        self
    }
}

/// Whether `text` can be a related id: 1 to 128 printable ASCII characters.
fn is_searchable_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_RELATED_ID_CHARS
        && text.bytes().all(|byte| byte.is_ascii_graphic())
}

/// Writes one audit event, and the ids it can be found by, on the change's transaction
/// (see `change::Change::audit`).
pub(crate) async fn record(
    connection: &mut AnyConnection,
    engine: Engine,
    record: AuditRecord,
    now_ms: i64,
) -> Result<AuditEventId, DomainError> {
    if record.app_id.is_some() != record.mode.is_some() {
        return Err(DomainError::Internal(format!(
            "the audit event {} names an app without its mode, or a mode without an app",
            record.event_type
        )));
    }
    let id = AuditEventId::from_body(&ids::fresh_body());
    let app_id = record.app_id.as_ref().map(|app| app.to_string());
    let mode = record.mode.map(|mode| mode.as_str());
    let mut refs: Vec<String> = app_id.iter().cloned().collect();
    for value in record.related_ids.values() {
        if let Some(text) = value.as_str()
            && is_searchable_id(text)
            && !refs.iter().any(|known| known == text)
        {
            refs.push(text.to_owned());
        }
    }
    sqlx::query(
        "INSERT INTO audit_events (id, tenant_id, occurred_at, actor_type, actor_id, actor_label,
            event_type, message, app_id, mode, related_ids, before_state, after_state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(id.as_str())
    .bind(record.tenant_id.as_ref().map(|tenant| tenant.to_string()))
    .bind(now_ms)
    .bind(record.actor_type.as_str())
    .bind(record.actor_id)
    .bind(record.actor_label)
    .bind(record.event_type.as_str())
    .bind(record.message)
    .bind(app_id.clone())
    .bind(mode)
    .bind(Value::Object(record.related_ids).to_string())
    .bind(record.before.map(|value| value.to_string()))
    .bind(record.after.map(|value| value.to_string()))
    .execute(&mut *connection)
    .await?;
    if let Some(tenant_id) = &record.tenant_id
        && !refs.is_empty()
    {
        let sql = format!(
            "INSERT INTO audit_event_refs (tenant_id, occurred_at, event_id, app_id, mode, ref_id)
             VALUES {}",
            Placeholders::new(engine).rows(refs.len(), 6)
        );
        let mut insert = sqlx::query(&sql);
        for reference in refs {
            insert = insert
                .bind(tenant_id.as_str())
                .bind(now_ms)
                .bind(id.as_str())
                .bind(app_id.clone())
                .bind(mode)
                .bind(reference);
        }
        insert.execute(&mut *connection).await?;
    }
    Ok(id)
}

/// A value bound to a search's SQL.
enum Param {
    Text(String),
    Number(i64),
}

/// A search's WHERE clause, built with only the filters asked for (so each shape of
/// search has its own plan, on the index made for it: see `0006_audit_search.sql`).
struct Conditions {
    clauses: Vec<String>,
    params: Vec<Param>,
    placeholders: Placeholders,
}

impl Conditions {
    /// Adds `clause`, each `{}` in it standing for the next of `params`, in order.
    fn and(&mut self, clause: &str, params: impl IntoIterator<Item = Param>) {
        let mut written = String::with_capacity(clause.len());
        let mut parts = clause.split("{}");
        written.push_str(parts.next().unwrap_or_default());
        for part in parts {
            written.push_str(&self.placeholders.next());
            written.push_str(part);
        }
        self.clauses.push(written);
        self.params.extend(params);
    }
}

/// What a checked search reads: the tenant, the key's app and mode, and the filters in
/// the form the tables hold them.
struct Search {
    tenant_id: String,
    /// An API key's own app and mode; `None` for people (the whole tenant).
    confined_to: Option<(String, &'static str)>,
    event_type: Option<&'static str>,
    actor_id: Option<String>,
    related_id: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
}

impl Search {
    fn new(actor: &Actor, filter: &AuditFilter) -> Result<Self, DomainError> {
        if let Some(actor_id) = &filter.actor_id
            && UserId::parse(actor_id).is_err()
            && ApiKeyId::parse(actor_id).is_err()
        {
            return Err(DomainError::field(
                "actor_id",
                "Use the id of a user (usr_…) or of an API key (key_…).",
            ));
        }
        if let Some(related_id) = &filter.related_id
            && !is_searchable_id(related_id)
        {
            return Err(DomainError::field(
                "related_id",
                format!(
                    "Use an id of 1 to {MAX_RELATED_ID_CHARS} printable characters without spaces."
                ),
            ));
        }
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && to <= from
        {
            return Err(DomainError::field("to", "Choose a time after from."));
        }
        Ok(Self {
            tenant_id: actor.tenant_id.to_string(),
            confined_to: actor
                .reach()
                .own()
                .map(|(app_id, mode)| (app_id.to_string(), mode.as_str())),
            event_type: filter.event_type.map(EventType::as_str),
            actor_id: filter.actor_id.clone(),
            related_id: filter.related_id.clone(),
            from_ms: filter.from.map(|from| from.timestamp_millis()),
            to_ms: filter.to.map(|to| to.timestamp_millis()),
        })
    }

    /// The rows to read and the conditions on them. A search by related id reads its
    /// index table, ordered by the copies of the event's time and id it holds.
    fn plan(&self, engine: Engine) -> Plan {
        let mut conditions = Conditions {
            clauses: Vec::new(),
            params: Vec::new(),
            placeholders: Placeholders::new(engine),
        };
        let (from, table, id) = match &self.related_id {
            Some(related_id) => {
                conditions.and("r.ref_id = {}", [Param::Text(related_id.clone())]);
                (
                    "audit_event_refs r JOIN audit_events e ON e.id = r.event_id",
                    "r",
                    "r.event_id",
                )
            }
            None => ("audit_events e", "e", "e.id"),
        };
        let column = |name: &str| format!("{table}.{name}");
        conditions.and(
            &format!("{} = {{}}", column("tenant_id")),
            [Param::Text(self.tenant_id.clone())],
        );
        if let Some((app_id, mode)) = &self.confined_to {
            conditions.and(
                &format!("{} = {{}}", column("app_id")),
                [Param::Text(app_id.clone())],
            );
            conditions.and(
                &format!("{} = {{}}", column("mode")),
                [Param::Text((*mode).to_owned())],
            );
        }
        if let Some(event_type) = self.event_type {
            conditions.and("e.event_type = {}", [Param::Text(event_type.to_owned())]);
        }
        if let Some(actor_id) = &self.actor_id {
            conditions.and("e.actor_id = {}", [Param::Text(actor_id.clone())]);
        }
        let time = column("occurred_at");
        if let Some(from_ms) = self.from_ms {
            conditions.and(&format!("{time} >= {{}}"), [Param::Number(from_ms)]);
        }
        if let Some(to_ms) = self.to_ms {
            conditions.and(&format!("{time} < {{}}"), [Param::Number(to_ms)]);
        }
        Plan {
            from,
            time,
            id,
            conditions,
        }
    }
}

/// How a search reads: the rows, the columns it is ordered by, the conditions.
struct Plan {
    from: &'static str,
    time: String,
    id: &'static str,
    conditions: Conditions,
}

const EVENT_COLUMNS: &str = "e.id, e.occurred_at, e.actor_type, e.actor_id, e.actor_label,
    e.event_type, e.message, e.app_id, e.mode, e.related_ids, e.before_state, e.after_state";

impl Gatehouse {
    /// The actor's audit trail, newest first, filtered, a page at a time: a
    /// keyset on (time, id), so events recorded while a client pages never shift a
    /// page. A key sees only its own app's events of its own mode.
    pub async fn search_audit_events(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEventView>, DomainError> {
        actor.require(Access::AUDIT_READ)?;
        let keyset = Keyset::from_request(page, |cursor| AuditEventId::parse(cursor).is_ok())?;
        let search = Search::new(actor, filter)?;
        let Plan {
            from,
            time,
            id,
            mut conditions,
        } = search.plan(self.db().engine());
        if let Some(cursor) = &keyset.after {
            let cursor_ms = self.cursor_time(&search, cursor).await?;
            conditions.and(
                &format!("({time}, {id}) < ({{}}, {{}})"),
                [Param::Number(cursor_ms), Param::Text(cursor.clone())],
            );
        }
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM {from} WHERE {} ORDER BY {time} DESC, {id} DESC LIMIT {}",
            conditions.clauses.join(" AND "),
            keyset.rows_to_read()
        );
        let mut query = sqlx::query(&sql);
        for param in conditions.params {
            query = match param {
                Param::Text(text) => query.bind(text),
                Param::Number(number) => query.bind(number),
            };
        }
        let rows = query.fetch_all(self.db().pool()).await?;
        let events = rows
            .iter()
            .map(audit_view_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(keyset.page(events, |event| event.id.to_string()))
    }

    /// When the cursor's event happened; a cursor the actor cannot see is refused like
    /// a malformed one.
    async fn cursor_time(&self, search: &Search, cursor: &str) -> Result<i64, DomainError> {
        let (app_id, mode) = search
            .confined_to
            .clone()
            .map_or((String::new(), ""), |(app_id, mode)| (app_id, mode));
        let found: Option<(i64,)> = sqlx::query_as(
            "SELECT occurred_at FROM audit_events
             WHERE id = $1 AND tenant_id = $2 AND ($3 = '' OR (app_id = $3 AND mode = $4))",
        )
        .bind(cursor)
        .bind(&search.tenant_id)
        .bind(app_id)
        .bind(mode)
        .fetch_optional(self.db().pool())
        .await?;
        found.map(|(ms,)| ms).ok_or_else(|| {
            DomainError::field("cursor", "Use the next_cursor of the previous page.")
        })
    }

    /// The tenant's newest audit events first, at most `limit` (1 to 100), for the
    /// Integration logs tab.
    pub async fn recent_audit_events(
        &self,
        actor: &Actor,
        limit: i64,
    ) -> Result<Vec<AuditEventView>, DomainError> {
        let page = PageRequest {
            limit: Some(limit.clamp(1, i64::from(gatehouse_model::MAX_PAGE_LIMIT)) as u32),
            cursor: None,
        };
        Ok(self
            .search_audit_events(actor, &AuditFilter::default(), &page)
            .await?
            .data)
    }
}

fn audit_view_from_row(row: &AnyRow) -> Result<AuditEventView, DomainError> {
    let stored = Stored::new(row, "audit event");
    let related_ids: BTreeMap<String, Value> = stored.json("related_ids")?;
    Ok(AuditEventView {
        id: stored.parsed("id", |id| AuditEventId::parse(id).ok())?,
        occurred_at: stored.time("occurred_at")?,
        actor_type: stored.parsed("actor_type", ActorType::parse)?,
        actor_id: stored.get("actor_id")?,
        actor_label: stored.get("actor_label")?,
        event_type: stored.get("event_type")?,
        message: stored.get("message")?,
        app_id: stored.parsed_optional("app_id", |id| AppId::parse(id).ok())?,
        mode: stored.parsed_optional("mode", KeyMode::parse)?,
        related_ids: related_ids
            .into_iter()
            .filter_map(|(name, value)| value.as_str().map(|text| (name, text.to_owned())))
            .collect(),
        before: stored.json_optional("before_state")?,
        after: stored.json_optional("after_state")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sent_event_is_related_to_the_ids_at_the_top_of_its_data() {
        let record = AuditRecord::by_system(
            &TenantId::from_body("01jaaaaaaaaaaaaaaaaaaaaaaa"),
            EventType::EventSent,
            "sent",
        )
        .related("event_id", "evt_ours")
        .related_to_data_ids(&json!({
            "id": "pi_123", "case_id": 42, "event_id": "theirs", "amount": 500,
            "customer": "cus_1", "note_id": "has space", "empty_id": "",
            "nested": { "order_id": "ord_1" }, "long_id": "x".repeat(129),
        }));
        let related: Vec<(&str, &str)> = record
            .related_ids
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str().unwrap()))
            .collect();
        assert_eq!(
            related,
            [
                ("case_id", "42"),
                ("event_id", "evt_ours"),
                ("id", "pi_123")
            ]
        );
        let many: serde_json::Map<String, Value> = (0..30)
            .map(|index| (format!("f{index:02}_id"), json!(format!("v{index}"))))
            .collect();
        let capped = AuditRecord::by_system(
            &TenantId::from_body("01jaaaaaaaaaaaaaaaaaaaaaaa"),
            EventType::EventSent,
            "sent",
        )
        .related_to_data_ids(&Value::Object(many));
        assert_eq!(capped.related_ids.len(), MAX_SENT_EVENT_IDS);
    }
}
