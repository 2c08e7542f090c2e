-- Alerts to a tenant's owners and managers (issue 11): a key about to expire, a webhook
-- endpoint disabled after failing, live usage past 80 % and 100 % of the monthly limit.
-- An alert is written once per thing it is about (the unique dedupe key) in the unit of
-- work that detects it, with a row per recipient: the outbox the mail worker sends from
-- (retrying with backoff; a claim is a lease, so a crash mid-send sends it again later)
-- and the notice the Overview shows until that person dismisses it.
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    title TEXT NOT NULL,
    message TEXT NOT NULL,
    link TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, kind, dedupe_key)
);

CREATE TABLE alert_recipients (
    alert_id TEXT NOT NULL REFERENCES alerts(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    email TEXT NOT NULL,
    -- 'pending' (to be mailed), 'sent', 'failed' (gave up), 'dashboard' (no SMTP).
    mail_state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT,
    dismissed_at BIGINT,
    PRIMARY KEY (alert_id, user_id)
);
CREATE INDEX alert_recipients_due ON alert_recipients(mail_state, next_attempt_at);
CREATE INDEX alert_recipients_by_user ON alert_recipients(user_id, dismissed_at);

-- A person's choice per kind; no row: on.
CREATE TABLE alert_preferences (
    user_id TEXT NOT NULL REFERENCES users(id),
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    PRIMARY KEY (user_id, tenant_id, kind)
);
