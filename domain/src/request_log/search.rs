//! Reading the request log: the search by app, mode and filters for `/v1/request-logs`,
//! the dashboard's Logs page and a key's recent requests.
//!
//! Segments are read newest first (by their newest id), a few at a time, each found by
//! its app and mode or, when a filter names a key, an error code, a route or a status
//! class, by its terms; every filter is then applied to the decoded entries. Segments
//! may overlap in time (a slow request is logged with a later flush), so an entry is
//! answered only once no unread segment can hold a newer one: when its id is above the
//! newest id of the next segment.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use gatehouse_model::{
    ApiKeyId, AppId, KeyMode, Page, PageRequest, RequestId, RequestLogFilter, RequestLogView,
    RequestLogsPage,
};

use super::segment::{self, Decoded, DecodedEntry, Term};
use super::{first_id_at, first_ulid_at, request_id_of, ulid_of};
use crate::Gatehouse;
use crate::access::Access;
use crate::actor::Actor;
use crate::db::Placeholders;
use crate::error::DomainError;
use crate::paging::Keyset;

/// Segments read per query.
const SEGMENTS_PER_READ: i64 = 8;
/// Segments one search reads at most (up to 256,000 entries decoded, a few ms): filters
/// that match few entries of many segments answer a short page with a cursor to go on
/// from, rather than reading a month of the log in one request.
const MAX_SEGMENTS_PER_SEARCH: usize = 256;

/// What a search keeps of the entries, checked on each decoded entry.
struct Wanted {
    app_id: Option<AppId>,
    key_id: Option<String>,
    error_code: Option<String>,
    route: Option<String>,
    status: Option<(u16, u16)>,
    /// Ids from this one on (inclusive).
    lowest: Option<u128>,
    /// Ids below this one.
    below: Option<u128>,
}

impl Wanted {
    fn keeps(&self, segment: &Decoded, entry: &DecodedEntry) -> bool {
        self.lowest.is_none_or(|lowest| entry.id >= lowest)
            && self.below.is_none_or(|below| entry.id < below)
            && self
                .key_id
                .as_deref()
                .is_none_or(|key| segment.text(entry.key_id) == key)
            && self
                .error_code
                .as_deref()
                .is_none_or(|code| segment.optional_text(entry.error_code) == Some(code))
            && self
                .route
                .as_deref()
                .is_none_or(|route| segment.text(entry.route) == route)
            && self
                .status
                .is_none_or(|(low, high)| (low..high).contains(&entry.status))
    }

    /// The terms a segment must have, the most selective first.
    fn terms(&self) -> Vec<String> {
        [
            self.key_id.as_deref().map(Term::Key),
            self.error_code.as_deref().map(Term::ErrorCode),
            self.route.as_deref().map(Term::Route),
            self.status.map(|(low, _)| Term::StatusClass(low)),
        ]
        .into_iter()
        .flatten()
        .filter_map(Term::text)
        .collect()
    }
}

/// An entry found, waiting until no unread segment can hold a newer one: the entry
/// and the number of its segment among those read.
struct Found {
    id: u128,
    segment: usize,
    entry: DecodedEntry,
}

impl PartialEq for Found {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Found {}
impl PartialOrd for Found {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Found {
    fn cmp(&self, other: &Self) -> Ordering {
        self.id.cmp(&other.id)
    }
}

/// What a search read: entries newest first, and where it stopped when it read as many
/// segments as it may before the page was full (the newest id of the next segment).
struct NewestFirst {
    entries: Vec<RequestLogView>,
    stopped_above: Option<u128>,
}

impl NewestFirst {
    fn all(entries: Vec<RequestLogView>) -> Self {
        Self {
            entries,
            stopped_above: None,
        }
    }
}

impl Gatehouse {
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
        let (mode, app_id) = self
            .confined_app_and_mode(actor, filter.app_id.as_ref(), filter.mode, "requests")
            .await?;
        if let (Some(from), Some(to)) = (&filter.from, &filter.to)
            && to <= from
        {
            return Err(DomainError::field("to", "The range ends before it starts."));
        }
        let cursor = keyset
            .after
            .as_deref()
            .and_then(|cursor| RequestId::parse(cursor).ok())
            .and_then(|cursor| ulid_of(&cursor));
        let to = filter.to.map(|to| first_ulid_at(to.timestamp_millis()));
        let wanted = Wanted {
            app_id,
            key_id: filter.key_id.as_ref().map(ToString::to_string),
            error_code: filter
                .error_code
                .as_deref()
                .map(|code| code.trim().to_owned()),
            route: filter.route.as_deref().map(|route| route.trim().to_owned()),
            status: filter.status_class.map(|class| class.bounds()),
            lowest: filter
                .from
                .map(|from| first_ulid_at(from.timestamp_millis())),
            below: match (cursor, to) {
                (Some(cursor), Some(to)) => Some(cursor.min(to)),
                (cursor, to) => cursor.or(to),
            },
        };
        let rows = keyset.rows_to_read() as usize;
        let mut read = self.read_newest_first(actor, mode, &wanted, rows).await?;
        self.name_keys(actor, &mut read.entries).await?;
        Ok(match read.stopped_above {
            // Not every segment was read: everything above the next one's newest id
            // was; the next page goes on from there.
            Some(newest_unread) => Page {
                has_more: true,
                next_cursor: Some(request_id_of(newest_unread.saturating_add(1)).to_string()),
                data: read.entries,
            },
            None => keyset.page(read.entries, |entry| entry.id.to_string()),
        })
    }

