-- Usage counters per hour (SPEC U-1, U-4): the keys list's 24-hour successes and
-- failures. Written by the in-memory aggregator's flush, never per request.
CREATE TABLE usage_hourly (
    tenant_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    -- Start of the UTC hour, in milliseconds.
    hour_start INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, app_id, key_id, mode, hour_start)
);
CREATE INDEX usage_hourly_by_app ON usage_hourly(tenant_id, app_id, hour_start);

-- The last authenticated call, from the same flush.
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;

-- Short-lived access tokens traded for a key (SPEC X-4); only a digest is kept. A
-- token acts as its key, so a disabled or revoked key's tokens stop with it.
CREATE TABLE access_tokens (
    digest TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES api_keys(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX access_tokens_by_expiry ON access_tokens(expires_at);
