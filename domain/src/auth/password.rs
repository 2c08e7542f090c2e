//! Passwords: argon2id hashing and checking, done by a bounded number of workers at a
//! time so that sign-in cannot be turned into a memory or CPU lever.
//!
//! Each check holds about 19 MiB for tens of milliseconds. Unbounded, a burst of
//! sign-ins (for any email, known or not) runs as many at once as the blocking pool
//! has threads; here at most [`PasswordChecks::concurrency`] run together, and a check
//! that cannot start within [`MAX_QUEUE_WAIT`] is refused as busy instead of queueing
//! without end. The work runs on a few threads of its own ([`WORKERS`]), never on the
//! blocking pool: each thread keeps reusing its one 19 MiB block, where the blocking
//! pool's many threads would each keep one of their own.

use std::cell::RefCell;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::error::DomainError;
use crate::ids;

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;
/// How long a sign-in waits for a free worker before it is answered "busy".
pub const MAX_QUEUE_WAIT: Duration = Duration::from_secs(5);

/// OWASP's argon2id parameters: m=19456 KiB, t=2, p=1.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn validate_new_password(password: &str) -> Result<(), DomainError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(DomainError::field(
            "password",
            format!("Use at least {MIN_PASSWORD_LEN} characters."),
        ));
    }
    Ok(())
}

/// The threads that hash and check passwords, as many as the machine has cores (at
/// least one, at most four), shared by the process.
static WORKERS: LazyLock<Workers> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    Workers::start(cores.clamp(1, 4))
});

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads taking jobs from one queue.
struct Workers {
    queue: SyncSender<Job>,
}

impl Workers {
    fn start(threads: usize) -> Self {
        // Callers are bounded by their semaphore: the queue only smooths hand-over.
        let (queue, jobs) = sync_channel::<Job>(64);
        let jobs = Arc::new(Mutex::new(jobs));
        for index in 0..threads {
            let jobs: Arc<Mutex<Receiver<Job>>> = Arc::clone(&jobs);
            std::thread::Builder::new()
                .name(format!("gatehouse-passwords-{index}"))
                .spawn(move || {
                    loop {
                        let job = match jobs.lock() {
                            Ok(jobs) => jobs.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .expect("start a password worker thread");
        }
        Self { queue }
    }

    /// Runs `work` on a worker thread and answers its result.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(work());
        });
        let stopped = || DomainError::Internal("the password workers stopped".to_owned());
        match self.queue.try_send(job) {
            Ok(()) => {}
            // The queue is bounded: when it is full, handing over waits for a free slot,
            // off the async threads.
            Err(TrySendError::Full(job)) => {
                let queue = self.queue.clone();
                tokio::task::spawn_blocking(move || queue.send(job))
                    .await
                    .map_err(|error| DomainError::Internal(error.to_string()))?
                    .map_err(|_| stopped())?;
            }
            Err(TrySendError::Disconnected(_)) => return Err(stopped()),
        }
        answered
            .await
            .map_err(|_| DomainError::Internal("a password worker failed".to_owned()))
    }
}

/// Hashes a password with argon2id on the password workers.
pub async fn hash_password(password: &str) -> Result<String, DomainError> {
    let password = password.to_owned();
    WORKERS
        .run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|error| DomainError::Internal(format!("password hashing failed: {error}")))
        })
        .await?
}

/// The instance's password checks: at most `concurrency` at a time.
#[derive(Debug, Clone)]
pub struct PasswordChecks {
    permits: Arc<Semaphore>,
    concurrency: usize,
    max_wait: Duration,
}

impl Default for PasswordChecks {
    /// As many checks at once as the machine has cores (at least one).
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::new(cores)
    }
}

impl PasswordChecks {
    pub fn new(concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            max_wait: MAX_QUEUE_WAIT,
        }
    }

    /// How many checks run at once at most.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Checks a password against a stored hash, off the async threads. With no hash (an
    /// unknown email) it still does the same work, so timing does not reveal accounts.
    /// Refused with [`DomainError::SignInBusy`] when no worker frees up in time.
    pub async fn verify(
        &self,
        password: &str,
        stored_hash: Option<String>,
    ) -> Result<bool, DomainError> {
        let permit = tokio::time::timeout(self.max_wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| DomainError::SignInBusy {
                retry_after_seconds: self.max_wait.as_secs().max(1),
            })?
            .map_err(|_| DomainError::Internal("password checks are closed".to_owned()))?;
        let password = password.to_owned();
        WORKERS
            .run(move || {
                let _permit = permit;
                verify_now(&password, stored_hash)
            })
            .await
    }
}

