-- Tenant isolation: sign-in throttled per address and per account at an address, and
-- caps on what one tenant may take of the shared service.

-- Sign-in throttling by subject, replacing the count per email alone (which let anyone
-- lock a named person out): "address:<network>" counts every attempt from a client
-- network, "account:<network>:<email>" the failures on one account from it.
DROP TABLE sign_in_failures;
CREATE TABLE sign_in_throttle (
    subject TEXT PRIMARY KEY,
    attempts BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);

-- What one tenant may take of the shared service (see `TenantCaps`), set per tenant by
-- the operator.
ALTER TABLE tenants ADD COLUMN max_apps BIGINT NOT NULL DEFAULT 100;
ALTER TABLE tenants ADD COLUMN max_webhook_endpoints BIGINT NOT NULL DEFAULT 500;
ALTER TABLE tenants ADD COLUMN monthly_test_events BIGINT NOT NULL DEFAULT 100000;

-- Test-mode events a tenant sent in a billing window, counted as they are sent.
CREATE TABLE test_event_counts (
    tenant_id TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    events BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, window_start)
);
