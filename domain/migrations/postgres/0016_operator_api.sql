-- The operator's integration (issue 23): the tokens the SaaS's backend calls
-- /operator/v1 with, tenants known by the SaaS's own account id, people named by the
-- SaaS, one-time sign-in links and the idempotency of the operator's creates.
CREATE TABLE operator_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- SHA-256 of the whole token, in hex; the token itself is shown once.
    token_digest TEXT NOT NULL UNIQUE,
    -- Space-separated scopes.
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

ALTER TABLE tenants ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX tenants_by_external_id ON tenants(external_id);

ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';

-- A session opened by a sign-in link lives inside the SaaS: no sign-out of its own.
ALTER TABLE sessions ADD COLUMN from_link BIGINT NOT NULL DEFAULT 0;

CREATE TABLE sign_in_links (
    -- SHA-256 of the link's token, in hex; the token is only in the URL handed over.
    token_digest TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT,
    role TEXT NOT NULL,
    path TEXT NOT NULL,
    -- The operator token that asked for it.
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX sign_in_links_by_expiry ON sign_in_links(expires_at);

-- What an Idempotency-Key on an operator POST answered: the same key and request
-- answer the same again; the same key with another request is refused.
CREATE TABLE operator_idempotency (
    operation TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    -- SHA-256 of the request (path and body), in hex.
    request_digest TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (operation, idempotency_key)
);
