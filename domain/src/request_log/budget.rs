//! What one caller may put into the request log, so that nobody can flood another
//! tenant's log or the shared buffer:
//! - calls and verifications of a refused key (disabled, revoked, expired) cost the
//!   caller nothing and are not rate-limited, so per key and per client address only so
//!   many a minute are recorded ([`RefusalBudget`]); beyond that they are answered as
//!   usual and counted, not recorded;
//! - one tenant's entries may fill at most [`TENANT_SHARE`] of the buffer between two
//!   flushes, so the others always have room.

use std::collections::HashMap;
use std::sync::Mutex;

/// Refused calls of one key recorded in a minute at most.
pub const REFUSALS_PER_KEY_PER_MINUTE: u32 = 60;
/// Refused calls from one client address recorded in a minute at most.
pub const REFUSALS_PER_ADDRESS_PER_MINUTE: u32 = 600;
/// The part of the buffer one tenant's entries may fill (a half).
pub const TENANT_SHARE: (usize, usize) = (1, 2);
/// Subjects remembered at most before the old minutes are forgotten.
const MAX_SUBJECTS: usize = 100_000;

/// Fixed one-minute windows of refused calls per key and per address, in memory.
#[derive(Debug, Default)]
pub(crate) struct RefusalBudget {
    windows: Mutex<HashMap<String, (i64, u32), foldhash::fast::RandomState>>,
}

impl RefusalBudget {
    /// Counts one refused call of `key_id` from `address` at `now_ms`; answers whether
    /// it may be recorded (both budgets have room).
    pub fn admit(&self, key_id: &str, address: Option<&str>, now_ms: i64) -> bool {
        let minute = now_ms.div_euclid(60_000);
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() >= MAX_SUBJECTS {
            windows.retain(|_, (window, _)| *window == minute);
        }
        let mut take = |subject: String, limit: u32| {
            let window = windows.entry(subject).or_insert((minute, 0));
            if window.0 != minute {
                *window = (minute, 0);
            }
            window.1 = window.1.saturating_add(1);
            window.1 <= limit
        };
        let key_ok = take(format!("key:{key_id}"), REFUSALS_PER_KEY_PER_MINUTE);
        let address_ok = address.is_none_or(|address| {
            take(
                format!("address:{address}"),
                REFUSALS_PER_ADDRESS_PER_MINUTE,
            )
        });
        key_ok && address_ok
    }
}

/// Whether one tenant holding `held` of a buffer of `capacity` entries may add another.
pub(crate) fn within_tenant_share(held: usize, capacity: usize) -> bool {
    held < (capacity * TENANT_SHARE.0 / TENANT_SHARE.1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_and_an_address_get_their_budget_a_minute() {
        let budget = RefusalBudget::default();
        // The start of a minute.
        let start = 1_800_000_000_000;
        let admitted = (0..100)
            .filter(|_| budget.admit("key_a", Some("203.0.113.1"), start))
            .count();
        assert_eq!(admitted, REFUSALS_PER_KEY_PER_MINUTE as usize);
        // Another key has its own budget; the next minute starts afresh.
        assert!(budget.admit("key_b", Some("203.0.113.1"), start));
        assert!(budget.admit("key_a", Some("203.0.113.1"), start + 60_000));
        // One address cycling through many keys is held by its own budget.
        let budget = RefusalBudget::default();
        let admitted = (0..1_000)
            .filter(|index| budget.admit(&format!("key_{index}"), Some("198.51.100.9"), start))
            .count();
        assert_eq!(admitted, REFUSALS_PER_ADDRESS_PER_MINUTE as usize);
    }

    #[test]
    fn a_tenant_fills_at_most_half_the_buffer() {
        assert!(within_tenant_share(0, 10));
        assert!(within_tenant_share(4, 10));
        assert!(!within_tenant_share(5, 10));
        assert!(within_tenant_share(0, 1));
    }
}
