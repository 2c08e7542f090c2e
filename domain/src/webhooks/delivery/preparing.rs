//! Preparing: what a claimed batch needs to be sent, read in two queries for the whole
//! batch — each endpoint with its live signing secrets (opened), and the bodies of the
//! events that were not handed over with their deliveries.

use std::collections::{HashMap, HashSet};

use gatehouse_model::{EventId, TenantId, WebhookEndpointId};
use sqlx::Row;

use super::{Claimed, EventBody, Prepared};
use crate::Gatehouse;
use crate::db::Placeholders;
use crate::error::DomainError;
use crate::stored::Stored;
use crate::webhooks::secrets::SigningSecret;

/// Ids one look-up names at most.
const IDS_PER_QUERY: usize = 500;

/// An endpoint as attempts to it need it: its URL and its live signing secrets
/// (opened), newest first.
struct Destination {
    url: String,
    secrets: Vec<SigningSecret>,
}

impl Gatehouse {
    /// [`Self::prepare`], and when it fails, forgets the claimed rows as outstanding
    /// here (their leases run out and any worker takes them again).
    pub(super) async fn prepare_or_release(
        &self,
        claimed: Vec<Claimed>,
    ) -> Result<Vec<Prepared>, DomainError> {
        let claimed_for: Vec<(TenantId, WebhookEndpointId)> = claimed
            .iter()
            .map(|job| (job.tenant_id.clone(), job.endpoint_id.clone()))
            .collect();
        let prepared = self.prepare(claimed).await;
        if prepared.is_err() {
            for (tenant_id, endpoint_id) in &claimed_for {
                self.webhooks.release(tenant_id, endpoint_id);
            }
        }
        prepared
    }

    /// Loads what the claimed deliveries need; a delivery whose endpoint or event is
    /// gone, or whose secret cannot be opened, is left out (its lease runs out and a
    /// later claim tries again, or finds it gone).
    async fn prepare(&self, claimed: Vec<Claimed>) -> Result<Vec<Prepared>, DomainError> {
        let endpoint_ids = unique(claimed.iter().map(|job| &job.endpoint_id));
        // Events handed over with their deliveries are not read back.
        let event_ids = unique(
            claimed
                .iter()
                .filter(|job| job.body.is_none())
                .map(|job| &job.event_id),
        );
        let destinations = self.destinations_of(&endpoint_ids).await?;
        let bodies = self.bodies_of(&event_ids).await?;
        let mut prepared = Vec::with_capacity(claimed.len());
        for mut job in claimed {
            let destination = destinations.get(&job.endpoint_id);
            let body = job
                .body
                .take()
                .or_else(|| bodies.get(&job.event_id).cloned());
            match (destination, body) {
                (Some(destination), Some(body)) if !destination.secrets.is_empty() => prepared
                    .push(Prepared {
                        url: destination.url.clone(),
                        secrets: destination.secrets.clone(),
                        body,
                        claimed: job,
                    }),
                _ => self.webhooks.release(&job.tenant_id, &job.endpoint_id),
            }
        }
        Ok(prepared)
    }

    /// Each endpoint's destination.
    async fn destinations_of(
        &self,
        endpoint_ids: &[&WebhookEndpointId],
    ) -> Result<HashMap<WebhookEndpointId, Destination>, DomainError> {
        let now = self.now_ms();
        let mut destinations: HashMap<WebhookEndpointId, Destination> = HashMap::new();
        let keys = self.webhooks.settings.master_keys.as_ref();
        for chunk in endpoint_ids.chunks(IDS_PER_QUERY) {
            let mut placeholders = Placeholders::new(self.db().engine());
            let now_at = placeholders.next();
            let sql = format!(
                "SELECT e.id, e.url, s.sealed_secret
                 FROM webhook_endpoints e
                 LEFT JOIN webhook_secrets s ON s.endpoint_id = e.id
                    AND (s.retires_at IS NULL OR s.retires_at > {now_at})
                 WHERE e.id IN ({})
                 ORDER BY s.created_at DESC",
                placeholders.list(chunk.len())
            );
            let query = chunk.iter().fold(sqlx::query(&sql).bind(now), |query, id| {
                query.bind(id.as_str())
            });
            for row in query.fetch_all(self.db().pool()).await? {
                let stored = Stored::new(&row, "webhook endpoint");
                let endpoint_id = stored.parsed("id", |id| WebhookEndpointId::parse(id).ok())?;
                if !destinations.contains_key(&endpoint_id) {
                    destinations.insert(
                        endpoint_id.clone(),
                        Destination {
                            url: stored.get("url")?,
                            secrets: Vec::new(),
                        },
                    );
                }
                let Some(sealed) = row.try_get::<Option<String>, _>("sealed_secret")? else {
                    continue;
                };
                match keys.map(|keys| keys.open(&sealed)) {
                    Some(Ok(secret)) => {
                        if let Some(destination) = destinations.get_mut(&endpoint_id) {
                            destination.secrets.push(secret);
                        }
                    }
                    Some(Err(error)) => {
                        tracing::error!(%endpoint_id, %error, "a signing secret cannot be opened")
                    }
                    None => tracing::error!("no master key: webhook secrets cannot be opened"),
                }
            }
        }
        Ok(destinations)
    }

    /// The bodies of the events.
    async fn bodies_of(
        &self,
        event_ids: &[&EventId],
    ) -> Result<HashMap<EventId, EventBody>, DomainError> {
        let mut bodies = HashMap::new();
        for chunk in event_ids.chunks(IDS_PER_QUERY) {
            let sql = format!(
                "SELECT id, event_type, payload, occurred_at FROM outbox_events WHERE id IN ({})",
                Placeholders::new(self.db().engine()).list(chunk.len())
            );
            let query = chunk
                .iter()
                .fold(sqlx::query(&sql), |query, id| query.bind(id.as_str()));
            for row in query.fetch_all(self.db().pool()).await? {
                let stored = Stored::new(&row, "event");
                let event_type: String = stored.get("event_type")?;
                let payload: String = stored.get("payload")?;
                let occurred_at: i64 = stored.get("occurred_at")?;
                bodies.insert(
                    stored.parsed("id", |id| EventId::parse(id).ok())?,
                    EventBody::new(&event_type, occurred_at, &payload),
                );
            }
        }
        Ok(bodies)
    }
}

/// The values once each, in the order first seen.
fn unique<'a, T: Eq + std::hash::Hash>(values: impl Iterator<Item = &'a T>) -> Vec<&'a T> {
    let mut seen = HashSet::new();
    values.filter(|value| seen.insert(*value)).collect()
}
