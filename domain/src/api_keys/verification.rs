//! `POST /v1/keys/verify`: the SaaS's own services ask whether a customer's
//! key is good (optionally for one scope) and get a verdict code, and on success who
//! the key is and the quota left. A verification counts as a platform call, under the
//! key's rate limit and the tenant's monthly quota like any other (`limits`).

use std::sync::Arc;

use gatehouse_model::{VerifyCode, VerifyKeyRequest, VerifyKeyResponse};

use super::{KeyPrincipal, KeyRefusal, scopes_grant};
use crate::Gatehouse;
use crate::error::DomainError;

/// A verdict and, when the key was identified, the key it is about (the request log
/// records the verification under it).
#[derive(Debug, Clone)]
pub struct Verification {
    pub answer: VerifyKeyResponse,
    pub key: Option<Arc<KeyPrincipal>>,
}

fn refused(code: VerifyCode) -> VerifyKeyResponse {
    VerifyKeyResponse {
        valid: false,
        code,
        key_id: None,
        tenant_id: None,
        app_id: None,
        mode: None,
        scopes: None,
        remaining_quota: None,
    }
}

impl Gatehouse {
    /// The verdict on a customer's key. A key of a tenant without `platform.api`, or
    /// whose subscription is past due or canceled, is not valid.
    pub async fn verify_api_key(
        &self,
        request: &VerifyKeyRequest,
    ) -> Result<VerifyKeyResponse, DomainError> {
        Ok(self.verify_api_key_naming_it(request).await?.answer)
    }

    /// [`Self::verify_api_key`], answering also which key the verdict is about.
    pub async fn verify_api_key_naming_it(
        &self,
        request: &VerifyKeyRequest,
    ) -> Result<Verification, DomainError> {
        let verdict = self.judge_verification(request).await;
        let code = match &verdict {
            Ok(verification) => verification.answer.code.as_str(),
            Err(error) => error.code().as_str(),
        };
        self.metrics
            .count_authentication(crate::metrics::AuthMethod::Verify, code);
        verdict
    }

    async fn judge_verification(
        &self,
        request: &VerifyKeyRequest,
    ) -> Result<Verification, DomainError> {
        let unnamed = |code| Verification {
            answer: refused(code),
            key: None,
        };
        let authenticated = match self.authenticate(request.key.trim()).await? {
            Ok(authenticated) => authenticated,
            Err(refused) => {
                let code = match refused.refusal {
                    KeyRefusal::Missing | KeyRefusal::Malformed(_) | KeyRefusal::Unknown => {
                        VerifyCode::NotFound
                    }
                    KeyRefusal::Disabled => VerifyCode::Disabled,
                    KeyRefusal::Revoked => VerifyCode::Revoked,
                    KeyRefusal::Expired => VerifyCode::Expired,
                };
                // The answer names no key; the request log does, for the key's owner.
                return Ok(Verification {
                    key: refused.key,
                    ..unnamed(code)
                });
            }
        };
        let principal = authenticated.principal;
        let named = |code| Verification {
            answer: refused(code),
            key: Some(Arc::clone(&principal)),
        };
        if !authenticated.standing.platform_api_enabled {
            return Ok(named(VerifyCode::PlatformApiDisabled));
        }
        if !authenticated.standing.subscription_active {
            return Ok(named(VerifyCode::SubscriptionInactive));
        }
        // Over the tenant's monthly quota or the key's own rate limit, the call is
        // refused and not counted.
        let admission = match self.admit_under_limits(&principal).await {
            Ok(admission) => admission,
            Err(DomainError::UsageExceeded(_)) => return Ok(named(VerifyCode::UsageExceeded)),
            Err(DomainError::RateLimited(_)) => return Ok(named(VerifyCode::RateLimited)),
            Err(error) => return Err(error),
        };
        let mut response = VerifyKeyResponse {
            valid: true,
            code: VerifyCode::Valid,
            key_id: Some(principal.key_id.clone()),
            tenant_id: Some(principal.tenant_id.clone()),
            app_id: Some(principal.app_id.clone()),
            mode: Some(principal.mode),
            scopes: principal.scopes.clone(),
            // Test calls do not count against the monthly limit: no quota to report.
            remaining_quota: admission.monthly.map(|monthly| monthly.remaining),
        };
        if let Some(needed) = request.scope.as_deref().filter(|scope| !scope.is_empty())
            && !scopes_grant(principal.scopes.as_deref(), needed)
        {
            response.valid = false;
            response.code = VerifyCode::InsufficientScope;
        }
        // A verification counts as a platform call of the verified key.
        self.record_call(&principal, response.valid);
        Ok(Verification {
            answer: response,
            key: Some(principal),
        })
    }
}
