//! The request log: every `/v1` call by a known key and every verification of a key, as
//! it was answered (time, request id, key, app, mode, method, route template, status,
//! error code, latency, origin, client address; never a credential or a body), kept 30
//! days unless the operator says otherwise, and searched per app and mode with filters,
//! newest first, in keyset pages.
//!
//! No request writes to the database: [`Gatehouse::log_request`] appends to a bounded
//! buffer in memory and [`Gatehouse::flush_request_logs`] (every second, and on a
//! graceful shutdown) writes it as [`segment`]s: per app and mode, one row holding up to
//! 1,000 entries in a compact body, with the terms a filter finds it by (its keys, error
//! codes, routes and status classes), each segment in a transaction of its own that
//! gives way first to the writes a call waits on (quota grants). When the buffer is full
//! (the database has been slower than the calls for a while), new entries are dropped
//! and counted (`gatehouse_request_logs_dropped_total`): the log gives way, the API does
//! not. A segment that failed to write is kept and written again; it is named by its
//! newest request's id, which makes that idempotent (`ON CONFLICT DO NOTHING`).
//!
//! A request id is a ULID of the domain clock's millisecond, so ids sort by time and a
//! time range is a range of ids; [`search`] reads segments newest first and merges
//! their entries into pages.

pub mod budget;
mod search;
pub mod segment;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gatehouse_model::{KeyMode, RequestId};

use crate::Gatehouse;
use crate::actor::KeyPrincipal;
use crate::db::Placeholders;
use crate::error::DomainError;
use crate::storable::storable_text;
use segment::EntryFields;

/// Entries the buffer holds at most (about 300 bytes each): a minute of calls at the
/// benchmark's rate before any is dropped.
pub const BUFFER_CAPACITY: usize = 200_000;
/// Terms per statement when a segment's terms are written.
const TERMS_PER_WRITE: usize = 200;
/// How long the log waits at most, before each transaction, for the writes that a
/// call waits on (quota grants) to be done: the log gives way to calls.
const GIVE_WAY_MS: u64 = 100;
/// Segments one purge transaction deletes, and transactions one purge runs at most.
const PURGE_SEGMENTS_PER_WRITE: i64 = 100;
const PURGE_WRITES: usize = 50;
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

impl RequestRecord {
    /// Whether the key itself was refused (disabled, revoked or expired), in a call or
    /// in a verification: such calls cost the caller nothing, so their recording is
    /// budgeted (see `budget`).
    fn refuses_the_key(&self) -> bool {
        matches!(
            self.error_code,
            Some("api_key_disabled" | "api_key_revoked" | "api_key_expired")
        ) || matches!(self.verify_code, Some("DISABLED" | "REVOKED" | "EXPIRED"))
    }
}

#[derive(Debug)]
struct Entry {
    /// The request id's ULID.
    id: u128,
    occurred_at_ms: i64,
    record: RequestRecord,
}

impl Entry {
    fn fields(&self) -> EntryFields<'_> {
        let record = &self.record;
        EntryFields {
            id: self.id,
            occurred_at_ms: self.occurred_at_ms,
            key_id: record.key.key_id.as_str(),
            method: record.method,
            route: &record.route,
            status: record.status,
            error_code: record.error_code,
            verify_code: record.verify_code,
            latency_us: record.latency_us,
            origin: record.origin.as_deref(),
            client_ip: record.client_ip.as_deref(),
        }
    }
}

/// A segment ready to be written: encoded, named, with its terms.
#[derive(Debug)]
struct PreparedSegment {
    tenant_id: String,
    app_id: String,
    mode: KeyMode,
    first_id: String,
    last_id: String,
    entries: usize,
    body: Vec<u8>,
    terms: Vec<String>,
}

/// The entries not yet written, with how many each tenant has among them.
#[derive(Debug, Default)]
struct Pending {
    entries: Vec<Entry>,
    per_tenant: HashMap<gatehouse_model::TenantId, usize, foldhash::fast::RandomState>,
}

/// Why an entry was not buffered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotBuffered {
    /// The buffer is full: the database fell behind.
    Full,
    /// The tenant holds its share of the buffer already.
    OverTenantShare,
}

