//! Whether a key's call may go ahead: the key's own rate limit first,
//! then, for live keys, the tenant's monthly quota. The answer carries where the call
//! stands against each limit, for the `RateLimit` headers; a refusal is a 429 with the
//! same status. Refused calls are not platform calls: they are neither counted nor
//! billed.

pub(crate) mod quota;
pub(crate) mod rate;

use gatehouse_model::{KeyMode, LimitStatus};

use crate::Gatehouse;
use crate::actor::KeyPrincipal;
use crate::error::DomainError;

/// The limits an admitted call stands against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Admission {
    /// The tenant's monthly quota (live keys only).
    pub monthly: Option<LimitStatus>,
    /// The key's own rate limit, when it has one.
    pub key_rate: Option<LimitStatus>,
}

impl Admission {
    /// Each limit in force, the key's first.
    pub fn statuses(&self) -> impl Iterator<Item = &LimitStatus> + Clone {
        self.key_rate.iter().chain(self.monthly.iter())
    }
}

impl Gatehouse {
    /// Admits one call by `key`, or refuses it with [`DomainError::RateLimited`] or
    /// [`DomainError::UsageExceeded`]. Test keys never count against the monthly limit.
    /// No database write unless this instance needs a new block of quota.
    /// `billing_anchor_day` is the key's tenant's (see `tenants::billing_window`).
    pub async fn admit_under_limits(
        &self,
        key: &KeyPrincipal,
        billing_anchor_day: u32,
    ) -> Result<Admission, DomainError> {
        let key_rate = match key.rate_limit {
            Some(limit) => Some(
                self.rate_windows
                    .take(&key.key_id, limit, self.now_ms())
                    .map_err(DomainError::RateLimited)?,
            ),
            None => None,
        };
        let monthly = match key.mode {
            KeyMode::Live => Some(self.spend_quota(&key.tenant_id, billing_anchor_day).await?),
            KeyMode::Test => None,
        };
        Ok(Admission { monthly, key_rate })
    }

    /// Forgets rate windows that ended (bounded memory); run about once a second.
    pub fn prune_rate_windows(&self) {
        self.rate_windows.prune(self.now_ms());
    }
}
