//! `POST /v1/keys/verify` (SPEC X-3): the SaaS's own services ask whether a customer's
//! key is good (optionally for one scope) and get a verdict code, and on success who
//! the key is and the quota left. A verification counts as a platform call, under the
//! key's rate limit and the tenant's monthly quota like any other (`limits`).

use gatehouse_model::{VerifyCode, VerifyKeyRequest, VerifyKeyResponse};

use super::{KeyRefusal, scopes_grant};
use crate::Gatehouse;
use crate::error::DomainError;

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
        let verdict = self.judge_verification(request).await;
        let code = match &verdict {
            Ok(response) => response.code.as_str(),
            Err(error) => error.code().as_str(),
        };
        self.metrics
            .count_authentication(crate::metrics::AuthMethod::Verify, code);
        verdict
    }

    async fn judge_verification(
        &self,
        request: &VerifyKeyRequest,
    ) -> Result<VerifyKeyResponse, DomainError> {
        let authenticated = match self.authenticate(request.key.trim()).await? {
            Ok(authenticated) => authenticated,
            Err(KeyRefusal::Missing | KeyRefusal::Malformed(_) | KeyRefusal::Unknown) => {
                return Ok(refused(VerifyCode::NotFound));
            }
            Err(KeyRefusal::Disabled) => return Ok(refused(VerifyCode::Disabled)),
            Err(KeyRefusal::Revoked) => return Ok(refused(VerifyCode::Revoked)),
            Err(KeyRefusal::Expired) => return Ok(refused(VerifyCode::Expired)),
        };
        let principal = authenticated.principal;
        if !authenticated.standing.platform_api_enabled {
            return Ok(refused(VerifyCode::PlatformApiDisabled));
        }
        if !authenticated.standing.subscription_active {
            return Ok(refused(VerifyCode::SubscriptionInactive));
        }
        // Over a limit, the call is refused and not counted (SPEC U-2, U-5).
        let admission = match self.admit_call(&principal).await {
            Ok(admission) => admission,
            Err(DomainError::UsageExceeded(_)) => return Ok(refused(VerifyCode::UsageExceeded)),
            Err(DomainError::RateLimited(_)) => return Ok(refused(VerifyCode::RateLimited)),
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
            // Test calls do not count against the limit (SPEC T-2): no quota to report.
            remaining_quota: admission.monthly.map(|monthly| monthly.remaining),
        };
        if let Some(needed) = request.scope.as_deref().filter(|scope| !scope.is_empty())
            && !scopes_grant(principal.scopes.as_deref(), needed)
        {
            response.valid = false;
            response.code = VerifyCode::InsufficientScope;
        }
        // A verification counts as a platform call of the verified key (SPEC X-3).
        self.record_call(&principal, response.valid);
        Ok(response)
    }
}