/// The entries not yet written, and how many were dropped because it was full.
#[derive(Debug)]
pub struct RequestLogBuffer {
    pending: Mutex<Pending>,
    /// Refused calls recorded per key and per address (see `budget`).
    refusals: budget::RefusalBudget,
    /// Segments whose write failed, written again by the next flush.
    unwritten: tokio::sync::Mutex<Vec<PreparedSegment>>,
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
            pending: Mutex::new(Pending::default()),
            refusals: Default::default(),
            unwritten: tokio::sync::Mutex::new(Vec::new()),
            capacity,
            dropped: AtomicU64::new(0),
            retention_days,
            urgent_writes: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, entry: Entry) -> Result<(), NotBuffered> {
        let mut pending = self.lock();
        if pending.entries.len() >= self.capacity {
            drop(pending);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return Err(NotBuffered::Full);
        }
        let tenant = &entry.record.key.tenant_id;
        match pending.per_tenant.get_mut(tenant) {
            Some(held) if !budget::within_tenant_share(*held, self.capacity) => {
                return Err(NotBuffered::OverTenantShare);
            }
            Some(held) => *held += 1,
            None => {
                pending.per_tenant.insert(tenant.clone(), 1);
            }
        }
        pending.entries.push(entry);
        Ok(())
    }

    fn take(&self) -> Vec<Entry> {
        std::mem::take(&mut *self.lock()).entries
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

/// Cuts the entries of one app and mode into segments: in id order, at most
/// [`segment::MAX_ENTRIES`] each, each spanning at most [`segment::MAX_SPAN_MS`].
fn prepare_segments(
    tenant_id: &str,
    app_id: &str,
    mode: KeyMode,
    entries: &mut [EntryFields<'_>],
) -> Vec<PreparedSegment> {
    entries.sort_unstable_by_key(|entry| entry.id);
    let mut segments = Vec::new();
    let mut rest = &entries[..];
    while let Some(first) = rest.first() {
        let span_end = segment::id_ms(first.id) + segment::MAX_SPAN_MS;
        let length = rest
            .iter()
            .take(segment::MAX_ENTRIES)
            .take_while(|entry| segment::id_ms(entry.id) <= span_end)
            .count();
        let (part, after) = rest.split_at(length);
        rest = after;
        segments.push(PreparedSegment {
            tenant_id: tenant_id.to_owned(),
            app_id: app_id.to_owned(),
            mode,
            first_id: request_id_of(part[0].id).to_string(),
            last_id: request_id_of(part[part.len() - 1].id).to_string(),
            entries: part.len(),
            body: segment::encode(part),
            terms: segment::terms(part).into_iter().collect(),
        });
    }
    segments
}

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
    /// off, or the buffer is full and the entry was dropped and counted, or the id is
    /// not one of [`Self::fresh_request_id`]'s).
    pub fn log_request(&self, mut record: RequestRecord) -> bool {
        if !self.request_logging() {
            return false;
        }
        let Some(id) = ulid_of(&record.id) else {
            return false;
        };
        if let Some(origin) = &mut record.origin {
            keep_at_most(origin, ORIGIN_MAX_BYTES);
        }
        // The route is a search term, stored as text.
        if let Cow::Owned(storable) = storable_text(record.route.as_bytes()) {
            record.route = storable;
        }
        let now_ms = self.now_ms();
        if record.refuses_the_key()
            && !self.request_logs.refusals.admit(
                record.key.key_id.as_str(),
                record.client_ip.as_deref(),
                now_ms,
            )
        {
            self.metrics.request_log_suppressed();
            return false;
        }
        match self.request_logs.push(Entry {
            id,
            occurred_at_ms: now_ms,
            record,
        }) {
            Ok(()) => true,
            Err(NotBuffered::Full) => {
                self.metrics.request_log_dropped();
                false
            }
            Err(NotBuffered::OverTenantShare) => {
                self.metrics.request_log_suppressed();
                false
            }
        }
    }

    /// Entries dropped because the buffer was full.
    pub fn request_logs_dropped(&self) -> u64 {
        self.request_logs.dropped()
    }

    /// Writes the buffered entries; answers how many were written. A segment that
    /// fails is kept (within the buffer's capacity) and written by the next flush.
    pub async fn flush_request_logs(&self) -> Result<usize, DomainError> {
        let mut unwritten = self.request_logs.unwritten.lock().await;
        let mut segments = std::mem::take(&mut *unwritten);
        segments.extend(segments_of(&self.request_logs.take()));
        if segments.is_empty() {
            return Ok(0);
        }
        let mut written = 0;
        for (index, segment) in segments.iter().enumerate() {
            match self.write_segment(segment).await {
                Ok(()) => written += segment.entries,
                // The database refuses this segment's rows: written again, they would
                // be refused again. Dropped and counted, so the others go through.
                Err(error) if error.is_refused_value() => {
                    tracing::error!(%error, entries = segment.entries, "a request log segment was refused and dropped");
                    self.request_logs
                        .dropped
                        .fetch_add(segment.entries as u64, Ordering::Relaxed);
                }
                Err(error) => {
                    let mut kept: Vec<PreparedSegment> = segments.drain(index..).collect();
                    let mut held: usize = kept.iter().map(|segment| segment.entries).sum();
                    // Beyond the buffer's capacity, the oldest are dropped and counted.
                    while held > self.request_logs.capacity && !kept.is_empty() {
                        let oldest = kept.remove(0);
                        held -= oldest.entries;
                        self.request_logs
                            .dropped
                            .fetch_add(oldest.entries as u64, Ordering::Relaxed);
                    }
                    *unwritten = kept;
                    return Err(error);
                }
            }
        }
        Ok(written)
    }

    /// Writes one segment and its terms in a transaction, after giving way to the
    /// writes a call waits on (without this, on SQLite, a quota grant sleeps in the
    /// busy handler while the log takes the lock again and again).
    async fn write_segment(&self, segment: &PreparedSegment) -> Result<(), DomainError> {
        let mut waited = 0;
        while self.request_logs.urgent_writes.load(Ordering::Acquire) > 0 && waited < GIVE_WAY_MS {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            waited += 1;
        }
        let mut transaction = self.db().writer().begin().await?;
        // Written again after a failure: what was written already is skipped.
        sqlx::query(
            "INSERT INTO request_log_segments
                 (last_id, tenant_id, app_id, mode, first_id, entries, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(segment.last_id.as_str())
        .bind(segment.tenant_id.as_str())
        .bind(segment.app_id.as_str())
        .bind(segment.mode.as_str())
        .bind(segment.first_id.as_str())
        .bind(segment.entries as i64)
        .bind(segment.body.as_slice())
        .execute(&mut *transaction)
        .await?;
        for terms in segment.terms.chunks(TERMS_PER_WRITE) {
            let sql = format!(
                "INSERT INTO request_log_terms (tenant_id, mode, term, last_id) VALUES {} \
                 ON CONFLICT DO NOTHING",
                Placeholders::new(self.db().engine()).rows(terms.len(), 4)
            );
            let mut query = sqlx::query(&sql);
            for term in terms {
                query = query
                    .bind(segment.tenant_id.as_str())
                    .bind(segment.mode.as_str())
                    .bind(term.as_str())
                    .bind(segment.last_id.as_str());
            }
            query.execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Deletes the segments whose newest entry is older than the retention, 100 per
    /// transaction and at most 5,000 per call; answers how many entries went with them.
    pub(crate) async fn purge_request_logs(&self) -> Result<u64, DomainError> {
        let retention_days = self.request_logs.retention_days.max(1);
        let kept_from = first_id_at(self.now_ms() - i64::from(retention_days) * DAY_MS);
        let mut purged = 0u64;
        for _ in 0..PURGE_WRITES {
            let mut transaction = self.db().writer().begin().await?;
            // Ids sort by time: the oldest segments have the lowest ids.
            let oldest: Vec<(String, i64)> = sqlx::query_as(
                "SELECT last_id, entries FROM request_log_segments
                 WHERE last_id < $1 ORDER BY last_id LIMIT $2",
            )
            .bind(kept_from.as_str())
            .bind(PURGE_SEGMENTS_PER_WRITE)
            .fetch_all(&mut *transaction)
            .await?;
            let Some((newest, _)) = oldest.last() else {
                break;
            };
            for table in ["request_log_terms", "request_log_segments"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE last_id <= $1"))
                    .bind(newest.as_str())
                    .execute(&mut *transaction)
                    .await?;
            }
            transaction.commit().await?;
            purged += oldest
                .iter()
                .map(|(_, entries)| *entries as u64)
                .sum::<u64>();
            if (oldest.len() as i64) < PURGE_SEGMENTS_PER_WRITE {
                break;
            }
        }
        Ok(purged)
    }

    /// Rewrites the rows of the request log's first form (a row per request, migration
    /// 0009) as segments and deletes them, 1,000 at a time; answers how many. The
    /// server runs it once at start; from then on that table stays empty.
    pub async fn convert_legacy_request_logs(&self) -> Result<u64, DomainError> {
        let mut converted = 0u64;
        loop {
            let rows: Vec<LegacyRow> = sqlx::query_as(
                "SELECT tenant_id, app_id, mode, id, key_id, occurred_at, method, route, status,
                        error_code, verify_code, latency_us, origin, client_ip
                 FROM request_logs ORDER BY tenant_id, app_id, mode, id LIMIT 1000",
            )
            .fetch_all(self.db().pool())
            .await?;
            if rows.is_empty() {
                return Ok(converted);
            }
            let mut groups: HashMap<(&str, &str, &str), Vec<EntryFields<'_>>> = HashMap::new();
            for row in &rows {
                let Some(id) = RequestId::parse(&row.id).ok().as_ref().and_then(ulid_of) else {
                    continue;
                };
                groups
                    .entry((&row.tenant_id, &row.app_id, &row.mode))
                    .or_default()
                    .push(row.fields(id));
            }
            for ((tenant_id, app_id, mode), mut fields) in groups {
                let Some(mode) = KeyMode::parse(mode) else {
                    continue;
                };
                for segment in prepare_segments(tenant_id, app_id, mode, &mut fields) {
                    self.write_segment(&segment).await?;
                }
            }
            let sql = format!(
                "DELETE FROM request_logs WHERE id IN {}",
                Placeholders::new(self.db().engine()).rows(1, rows.len())
            );
            let query = rows
                .iter()
                .fold(sqlx::query(&sql), |query, row| query.bind(row.id.as_str()));
            query.execute(self.db().writer()).await?;
            converted += rows.len() as u64;
        }
    }
}

/// The buffered entries as segments: grouped by app and mode, then cut.
fn segments_of(entries: &[Entry]) -> Vec<PreparedSegment> {
    let mut groups: HashMap<
        (&str, KeyMode),
        (&str, Vec<EntryFields<'_>>),
        foldhash::fast::RandomState,
    > = HashMap::default();
    for entry in entries {
        let key = &entry.record.key;
        groups
            .entry((key.app_id.as_str(), key.mode))
            .or_insert_with(|| (key.tenant_id.as_str(), Vec::new()))
            .1
            .push(entry.fields());
    }
    groups
        .into_iter()
        .flat_map(|((app_id, mode), (tenant_id, mut fields))| {
            prepare_segments(tenant_id, app_id, mode, &mut fields)
        })
        .collect()
}

/// A row of the request log's first form.
#[derive(sqlx::FromRow)]
struct LegacyRow {
    tenant_id: String,
    app_id: String,
    mode: String,
    id: String,
    key_id: String,
    occurred_at: i64,
    method: String,
    route: String,
    status: i64,
    error_code: Option<String>,
    verify_code: Option<String>,
    latency_us: i64,
    origin: Option<String>,
    client_ip: Option<String>,
}

impl LegacyRow {
    fn fields(&self, id: u128) -> EntryFields<'_> {
        EntryFields {
            id,
            occurred_at_ms: self.occurred_at,
            key_id: &self.key_id,
            method: &self.method,
            route: &self.route,
            status: u16::try_from(self.status).unwrap_or_default(),
            error_code: self.error_code.as_deref(),
            verify_code: self.verify_code.as_deref(),
            latency_us: self.latency_us,
            origin: self.origin.as_deref(),
            client_ip: self.client_ip.as_deref(),
        }
    }
}

/// The request id of the millisecond `ms` with `random` as its ULID's random part.
fn request_id_at(ms: i64, random: u128) -> RequestId {
    request_id_of(ulid::Ulid::from_parts(ms.max(0) as u64, random).0)
}

/// The request id of a ULID.
fn request_id_of(ulid: u128) -> RequestId {
    RequestId::from_body(&ulid::Ulid(ulid).to_string().to_ascii_lowercase())
}

/// The ULID of a request id.
fn ulid_of(id: &RequestId) -> Option<u128> {
    let body = id.as_str().strip_prefix("req_")?;
    ulid::Ulid::from_string(body).ok().map(|ulid| ulid.0)
}

/// The smallest request id of the millisecond `ms`.
fn first_id_at(ms: i64) -> String {
    request_id_of(first_ulid_at(ms)).to_string()
}

/// The smallest request id's ULID of the millisecond `ms`.
fn first_ulid_at(ms: i64) -> u128 {
    ulid::Ulid::from_parts(ms.max(0) as u64, 0).0
}
