-- API keys (SPEC K-1..K-9). A key's secrets live in api_key_secrets so that a rotated
-- key keeps its old secret for the overlap; both are found by digest, never by scanning.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    app_id TEXT NOT NULL REFERENCES apps(id),
    mode TEXT NOT NULL,
    key_type TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    -- JSON array of scopes; NULL means full access (secret and legacy keys).
    scopes TEXT,
    -- The masked prefix shown in lists, e.g. 'sk_live_AbC1'.
    display_prefix TEXT NOT NULL,
    -- enabled, disabled or revoked; expired is derived from expires_at.
    status TEXT NOT NULL,
    expires_at BIGINT,
    -- The expiry length chosen at creation, in days, copied by duplicate.
    expiry_days BIGINT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_by_app ON api_keys(tenant_id, app_id, created_at);

CREATE TABLE api_key_secrets (
    digest TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES api_keys(id),
    created_at BIGINT NOT NULL,
    -- When a rotated-out secret stops working; NULL for the current secret.
    retires_at BIGINT
);
CREATE INDEX api_key_secrets_by_key ON api_key_secrets(key_id);
