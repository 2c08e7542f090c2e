//! The request log (seed 004's "activity logs"): every `/v1` call by a known key and
//! every verification of a key, as it was answered (time, request id, key, app, mode,
//! method, route template, status, error code, latency, origin, client address; never
//! a credential or a body), kept 30 days unless the operator says otherwise, and
//! searched per app and mode with filters, newest first, in keyset pages.
//!
//! No request writes to the database: [`Gatehouse::log_request`] appends to a bounded
//! buffer in memory and [`Gatehouse::flush_request_logs`] (every second, and on a
//! graceful shutdown) writes it in 100-row inserts, giving way before each to the
//! writes a call waits on (quota grants). When the buffer is full (the database has
//! been slower than the calls for a while), new entries are dropped and counted
//! (`gatehouse_request_logs_dropped_total`): the log gives way, the API does not. What failed to write is kept and written again; ids make that idempotent
//! (`ON CONFLICT DO NOTHING`).
//!
//! A request id is a ULID of the domain clock's millisecond, so ids sort by time and a
//! time range is a range of ids, read from the same index as the pages.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gatehouse_model::{
    ApiKeyId, AppId, KeyMode, Page, PageRequest, RequestId, RequestLogFilter, RequestLogView,
    RequestLogsPage,
};
use sqlx::any::AnyRow;

use crate::Gatehouse;
use crate::actor::{Access, Actor, KeyPrincipal};
use crate::db::Placeholders;
use crate::error::DomainError;
use crate::paging::Keyset;
use crate::stored::Stored;

/// Entries the buffer holds at most (about 300 bytes each): a minute of calls at the
/// benchmark's rate before any is dropped.
pub const BUFFER_CAPACITY: usize = 200_000;
/// Rows per statement, each statement its own transaction: the write lock is held
/// about a millisecond at a time.
const ROWS_PER_WRITE: usize = 100;
/// How long the log waits at most, before each transaction, for the writes that a
/// call waits on (quota grants) to be done: the log gives way to calls.
const GIVE_WAY_MS: u64 = 100;
/// The most of a request's `Origin` that is kept: a real origin (scheme, a host name of
/// at most 253 characters, port) fits; the client chooses the header, and without a
/// bound a call could park hundreds of KiB in the buffer and the table.
pub const ORIGIN_MAX_BYTES: usize = 300;
/// How long entries are kept unless the operator sets otherwise.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
const DAY_MS: i64 = 86_400_000;

/// One answered request, as the server hands it over.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// From [`Gatehouse::fresh_request_id`], as the answer's `Request-Id` header says.
    pub id: RequestId,
    /// The key that called, or the key that was verified.
    pub key: Arc<KeyPrincipal>,
    pub method: &'static str,
    pub route: String,
    pub status: u16,
    pub error_code: Option<&'static str>,
    pub verify_code: Option<&'static str>,
    pub latency_us: i64,
    pub origin: Option<String>,
    pub client_ip: Option<String>,
}

#[derive(Debug)]
struct Entry {
    occurred_at_ms: i64,
    record: RequestRecord,
}

/// The entries not yet written, and how many were dropped because it was full.
#[derive(Debug)]
pub struct RequestLogBuffer {
    pending: Mutex<Vec<Entry>>,
    /// A batch whose write failed, written again by the next flush.
    unwritten: tokio::sync::Mutex<Vec<Entry>>,
    capacity: usize,
    dropped: AtomicU64,
    /// Days kept; 0 turns the log off (nothing is buffered).
    retention_days: u32,
    /// Writes a call is waiting on (quota grants) under way: the log's writes wait
    /// for them, so that SQLite's one write lock goes to them first.
    urgent_writes: AtomicU64,
}

/// Held while a write that a call waits on is under way (see [`Gatehouse::urgent_write`]).
pub(crate) struct UrgentWrite<'a>(&'a AtomicU64);

impl Drop for UrgentWrite<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Default for RequestLogBuffer {
    fn default() -> Self {
        Self::new(BUFFER_CAPACITY, DEFAULT_RETENTION_DAYS)
    }
}

