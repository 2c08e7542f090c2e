-- Hardening before webhooks: tokens bound to the secret they were exchanged from, the
-- outbox every change writes its events to, idempotent usage flushes, and an audit
-- trail that TRUNCATE cannot empty either.

-- An access token lives no longer than the secret it came from (SPEC X-9).
ALTER TABLE access_tokens ADD COLUMN secret_digest TEXT;
CREATE INDEX access_tokens_by_key ON access_tokens(key_id, expires_at);

-- Events that changes emit, written in the change's own transaction; webhook
-- delivery starts from here (SPEC W-4).
CREATE TABLE outbox_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    -- live or test: test events belong to the test side (SPEC T-2).
    mode TEXT NOT NULL,
    app_id TEXT,
    event_type TEXT NOT NULL,
    -- JSON object: the event's data.
    payload TEXT NOT NULL,
    occurred_at BIGINT NOT NULL
);
CREATE INDEX outbox_events_by_tenant ON outbox_events(tenant_id, occurred_at, id);

-- Usage flush batches already written, so a batch whose commit answer was lost is
-- never counted twice.
CREATE TABLE usage_flushes (
    batch_id TEXT PRIMARY KEY,
    written_at BIGINT NOT NULL
);

CREATE INDEX sessions_by_expiry ON sessions(expires_at);

CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