/// The most argon2 memory a worker keeps for reuse (64 MiB); a stored hash asking for
/// more is checked with memory of its own.
const MAX_REUSED_BLOCKS: usize = 64 * 1024;

thread_local! {
    /// This worker's argon2 memory, reused by every check it runs. Allocating it per
    /// check made the allocator keep several 19 MiB blocks per thread (aligned blocks
    /// that a freed one could not hold), growing the server by hundreds of MiB.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn verify_now(password: &str, stored_hash: Option<String>) -> bool {
    // A person without a password (one who signs in by the SaaS's links only) is
    // checked against the dummy hash, like an unknown email, so the time taken tells
    // nothing.
    let usable = stored_hash.filter(|hash| PasswordHash::new(hash).is_ok());
    let hash_text = usable.clone().unwrap_or_else(|| DUMMY_HASH.clone());
    let Ok(parsed) = PasswordHash::new(&hash_text) else {
        return false;
    };
    let matches = check_in_reused_memory(password.as_bytes(), &parsed).unwrap_or(false);
    matches && usable.is_some()
}

/// Computes the hash of `password` with the stored hash's algorithm, version,
/// parameters and salt, in this worker's reused memory, and compares the outputs in
/// constant time. `None` when the stored hash cannot be read.
fn check_in_reused_memory(password: &[u8], stored: &PasswordHash<'_>) -> Option<bool> {
    let algorithm = Algorithm::try_from(stored.algorithm).ok()?;
    let version = match stored.version {
        Some(version) => Version::try_from(version).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(stored).ok()?;
    let expected = stored.hash?;
    let mut salt_bytes = [0u8; 64];
    let salt = stored.salt?.decode_b64(&mut salt_bytes).ok()?;
    let blocks = params.block_count();
    let hasher = Argon2::new(algorithm, version, params);
    let mut output = vec![0u8; expected.len()];
    if blocks > MAX_REUSED_BLOCKS {
        hasher
            .hash_password_into(password, salt, &mut output)
            .ok()?;
    } else {
        MEMORY
            .with_borrow_mut(|memory| {
                if memory.len() < blocks {
                    memory.resize(blocks, Block::default());
                }
                hasher.hash_password_into_with_memory(
                    password,
                    salt,
                    &mut output,
                    &mut memory[..blocks],
                )
            })
            .ok()?;
    }
    // `Output`'s equality is constant-time.
    Some(argon2::password_hash::Output::new(&output).ok()? == expected)
}

/// A real hash of a random password, made once: checked against when the email is
/// unknown, so that the answer takes as long as for a real account.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(ids::random_hex(16).as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .unwrap_or_default()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let checks = PasswordChecks::new(1);
        let hash = hash_password("correct horse battery").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            checks
                .verify("correct horse battery", Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !checks
                .verify("wrong horse battery", Some(hash))
                .await
                .unwrap()
        );
        assert!(!checks.verify("anything at all", None).await.unwrap());
    }

    #[test]
    fn a_hash_is_checked_with_its_own_parameters_and_salt() {
        // A hash made with other parameters (as older accounts may have) still checks.
        let light = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let stored = light
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(verify_now("correct horse battery", Some(stored.clone())));
        assert!(!verify_now("correct horse batterY", Some(stored.clone())));
        // The reused memory is larger now; a smaller hash still checks right.
        assert!(verify_now("correct horse battery", Some(stored)));
        assert!(!verify_now("anything", Some("not a hash".to_owned())));
    }

    #[tokio::test]
    async fn a_check_that_cannot_start_in_time_is_refused_as_busy() {
        let checks = PasswordChecks {
            max_wait: Duration::from_millis(200),
            ..PasswordChecks::new(1)
        };
        // Every worker is taken (as by a burst of sign-ins): the next check waits at
        // most its wait, then is answered busy without hashing anything.
        let taken = checks.permits.clone().acquire_owned().await.unwrap();
        let started = std::time::Instant::now();
        let refused = checks.verify("anything at all", None).await;
        assert!(matches!(
            refused,
            Err(DomainError::SignInBusy { retry_after_seconds }) if retry_after_seconds > 0
        ));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(2));
        // Once a worker is free, checks run again.
        drop(taken);
        assert!(!checks.verify("anything at all", None).await.unwrap());
    }
}
