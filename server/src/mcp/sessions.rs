//! Which key each MCP session belongs to, and the bounds on them: at most
//! `per_key` live sessions for one key, and a session unused for `idle` ends. A session
//! answers only to the key that opened it. In memory, like the sessions themselves
//! (rmcp's `LocalSessionManager` holds their state).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gatehouse_model::ApiKeyId;

/// The bounds, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct SessionBounds {
    /// Live sessions one key may hold.
    pub per_key: usize,
    /// A session unused for this long ends.
    pub idle: Duration,
}

impl Default for SessionBounds {
    fn default() -> Self {
        Self {
            per_key: 10,
            idle: Duration::from_secs(30 * 60),
        }
    }
}

/// What a message's session id turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionUse {
    /// A live session of this key.
    Live,
    /// No session of this key has the id (unknown, ended, or another key's).
    Unknown,
    /// The key's session had been idle too long: it is ended now.
    Expired,
}

#[derive(Debug)]
struct Entry {
    key: ApiKeyId,
    last_used: Instant,
}

#[derive(Debug, Default)]
struct Registry {
    sessions: HashMap<String, Entry>,
    /// Per key: its live sessions plus the `initialize`s under way.
    held: HashMap<ApiKeyId, usize>,
    last_sweep: Option<Instant>,
}

impl Registry {
    fn remove(&mut self, session: &str) -> Option<Entry> {
        let entry = self.sessions.remove(session)?;
        self.release(&entry.key);
        Some(entry)
    }

    fn release(&mut self, key: &ApiKeyId) {
        if let Some(count) = self.held.get_mut(key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.held.remove(key);
            }
        }
    }
}

/// The registry of live sessions.
#[derive(Debug, Default)]
pub struct Sessions {
    bounds: SessionBounds,
    registry: Mutex<Registry>,
}

/// How often, at most, every session is checked for idleness (the ones a message names
/// are checked at once).
const SWEEP_EVERY: Duration = Duration::from_secs(60);

impl Sessions {
    pub fn new(bounds: SessionBounds) -> Self {
        Self {
            bounds,
            registry: Mutex::default(),
        }
    }

    pub fn bounds(&self) -> SessionBounds {
        self.bounds
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        // A panic while holding the lock leaves counts that are still counts.
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Holds a place for a session `key` is opening, if it has one left; the sessions
    /// idle too long are ended first, and returned for the server to close.
    pub fn reserve(&self, key: &ApiKeyId, now: Instant) -> (bool, Vec<String>) {
        let mut registry = self.registry();
        let expired = self.sweep(&mut registry, now);
        let held = registry.held.entry(key.clone()).or_default();
        let reserved = *held < self.bounds.per_key;
        if reserved {
            *held += 1;
        }
        (reserved, expired)
    }

    /// The session the reserved place became.
    pub fn opened(&self, session: &str, key: &ApiKeyId, now: Instant) {
        self.registry().sessions.insert(
            session.to_owned(),
            Entry {
                key: key.clone(),
                last_used: now,
            },
        );
    }

    /// The reserved place made no session (the `initialize` failed).
    pub fn not_opened(&self, key: &ApiKeyId) {
        self.registry().release(key);
    }

    /// A message of `key` names `session`.
    pub fn use_session(&self, session: &str, key: &ApiKeyId, now: Instant) -> SessionUse {
        let mut registry = self.registry();
        let Some(entry) = registry.sessions.get_mut(session) else {
            return SessionUse::Unknown;
        };
        if entry.key != *key {
            return SessionUse::Unknown;
        }
        if now.duration_since(entry.last_used) > self.bounds.idle {
            registry.remove(session);
            return SessionUse::Expired;
        }
        entry.last_used = now;
        SessionUse::Live
    }

    /// Whether `session` is a live session of `key`.
    pub fn belongs_to(&self, session: &str, key: &ApiKeyId) -> bool {
        self.registry()
            .sessions
            .get(session)
            .is_some_and(|entry| entry.key == *key)
    }

    /// Forgets `session` (ended by its client, or refused); whether it was known.
    pub fn end(&self, session: &str) -> bool {
        self.registry().remove(session).is_some()
    }

    /// Live sessions, all keys together.
    #[cfg(test)]
    pub fn live(&self) -> usize {
        self.registry().sessions.len()
    }

    /// Ends every session idle too long, at most once a [`SWEEP_EVERY`].
    fn sweep(&self, registry: &mut Registry, now: Instant) -> Vec<String> {
        if registry
            .last_sweep
            .is_some_and(|last| now.duration_since(last) < SWEEP_EVERY)
        {
            return Vec::new();
        }
        registry.last_sweep = Some(now);
        let idle = self.bounds.idle;
        let expired: Vec<String> = registry
            .sessions
            .iter()
            .filter(|(_, entry)| now.duration_since(entry.last_used) > idle)
            .map(|(session, _)| session.clone())
            .collect();
        for session in &expired {
            registry.remove(session);
        }
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> ApiKeyId {
        ApiKeyId::from_body(&format!("{n:0>26}"))
    }

    #[test]
    fn a_key_holds_at_most_its_bound_and_a_failed_open_gives_the_place_back() {
        let sessions = Sessions::new(SessionBounds {
            per_key: 2,
            idle: Duration::from_secs(60),
        });
        let now = Instant::now();
        assert!(sessions.reserve(&key(1), now).0);
        sessions.opened("a", &key(1), now);
        assert!(sessions.reserve(&key(1), now).0);
        assert!(!sessions.reserve(&key(1), now).0, "a third place");
        assert!(sessions.reserve(&key(2), now).0, "another key has its own");
        sessions.not_opened(&key(2));
        sessions.not_opened(&key(1));
        assert!(
            sessions.reserve(&key(1), now).0,
            "the failed open's place is back"
        );
        assert!(sessions.end("a"));
        assert!(
            sessions.reserve(&key(1), now).0,
            "an ended session's place is back"
        );
    }

    #[test]
    fn a_session_answers_only_to_its_key_and_ends_when_idle() {
        let sessions = Sessions::new(SessionBounds {
            per_key: 5,
            idle: Duration::from_secs(60),
        });
        let start = Instant::now();
        sessions.reserve(&key(1), start);
        sessions.opened("s", &key(1), start);
        assert_eq!(
            sessions.use_session("s", &key(2), start),
            SessionUse::Unknown
        );
        assert_eq!(sessions.use_session("s", &key(1), start), SessionUse::Live);
        let later = start + Duration::from_secs(50);
        assert_eq!(sessions.use_session("s", &key(1), later), SessionUse::Live);
        let idle = later + Duration::from_secs(61);
        assert_eq!(
            sessions.use_session("s", &key(1), idle),
            SessionUse::Expired
        );
        assert_eq!(
            sessions.use_session("s", &key(1), idle),
            SessionUse::Unknown
        );
        assert_eq!(sessions.live(), 0);
    }

    #[test]
    fn opening_a_session_sweeps_the_idle_ones_of_every_key() {
        let sessions = Sessions::new(SessionBounds {
            per_key: 1,
            idle: Duration::from_secs(60),
        });
        let start = Instant::now();
        sessions.reserve(&key(1), start);
        sessions.opened("old", &key(1), start);
        let (reserved, expired) = sessions.reserve(&key(1), start + Duration::from_secs(120));
        assert!(reserved, "the idle session gave its place back");
        assert_eq!(expired, vec!["old".to_owned()]);
    }
}
