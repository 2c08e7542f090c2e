-- Tenants, users, sessions, apps and the audit trail. Times are Unix milliseconds.
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- NULL for a live tenant; on a shadow test tenant, the live tenant it shadows.
    live_tenant_id TEXT REFERENCES tenants(id),
    plan TEXT NOT NULL,
    -- Space-separated module names, e.g. 'platform.api'.
    modules TEXT NOT NULL,
    subscription_state TEXT NOT NULL,
    monthly_call_limit INTEGER NOT NULL,
    billing_window_start INTEGER NOT NULL,
    billing_window_end INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX tenants_one_shadow ON tenants(live_tenant_id);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE memberships (
    user_id TEXT NOT NULL REFERENCES users(id),
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    role TEXT NOT NULL,
    selected_app_id TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, tenant_id)
);

CREATE TABLE sessions (
    token_digest TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);

CREATE TABLE sign_in_failures (
    email TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL,
    locked_until INTEGER NOT NULL
);

CREATE TABLE apps (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    test_tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    -- JSON array of exact origins.
    allowed_origins TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX apps_by_tenant ON apps(tenant_id, created_at);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT,
    occurred_at INTEGER NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id TEXT,
    actor_label TEXT NOT NULL,
    event_type TEXT NOT NULL,
    message TEXT,
    app_id TEXT,
    -- JSON object of further related ids (key, endpoint, the SaaS's own ids).
    related_ids TEXT NOT NULL,
    before_state TEXT,
    after_state TEXT
);
CREATE INDEX audit_events_by_tenant ON audit_events(tenant_id, occurred_at, id);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

-- Platform calls per tenant, app, key, mode, day and outcome (SPEC U-1).
CREATE TABLE usage_daily (
    tenant_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    day TEXT NOT NULL,
    successes INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, app_id, key_id, mode, day)
);
