//! A key's own rate limit: a fixed window per key (the second or the
//! minute, by the clock), counted in this instance's memory. Several instances each
//! count their own calls, so with N instances a key may make up to N times its limit
//! in one window; the monthly quota (`quota`) is the limit that holds across them.

use std::collections::HashMap;
use std::sync::Mutex;

use gatehouse_model::{ApiKeyId, KeyRateLimit, LimitPolicy, LimitStatus};

use super::quota::ceil_seconds;

#[derive(Debug, Clone, Copy)]
struct Window {
    limit: KeyRateLimit,
    start_ms: i64,
    count: i64,
}

/// Each rate-limited key's current window on this instance.
#[derive(Debug, Default)]
pub(crate) struct RateWindows {
    keys: Mutex<HashMap<ApiKeyId, Window, foldhash::fast::RandomState>>,
}

impl RateWindows {
    /// Counts one call of `key_id` under `limit`: `Ok` with the status when it is
    /// within the limit, `Err` with it when the window is full (the refused call is not
    /// counted).
    pub fn take(
        &self,
        key_id: &ApiKeyId,
        limit: KeyRateLimit,
        now_ms: i64,
    ) -> Result<LimitStatus, LimitStatus> {
        let period_ms = limit.per.seconds() * 1000;
        let start_ms = now_ms - now_ms.rem_euclid(period_ms);
        let mut keys = self
            .keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let window = match keys.get_mut(key_id) {
            Some(window) => window,
            None => keys.entry(key_id.clone()).or_insert(Window {
                limit,
                start_ms,
                count: 0,
            }),
        };
        if window.start_ms != start_ms || window.limit != limit {
            *window = Window {
                limit,
                start_ms,
                count: 0,
            };
        }
        let admitted = window.count < limit.requests;
        window.count += i64::from(admitted);
        let status = LimitStatus {
            policy: LimitPolicy::Key,
            limit: limit.requests,
            window_seconds: limit.per.seconds(),
            remaining: limit.requests - window.count,
            reset_seconds: ceil_seconds(start_ms + period_ms - now_ms),
        };
        if admitted { Ok(status) } else { Err(status) }
    }

    /// Drops windows that ended before `now_ms` (run periodically: bounded memory).
    pub fn prune(&self, now_ms: i64) {
        self.keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|_, window| window.start_ms + window.limit.per.seconds() * 1000 > now_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_model::RatePeriod;

    #[test]
    fn a_window_admits_its_limit_then_refuses_until_it_rolls() {
        let windows = RateWindows::default();
        let key = ApiKeyId::from_body("k1");
        let limit = KeyRateLimit {
            requests: 2,
            per: RatePeriod::Minute,
        };
        let minute = 1_700_000_040_000_i64 - 1_700_000_040_000_i64.rem_euclid(60_000);
        assert_eq!(
            windows.take(&key, limit, minute + 1_000).unwrap().remaining,
            1
        );
        assert_eq!(
            windows.take(&key, limit, minute + 2_000).unwrap().remaining,
            0
        );
        let refused = windows.take(&key, limit, minute + 30_500).unwrap_err();
        assert_eq!((refused.remaining, refused.reset_seconds), (0, 30));
        assert!(
            windows.take(&key, limit, minute + 60_000).is_ok(),
            "the next minute"
        );
        windows.prune(minute + 180_000);
        assert!(windows.keys.lock().unwrap().is_empty());
    }
}
