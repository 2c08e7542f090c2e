//! Admission: the one decision every door makes before a key's call goes ahead. The
//! `/v1` API, `POST /v1/keys/verify`, the MCP server (`/mcp`) and every later door (a
//! gateway in front of the SaaS's API) call [`Gatehouse::admit`] and then [`Gatehouse::finish_call`];
//! none of them repeats these rules.
//!
//! In order:
//! 1. the credential: a key's secret or an access token, refused when missing, unknown,
//!    disabled, revoked or expired (the refusal names the key when it was identified,
//!    so that its owner's request log records it);
//! 2. the calling browser's `Origin`, which the key's app must allow;
//! 3. at a door that answers for the tenant's standing (verify), the tenant's plan
//!    (`platform.api`) and subscription; at `/v1` each operation checks it with its own
//!    access, so that the answer names what is missing;
//! 4. the key's own rate limit, then the tenant's monthly quota (live keys only);
//! 5. the scope the door asks for up front, when it asks for one (verify's `scope`).
//!
//! Every attempt is counted in the metrics under its door, by its outcome's code. A call
//! refused for its origin or its scope counts as a failed call of the key (usage); any
//! other refusal of a key it identified (disabled, revoked, expired, a limit) counts as
//! refused, in the key's own counts and never as usage. An admitted call counts once its
//! outcome is known.

use std::sync::Arc;

use gatehouse_model::VerifyCode;

use crate::Gatehouse;
use crate::actor::{Actor, KeyPrincipal};
use crate::api_keys::KeyRefusal;
use crate::error::DomainError;
use crate::limits::Admission;
use crate::metrics::AuthMethod;
use crate::usage::CallOutcome;

/// Where a call comes in; it decides which standing checks admission makes and how the
/// attempt is labelled in the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Door {
    /// The JSON API, called with the key (or access token) itself.
    #[default]
    Api,
    /// `POST /v1/keys/verify`: the SaaS's services asking about a customer's key.
    Verify,
}

/// What a caller presents at a door.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallAttempt<'a> {
    pub door: Door,
    /// The credential, as the door read it from its own headers or body.
    pub credential: Option<&'a str>,
    /// The browser's `Origin`, when a page made the call.
    pub origin: Option<&'a str>,
    /// A scope the whole call needs, when the door knows it before the call runs.
    pub scope: Option<&'a str>,
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

impl RefusedCall {
    /// The verdict code a verification answers for this refusal; `None` when the
    /// refusal is not about the key (the database failed), so the door answers an error.
    pub fn verify_code(&self) -> Option<VerifyCode> {
        verify_code(&self.error)
    }
}

fn verify_code(error: &DomainError) -> Option<VerifyCode> {
    Some(match error {
        DomainError::KeyRefused(refusal) => match refusal {
            KeyRefusal::Missing | KeyRefusal::Malformed(_) | KeyRefusal::Unknown => {
                VerifyCode::NotFound
            }
            KeyRefusal::Disabled => VerifyCode::Disabled,
            KeyRefusal::Revoked => VerifyCode::Revoked,
            KeyRefusal::Expired => VerifyCode::Expired,
        },
        DomainError::ModuleNotEnabled => VerifyCode::PlatformApiDisabled,
        DomainError::SubscriptionInactive => VerifyCode::SubscriptionInactive,
        DomainError::TenantSuspended => VerifyCode::TenantSuspended,
        DomainError::UsageExceeded(_) => VerifyCode::UsageExceeded,
        DomainError::RateLimited(_) => VerifyCode::RateLimited,
        DomainError::InsufficientScope(_) => VerifyCode::InsufficientScope,
        _ => return None,
    })
}

impl Gatehouse {
    /// Decides whether a call goes ahead (see the module's rules), counting the attempt.
    pub async fn admit(&self, attempt: CallAttempt<'_>) -> Result<AdmittedCall, RefusedCall> {
        let verdict = self.judge_admission(attempt).await;
        self.count_admission(attempt.door, &verdict);
        if let Err(RefusedCall {
            error,
            key: Some(key),
        }) = &verdict
        {
            let outcome = match error {
                DomainError::OriginNotAllowed | DomainError::InsufficientScope(_) => {
                    CallOutcome::Failed
                }
                _ => CallOutcome::Refused,
            };
            self.record_call(key, outcome);
        }
        verdict
    }

    async fn judge_admission(&self, attempt: CallAttempt<'_>) -> Result<AdmittedCall, RefusedCall> {
        let actor = self
            .api_key_caller(attempt.credential)
            .await
            .map_err(|(error, key)| RefusedCall { error, key })?;
        let Some(key) = actor.api_key_shared() else {
            // Not a key: nothing below applies (no door admits other callers today).
            return Ok(AdmittedCall {
                actor: Arc::new(actor),
                origin_allowed: false,
                limits: None,
                key: None,
            });
        };
        let refused = |error: DomainError| RefusedCall {
            error,
            key: Some(Arc::clone(&key)),
        };
        // The key's app's origins came with the key: no look-up.
        let origin_allowed = match attempt.origin {
            Some(origin) if !key.allows_origin(origin) => {
                return Err(refused(DomainError::OriginNotAllowed));
            }
            Some(_) => true,
            None => false,
        };
        if attempt.door == Door::Verify {
            actor.require_platform().map_err(refused)?;
        }
        let limits = self
            .admit_under_limits(&key, actor.standing.billing_anchor_day)
            .await
            .map_err(refused)?;
        if let Some(scope) = attempt.scope.filter(|scope| !scope.is_empty())
            && !key.grants(scope)
        {
            return Err(refused(DomainError::InsufficientScope(
                "the scope asked for",
            )));
        }
        Ok(AdmittedCall {
            actor: Arc::new(actor),
            origin_allowed,
            limits: Some(limits),
            key: Some(key),
        })
    }

    /// Counts an attempt under its door: `/v1` by the error code (`ok` when admitted),
    /// verify by its verdict code.
    fn count_admission(&self, door: Door, verdict: &Result<AdmittedCall, RefusedCall>) {
        let (method, code) = match door {
            Door::Api => (
                AuthMethod::ApiKey,
                match verdict {
                    Ok(_) => "ok",
                    Err(refused) => refused.error.code().as_str(),
                },
            ),
            Door::Verify => (
                AuthMethod::Verify,
                match verdict {
                    Ok(_) => VerifyCode::Valid.as_str(),
                    Err(refused) => match refused.verify_code() {
                        Some(code) => code.as_str(),
                        None => refused.error.code().as_str(),
                    },
                },
            ),
        };
        self.metrics.count_authentication(method, code);
    }

    /// Counts an admitted call's outcome against its key: a success, or a failure.
    pub fn finish_call(&self, call: &AdmittedCall, succeeded: bool) {
        if let Some(key) = &call.key {
            let outcome = if succeeded {
                CallOutcome::Succeeded
            } else {
                CallOutcome::Failed
            };
            self.record_call(key, outcome);
        }
    }
}