    /// Fills in each entry's key name (one query for the page's keys).
    async fn name_keys(
        &self,
        actor: &Actor,
        entries: &mut [RequestLogView],
    ) -> Result<(), DomainError> {
        let mut key_ids: Vec<&str> = entries.iter().map(|entry| entry.key_id.as_str()).collect();
        key_ids.sort_unstable();
        key_ids.dedup();
        if key_ids.is_empty() {
            return Ok(());
        }
        let mut placeholders = Placeholders::new(self.db().engine());
        let tenant_at = placeholders.next();
        let sql = format!(
            "SELECT id, name FROM api_keys WHERE tenant_id = {tenant_at} AND id IN ({})",
            placeholders.list(key_ids.len())
        );
        let mut query = sqlx::query_as::<_, (String, String)>(&sql).bind(actor.tenant_id.as_str());
        for key_id in key_ids {
            query = query.bind(key_id);
        }
        let names: HashMap<String, String> = query
            .fetch_all(self.db().pool())
            .await?
            .into_iter()
            .collect();
        for entry in entries {
            entry.key_name = names.get(entry.key_id.as_str()).cloned();
        }
        Ok(())
    }

    /// Up to `rows` entries that `wanted` keeps, newest first, from at most
    /// [`MAX_SEGMENTS_PER_SEARCH`] segments.
    async fn read_newest_first(
        &self,
        actor: &Actor,
        mode: KeyMode,
        wanted: &Wanted,
        rows: usize,
    ) -> Result<NewestFirst, DomainError> {
        let mut answered = Vec::with_capacity(rows);
        let mut waiting = BinaryHeap::new();
        let mut read: Vec<(Decoded, AppId)> = Vec::new();
        let mut before_segment: Option<String> = None;
        loop {
            let segments = self
                .read_segments(actor, mode, wanted, before_segment.as_deref())
                .await?;
            let exhausted = (segments.len() as i64) < SEGMENTS_PER_READ;
            for (last_id, app_id, body) in segments {
                let newest = RequestId::parse(&last_id)
                    .ok()
                    .as_ref()
                    .and_then(ulid_of)
                    .ok_or_else(|| corrupt("last_id"))?;
                // No segment after this one holds an id above its newest.
                answer_above(Some(newest), &mut waiting, &read, mode, &mut answered, rows)?;
                if answered.len() >= rows {
                    return Ok(NewestFirst::all(answered));
                }
                if read.len() >= MAX_SEGMENTS_PER_SEARCH {
                    return Ok(NewestFirst {
                        entries: answered,
                        stopped_above: Some(newest),
                    });
                }
                let decoded = segment::decode(&body).map_err(|_| corrupt("body"))?;
                let app_id = AppId::parse(&app_id).map_err(|_| corrupt("app_id"))?;
                for entry in &decoded.entries {
                    if wanted.keeps(&decoded, entry) {
                        waiting.push(Found {
                            id: entry.id,
                            segment: read.len(),
                            entry: *entry,
                        });
                    }
                }
                read.push((decoded, app_id));
                before_segment = Some(last_id);
            }
            if exhausted {
                answer_above(None, &mut waiting, &read, mode, &mut answered, rows)?;
                return Ok(NewestFirst::all(answered));
            }
        }
    }

