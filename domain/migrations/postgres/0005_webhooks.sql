-- Webhooks (SPEC W-1..W-9): endpoints with their subscribed families and encrypted
-- signing secrets, events' idempotency keys, deliveries (the durable queue) and the
-- attempts of the delivery log.

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    -- live or test (SPEC T-2): an endpoint receives its own mode's events only.
    mode TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    -- JSON array of the families subscribed to; ["*"] is all.
    event_families TEXT NOT NULL,
    status TEXT NOT NULL,
    disabled_reason TEXT,
    rate_limit_per_second BIGINT,
    masked_secret TEXT NOT NULL,
    last_success_at BIGINT,
    failing_since BIGINT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_by_app ON webhook_endpoints(tenant_id, app_id, id);

-- One row per subscribed family ('*' for all), so fan-out is one indexed query.
CREATE TABLE webhook_endpoint_families (
    endpoint_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    family TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, family)
);
CREATE INDEX webhook_families_fan_out ON webhook_endpoint_families(tenant_id, mode, family);

-- Signing secrets, sealed with AES-256-GCM under the master key named in the sealed
-- text. A rotated-out secret keeps signing until retires_at (SPEC W-2).
CREATE TABLE webhook_secrets (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retires_at BIGINT
);
CREATE INDEX webhook_secrets_by_endpoint ON webhook_secrets(endpoint_id);

-- The first event an app's keys sent with an idempotency key, for 24 hours (SPEC W-4).
CREATE TABLE event_idempotency_keys (
    tenant_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    app_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, mode, app_id, idempotency_key)
);

-- Where an event came from: 'gatehouse' (its own events) or 'api' (the SaaS's).
ALTER TABLE outbox_events ADD COLUMN source TEXT NOT NULL DEFAULT 'gatehouse';
CREATE INDEX outbox_events_by_mode ON outbox_events(tenant_id, mode, id);

-- One event's delivery to one endpoint: the durable queue. A worker leases due rows
-- (lease_until) and a lease that runs out is taken again, so nothing is lost.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    lease_until BIGINT,
    leased_by TEXT,
    last_status BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries(endpoint_id, id);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries(event_id);

-- Every attempt, for the delivery log (SPEC W-6).
CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    attempted_at BIGINT NOT NULL,
    succeeded BIGINT NOT NULL,
    http_status BIGINT,
    latency_ms BIGINT NOT NULL,
    response_excerpt TEXT NOT NULL,
    error TEXT,
    next_retry_at BIGINT
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts(endpoint_id, id);
CREATE INDEX webhook_attempts_by_endpoint_time ON webhook_attempts(endpoint_id, attempted_at);

-- When the `api_key.expiring` event was sent for a key (once per key, SPEC K-10).
ALTER TABLE api_keys ADD COLUMN expiry_announced_at BIGINT;
