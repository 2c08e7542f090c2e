//! Key verification: the SaaS's own services ask whether a customer's key is good
//! (optionally for one scope) and get a verdict code, and on success who the key is and
//! the quota left. A verification counts as a platform call, under the key's rate
//! limit and the tenant's monthly quota like any other.

use std::sync::Arc;

use gatehouse_model::{VerifyCode, VerifyKeyRequest, VerifyKeyResponse};

use super::KeyPrincipal;
use crate::Gatehouse;
use crate::admission::{CallAttempt, Door};
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

    /// [`Self::verify_api_key`], answering also which key the verdict is about. The
    /// verification is admitted like any call (`crate::admission`, at the verify door):
    /// over a limit it is refused and not counted; otherwise it counts as a platform
    /// call of the verified key, a failed one when the key lacks the scope asked for.
    pub async fn verify_api_key_naming_it(
        &self,
        request: &VerifyKeyRequest,
    ) -> Result<Verification, DomainError> {
        let attempt = CallAttempt {
            door: Door::Verify,
            credential: Some(request.key.trim()),
            origin: None,
            scope: request.scope.as_deref(),
        };
        let call = match self.admit(attempt).await {
            Ok(call) => call,
            Err(refusal) => {
                let Some(code) = refusal.verify_code() else {
                    return Err(refusal.error);
                };
                // The answer names no key; the request log does, for the key's owner.
                return Ok(Verification {
                    answer: refused(code),
                    key: refusal.key,
                });
            }
        };
        self.finish_call(&call, true);
        let principal = call
            .key
            .ok_or_else(|| DomainError::Internal("a verification admitted no key".into()))?;
        let answer = VerifyKeyResponse {
            valid: true,
            code: VerifyCode::Valid,
            key_id: Some(principal.key_id.clone()),
            tenant_id: Some(principal.tenant_id.clone()),
            app_id: Some(principal.app_id.clone()),
            mode: Some(principal.mode),
            scopes: principal.scopes.clone(),
            // Test calls do not count against the limit: no quota to report.
            remaining_quota: call
                .limits
                .and_then(|limits| limits.monthly)
                .map(|monthly| monthly.remaining),
        };
        Ok(Verification {
            answer,
            key: Some(principal),
        })
    }
}