    /// The next segments (newest id, app, body) that may hold wanted entries, newest
    /// first, below `before_segment`.
    async fn read_segments(
        &self,
        actor: &Actor,
        mode: KeyMode,
        wanted: &Wanted,
        before_segment: Option<&str>,
    ) -> Result<Vec<(String, String, Vec<u8>)>, DomainError> {
        let terms = wanted.terms();
        let mut binds: Vec<String> = vec![actor.tenant_id.to_string(), mode.as_str().to_owned()];
        let mut clauses = Vec::new();
        let mut push = |clause: &str, value: String, binds: &mut Vec<String>| {
            binds.push(value);
            clauses.push(clause.replace('?', &format!("${}", binds.len())));
        };
        // Driven by the most selective term when a filter names one, else by the app.
        let from = match terms.split_first() {
            Some((first, others)) => {
                push("t.term = ?", first.clone(), &mut binds);
                for term in others {
                    push(
                        "EXISTS (SELECT 1 FROM request_log_terms o WHERE o.tenant_id = t.tenant_id \
                         AND o.mode = t.mode AND o.last_id = t.last_id AND o.term = ?)",
                        term.clone(),
                        &mut binds,
                    );
                }
                "request_log_terms t JOIN request_log_segments s ON s.last_id = t.last_id \
                 WHERE t.tenant_id = $1 AND t.mode = $2"
            }
            None => "request_log_segments s WHERE s.tenant_id = $1 AND s.mode = $2",
        };
        let ordered_by = if terms.is_empty() { "s" } else { "t" };
        if let Some(app_id) = &wanted.app_id {
            push("s.app_id = ?", app_id.to_string(), &mut binds);
        }
        if let Some(lowest) = wanted.lowest {
            push(
                &format!("{ordered_by}.last_id >= ?"),
                request_id_of(lowest).to_string(),
                &mut binds,
            );
        }
        if let Some(below) = wanted.below {
            // A segment spans at most MAX_SPAN_MS: one that starts below the bound
            // ends before the bound's millisecond plus that span.
            let reach = first_id_at(segment::id_ms(below) + segment::MAX_SPAN_MS + 1);
            push(&format!("{ordered_by}.last_id < ?"), reach, &mut binds);
            push(
                "s.first_id < ?",
                request_id_of(below).to_string(),
                &mut binds,
            );
        }
        if let Some(before) = before_segment {
            push(
                &format!("{ordered_by}.last_id < ?"),
                before.to_owned(),
                &mut binds,
            );
        }
        let sql = format!(
            "SELECT s.last_id, s.app_id, s.body FROM {from}{}{} \
             ORDER BY {ordered_by}.last_id DESC LIMIT {SEGMENTS_PER_READ}",
            if clauses.is_empty() { "" } else { " AND " },
            clauses.join(" AND "),
        );
        let mut query = sqlx::query_as(&sql);
        for value in binds {
            query = query.bind(value);
        }
        Ok(query.fetch_all(self.db().pool()).await?)
    }

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

/// Moves the waiting entries above `newest` (all of them when `None`) to the answer,
/// newest first, until it holds `rows`.
fn answer_above(
    newest: Option<u128>,
    waiting: &mut BinaryHeap<Found>,
    read: &[(Decoded, AppId)],
    mode: KeyMode,
    answered: &mut Vec<RequestLogView>,
    rows: usize,
) -> Result<(), DomainError> {
    while answered.len() < rows
        && waiting
            .peek()
            .is_some_and(|found| newest.is_none_or(|newest| found.id > newest))
    {
        if let Some(found) = waiting.pop() {
            let (segment, app_id) = &read[found.segment];
            answered.push(view_of(segment, &found.entry, app_id, mode)?);
        }
    }
    Ok(())
}

fn view_of(
    segment: &Decoded,
    entry: &DecodedEntry,
    app_id: &AppId,
    mode: KeyMode,
) -> Result<RequestLogView, DomainError> {
    Ok(RequestLogView {
        id: request_id_of(entry.id),
        occurred_at: chrono::DateTime::from_timestamp_millis(entry.occurred_at_ms)
            .ok_or_else(|| corrupt("body"))?,
        key_id: ApiKeyId::parse(segment.text(entry.key_id)).map_err(|_| corrupt("body"))?,
        key_name: None,
        app_id: app_id.clone(),
        mode,
        method: segment.text(entry.method).to_owned(),
        route: segment.text(entry.route).to_owned(),
        status: entry.status,
        error_code: segment.optional_text(entry.error_code).map(str::to_owned),
        verify_code: segment.optional_text(entry.verify_code).map(str::to_owned),
        latency_us: entry.latency_us,
        origin: segment.optional_text(entry.origin).map(str::to_owned),
        client_ip: segment.optional_text(entry.client_ip).map(str::to_owned),
    })
}

/// A stored segment that does not read back: an internal error naming the column.
fn corrupt(column: &str) -> DomainError {
    DomainError::Internal(format!(
        "a stored request log segment has an unreadable {column}"
    ))
}
