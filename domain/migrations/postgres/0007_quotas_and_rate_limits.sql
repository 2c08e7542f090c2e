-- Quotas and rate limits (SPEC U-2, U-5, P-3).

-- Bumped by every change to a tenant (the operator's `update-tenant`): running
-- instances poll for it, so a new plan, module set, subscription state or limit is
-- honoured within a second.
ALTER TABLE tenants ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tenants_by_revision ON tenants(revision);

-- The monthly quota as the instances take it: per tenant and billing window, how many
-- live calls have been granted (in blocks, each instance spending its block in memory)
-- and the size of the last grant (read back by the instance that took it).
CREATE TABLE quota_grants (
    tenant_id TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    granted BIGINT NOT NULL,
    last_grant BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, window_start)
);

-- A key's optional rate limit: at most `rate_limit_requests` per `rate_limit_period`
-- ('second' or 'minute'); both NULL for none.
ALTER TABLE api_keys ADD COLUMN rate_limit_requests BIGINT;
ALTER TABLE api_keys ADD COLUMN rate_limit_period TEXT;
