//! The domain's clock: the system's in production, a manual one that tests move by
//! hand, so that rules about time (billing windows, expiry, purges, throttling) are
//! tested across boundaries without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Where "now" comes from. Cheap to clone; clones share the same manual time.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    manual_ms: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands at `start_ms` (Unix milliseconds) until moved.
    pub fn manual(start_ms: i64) -> Self {
        Self {
            manual_ms: Some(Arc::new(AtomicI64::new(start_ms))),
        }
    }

    /// Now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        match &self.manual_ms {
            Some(manual) => manual.load(Ordering::Acquire),
            None => crate::time::now_ms(),
        }
    }

    /// Sets a manual clock; the system clock cannot be set and ignores this.
    pub fn set_ms(&self, ms: i64) {
        if let Some(manual) = &self.manual_ms {
            manual.store(ms, Ordering::Release);
        }
    }

    /// Moves a manual clock forward by `ms`.
    pub fn advance_ms(&self, ms: i64) {
        if let Some(manual) = &self.manual_ms {
            manual.fetch_add(ms, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let clock = Clock::manual(1_000);
        let shared = clock.clone();
        assert_eq!(clock.now_ms(), 1_000);
        shared.advance_ms(500);
        assert_eq!(clock.now_ms(), 1_500);
        clock.set_ms(10);
        assert_eq!(shared.now_ms(), 10);
        let system = Clock::system();
        system.set_ms(0);
        assert!(system.now_ms() > 1_700_000_000_000);
    }
}
