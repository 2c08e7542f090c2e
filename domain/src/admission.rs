//! Admission: the one decision every door makes before a key's call goes ahead. The
//! `/v1` API and every later door (an MCP server, a gateway in front of the SaaS's API)
//! call [`Gatehouse::admit`] and then [`Gatehouse::finish_call`]; none of them repeats
//! these rules.
//!
//! In order:
//! 1. the credential: a key's secret or an access token, refused when missing, unknown,
//!    disabled, revoked or expired (the refusal names the key when it was identified,
//!    so that its owner's request log records it);
//! 2. the calling browser's `Origin`, which the key's app must allow;
//! 3. the key's own rate limit, then the tenant's monthly quota (live keys only).
//!
//! Every attempt is counted in the metrics by its outcome's code. A call refused for its
//! origin counts as a failed call of the key; a call refused by a limit is neither
//! counted nor billed. An admitted call counts once its outcome is known.

use std::sync::Arc;

use crate::Gatehouse;
use crate::actor::{Actor, KeyPrincipal};
use crate::error::DomainError;
use crate::limits::Admission;
use crate::metrics::AuthMethod;

/// What a caller presents at a door.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallAttempt<'a> {
    /// The credential, as the door read it from its own headers.
    pub credential: Option<&'a str>,
    /// The browser's `Origin`, when a page made the call.
    pub origin: Option<&'a str>,
}

/// A call that may go ahead.
#[derive(Debug, Clone)]
pub struct AdmittedCall {
    /// Who calls, for the operation to check its access against.
    pub actor: Arc<Actor>,
    /// Whether a browser origin came with the call (and was allowed): the door lets
    /// the page read the answer.
    pub origin_allowed: bool,
    /// Where the call stands against its limits, for the door's `RateLimit` headers.
    pub limits: Option<Admission>,
    /// The key that calls (shared with the actor).
    pub key: Option<Arc<KeyPrincipal>>,
}

/// A call that may not go ahead, and why.
#[derive(Debug)]
pub struct RefusedCall {
    pub error: DomainError,
    /// The key, when the credential identified one.
    pub key: Option<Arc<KeyPrincipal>>,
}

impl Gatehouse {
    /// Decides whether a call goes ahead (see the module's rules), counting the attempt.
    pub async fn admit(&self, attempt: CallAttempt<'_>) -> Result<AdmittedCall, RefusedCall> {
        let count =
            |code: &'static str| self.metrics.count_authentication(AuthMethod::ApiKey, code);
        let actor = match self.api_key_caller(attempt.credential).await {
            Ok(actor) => actor,
            Err((error, key)) => {
                count(error.code().as_str());
                return Err(RefusedCall { error, key });
            }
        };
        let key = actor.api_key_shared();
        // The key's app's origins came with the key: no look-up.
        let origin_allowed = match (attempt.origin, &key) {
            (Some(origin), Some(key)) => {
                if !key.allows_origin(origin) {
                    self.record_call(key, false);
                    let error = DomainError::OriginNotAllowed;
                    count(error.code().as_str());
                    return Err(RefusedCall {
                        error,
                        key: Some(Arc::clone(key)),
                    });
                }
                true
            }
            _ => false,
        };
        let limits = match &key {
            Some(key) => match self.admit_under_limits(key).await {
                Ok(admission) => Some(admission),
                Err(error) => {
                    count(error.code().as_str());
                    return Err(RefusedCall {
                        error,
                        key: Some(Arc::clone(key)),
                    });
                }
            },
            None => None,
        };
        count("ok");
        Ok(AdmittedCall {
            actor: Arc::new(actor),
            origin_allowed,
            limits,
            key,
        })
    }

    /// Counts an admitted call's outcome against its key: a success, or a failure.
    pub fn finish_call(&self, call: &AdmittedCall, succeeded: bool) {
        if let Some(key) = &call.key {
            self.record_call(key, succeeded);
        }
    }
}