impl RequestLogBuffer {
    pub fn new(capacity: usize, retention_days: u32) -> Self {
        Self {
            pending: Mutex::new(Vec::new()),
            unwritten: tokio::sync::Mutex::new(Vec::new()),
            capacity,
            dropped: AtomicU64::new(0),
            retention_days,
            urgent_writes: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, entry: Entry) -> bool {
        let mut pending = self.lock();
        if pending.len() >= self.capacity {
            drop(pending);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        pending.push(entry);
        true
    }

    fn take(&self) -> Vec<Entry> {
        std::mem::take(&mut *self.lock())
    }

    /// Entries dropped because the buffer was full, since the start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Cuts `text` to at most `max` bytes (at a character boundary) and frees the rest.
fn keep_at_most(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.shrink_to_fit();
}

const COLUMNS: &str = "id, tenant_id, app_id, mode, key_id, occurred_at, method, route, status, \
                       error_code, verify_code, latency_us, origin, client_ip";

impl Gatehouse {
    /// Marks a write that a call waits on (a quota grant) as under way until the guard
    /// is dropped: the request log's writes give way to it.
    pub(crate) fn urgent_write(&self) -> UrgentWrite<'_> {
        self.request_logs
            .urgent_writes
            .fetch_add(1, Ordering::AcqRel);
        UrgentWrite(&self.request_logs.urgent_writes)
    }

    /// Whether calls are logged (the operator may turn the log off with a retention of 0).
    pub fn request_logging(&self) -> bool {
        self.request_logs.retention_days > 0
    }

    /// A new request id of the current millisecond.
    pub fn fresh_request_id(&self) -> RequestId {
        request_id_at(self.now_ms(), rand::random::<u128>())
    }

    /// Buffers one answered request; answers whether it was kept (false: the log is
    /// off, or the buffer is full and the entry was dropped and counted).
    pub fn log_request(&self, mut record: RequestRecord) -> bool {
        if !self.request_logging() {
            return false;
        }
        if let Some(origin) = &mut record.origin {
            keep_at_most(origin, ORIGIN_MAX_BYTES);
        }
        let kept = self.request_logs.push(Entry {
            occurred_at_ms: self.now_ms(),
            record,
        });
        if !kept {
            self.metrics.request_log_dropped();
        }
        kept
    }

    /// Entries dropped because the buffer was full.
    pub fn request_logs_dropped(&self) -> u64 {
        self.request_logs.dropped()
    }

    /// Writes the buffered entries; answers how many were written. A batch that fails
    /// is kept (within the buffer's capacity) and written by the next flush.
    pub async fn flush_request_logs(&self) -> Result<usize, DomainError> {
        let mut unwritten = self.request_logs.unwritten.lock().await;
        let mut batch = std::mem::take(&mut *unwritten);
        batch.extend(self.request_logs.take());
        if batch.is_empty() {
            return Ok(0);
        }
        match self.write_request_logs(&batch).await {
            Ok(()) => Ok(batch.len()),
            Err((written, error)) => {
                batch.drain(..written);
                let capacity = self.request_logs.capacity;
                if batch.len() > capacity {
                    let over = batch.len() - capacity;
                    batch.drain(..over);
                    self.request_logs
                        .dropped
                        .fetch_add(over as u64, Ordering::Relaxed);
                }
                *unwritten = batch;
                Err(error)
            }
        }
    }

    /// Writes the batch 100 rows per statement, so that another writer (a quota
    /// grant, the usage flush) never waits for the whole batch. On failure, answers how
    /// many rows of the batch were written before it.
    async fn write_request_logs(&self, batch: &[Entry]) -> Result<(), (usize, DomainError)> {
        let mut written = 0;
        for rows in batch.chunks(ROWS_PER_WRITE) {
            // A call waiting on a quota grant goes first (without this, on SQLite, the
            // grant sleeps in the busy handler while the log takes the lock again and
            // again: a live call's p99 went from 4 ms to 325 ms under load).
            let mut waited = 0;
            while self.request_logs.urgent_writes.load(Ordering::Acquire) > 0
                && waited < GIVE_WAY_MS
            {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                waited += 1;
            }
            match self.write_request_log_rows(rows).await {
                Ok(()) => written += rows.len(),
                Err(error) => return Err((written, error)),
            }
        }
        Ok(())
    }

    async fn write_request_log_rows(&self, rows: &[Entry]) -> Result<(), DomainError> {
        // Written again after a failure: what was written already is skipped.
        let sql = format!(
            "INSERT INTO request_logs ({COLUMNS}) VALUES {} ON CONFLICT DO NOTHING",
            Placeholders::new(self.db().engine()).rows(rows.len(), 14)
        );
        let mut query = sqlx::query(&sql);
        for entry in rows {
            let record = &entry.record;
            query = query
                .bind(record.id.as_str())
                .bind(record.key.tenant_id.as_str())
                .bind(record.key.app_id.as_str())
                .bind(record.key.mode.as_str())
                .bind(record.key.key_id.as_str())
                .bind(entry.occurred_at_ms)
                .bind(record.method)
                .bind(record.route.as_str())
                .bind(i64::from(record.status))
                .bind(record.error_code)
                .bind(record.verify_code)
                .bind(record.latency_us)
                .bind(record.origin.as_deref())
                .bind(record.client_ip.as_deref());
        }
        query.execute(self.db().pool()).await?;
        Ok(())
    }

    /// Deletes entries older than the retention, at most `batch` rows per call.
    pub(crate) async fn purge_request_logs(&self, batch: i64) -> Result<u64, DomainError> {
        let retention_days = self.request_logs.retention_days.max(1);
        let kept_from = self.now_ms() - i64::from(retention_days) * DAY_MS;
        // Ids sort by time: the oldest entries are the lowest ids.
        Ok(sqlx::query(
            "DELETE FROM request_logs WHERE id IN (
                SELECT id FROM request_logs WHERE id < $1 ORDER BY id LIMIT $2)",
        )
        .bind(first_id_at(kept_from))
        .bind(batch)
        .execute(self.db().pool())
        .await?
        .rows_affected())
    }

    /// The request log of an app and mode, newest first: a key reads its own app and
    /// mode; a user any app of the tenant (all of them without `app_id`), live unless
    /// `mode` says test.
    pub async fn search_request_logs(
        &self,
        actor: &Actor,
        filter: &RequestLogFilter,
        page: &PageRequest,
    ) -> Result<Page<RequestLogView>, DomainError> {
        actor.require(Access::REQUEST_LOGS_READ)?;
        let keyset = Keyset::from_request(page, |cursor| RequestId::parse(cursor).is_ok())?;
        let (app_id, mode) = match actor.api_key() {
            Some(own) => {
                if filter.mode.is_some_and(|mode| mode != own.mode) {
                    return Err(DomainError::field(
                        "mode",
                        format!(
                            "A {mode} key reads {mode} requests only.",
                            mode = own.mode.as_str()
                        ),
                    ));
                }
                if filter.app_id.as_ref().is_some_and(|app| app != &own.app_id) {
                    return Err(DomainError::NotFound("app"));
                }
                (Some(own.app_id.clone()), own.mode)
            }
            None => {
                if let Some(app_id) = &filter.app_id {
                    self.find_app(&actor.tenant_id, app_id).await?;
                }
                (filter.app_id.clone(), filter.mode.unwrap_or(KeyMode::Live))
            }
        };
        if let (Some(from), Some(to)) = (&filter.from, &filter.to)
            && to <= from
        {
            return Err(DomainError::field("to", "The range ends before it starts."));
        }
        let mut clauses = vec!["tenant_id = $1".to_owned(), "mode = $2".to_owned()];
        let mut texts: Vec<String> = vec![actor.tenant_id.to_string(), mode.as_str().to_owned()];
        let mut push = |clause: &str, value: String, texts: &mut Vec<String>| {
            texts.push(value);
            clauses.push(clause.replace('?', &format!("${}", texts.len())));
        };
        if let Some(app_id) = app_id {
            push("app_id = ?", app_id.to_string(), &mut texts);
        }
        if let Some(key_id) = &filter.key_id {
            push("key_id = ?", key_id.to_string(), &mut texts);
        }
        if let Some(code) = &filter.error_code {
            push("error_code = ?", code.trim().to_owned(), &mut texts);
        }
        if let Some(route) = &filter.route {
            push("route = ?", route.trim().to_owned(), &mut texts);
        }
        // Ids sort by time: a time range is a range of ids.
        if let Some(from) = &filter.from {
            push("id >= ?", first_id_at(from.timestamp_millis()), &mut texts);
        }
        if let Some(to) = &filter.to {
            push("id < ?", first_id_at(to.timestamp_millis()), &mut texts);
        }
        if let Some(cursor) = &keyset.after {
            push("id < ?", cursor.clone(), &mut texts);
        }
        if let Some(class) = filter.status_class {
            let (low, high) = class.bounds();
            clauses.push(format!("status >= {low} AND status < {high}"));
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM request_logs WHERE {} ORDER BY id DESC LIMIT {}",
            clauses.join(" AND "),
            keyset.rows_to_read()
        );
        let mut query = sqlx::query(&sql);
        for text in texts {
            query = query.bind(text);
        }
        let rows = query.fetch_all(self.db().pool()).await?;
        let entries = rows
            .iter()
            .map(request_log_view_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(keyset.page(entries, |entry| entry.id.to_string()))
    }
}

impl Gatehouse {
    /// The dashboard's Logs page: the requests of the person's selected app, in the
    /// mode the filter names (live unless it says test), newest first.
    pub async fn request_logs_page(
        &self,
        actor: &Actor,
        filter: RequestLogFilter,
        page: &PageRequest,
    ) -> Result<RequestLogsPage, DomainError> {
        actor.require(Access::REQUEST_LOGS_READ)?;
        let mode = filter.mode.unwrap_or(KeyMode::Live);
        let Some(app_id) = self.selected_app_id(actor).await? else {
            return Ok(RequestLogsPage {
                app: None,
                mode,
                requests: Page::empty(),
            });
        };
        let app = self.find_app(&actor.tenant_id, &app_id).await?;
        let filter = RequestLogFilter {
            app_id: Some(app_id),
            mode: Some(mode),
            ..filter
        };
        let requests = self.search_request_logs(actor, &filter, page).await?;
        Ok(RequestLogsPage {
            app: Some(app),
            mode,
            requests,
        })
    }

    /// A key's latest requests (at most `limit`), newest first, for its detail: in the
    /// key's own app and mode.
    pub async fn recent_requests_of_key(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
        limit: u32,
    ) -> Result<Vec<RequestLogView>, DomainError> {
        actor.require(Access::REQUEST_LOGS_READ)?;
        let key = self.visible_key(actor, key_id).await?;
        let filter = RequestLogFilter {
            app_id: Some(key.app_id),
            mode: Some(key.mode),
            key_id: Some(key.id),
            ..RequestLogFilter::default()
        };
        let page = PageRequest {
            limit: Some(limit),
            cursor: None,
        };
        Ok(self.search_request_logs(actor, &filter, &page).await?.data)
    }
}

/// The request id of the millisecond `ms` with `random` as its ULID's random part.
fn request_id_at(ms: i64, random: u128) -> RequestId {
    let ulid = ulid::Ulid::from_parts(ms.max(0) as u64, random);
    RequestId::from_body(&ulid.to_string().to_ascii_lowercase())
}

/// The smallest request id of the millisecond `ms`.
fn first_id_at(ms: i64) -> String {
    request_id_at(ms, 0).to_string()
}

fn request_log_view_from_row(row: &AnyRow) -> Result<RequestLogView, DomainError> {
    let stored = Stored::new(row, "request log entry");
    let status: i64 = stored.get("status")?;
    Ok(RequestLogView {
        id: stored.parsed("id", |id| RequestId::parse(id).ok())?,
        occurred_at: stored.time("occurred_at")?,
        key_id: stored.parsed("key_id", |id| ApiKeyId::parse(id).ok())?,
        app_id: stored.parsed("app_id", |id| AppId::parse(id).ok())?,
        mode: stored.parsed("mode", KeyMode::parse)?,
        method: stored.get("method")?,
        route: stored.get("route")?,
        status: u16::try_from(status).unwrap_or_default(),
        error_code: stored.get("error_code")?,
        verify_code: stored.get("verify_code")?,
        latency_us: stored.get("latency_us")?,
        origin: stored.get("origin")?,
        client_ip: stored.get("client_ip")?,
    })
}
