-- The request log (issue 11): every `/v1` call by a known key and every verification
-- of a key, written in batches from memory. Ids are ULIDs of the request's millisecond,
-- so they sort by time and a time range is a range of ids.
CREATE TABLE request_logs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    key_id TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    status BIGINT NOT NULL,
    error_code TEXT,
    verify_code TEXT,
    latency_us BIGINT NOT NULL,
    origin TEXT,
    client_ip TEXT
);
-- An app's pages, newest first; one key's; and the retention purge.
CREATE INDEX request_logs_by_app ON request_logs(tenant_id, app_id, mode, id);
CREATE INDEX request_logs_by_key ON request_logs(tenant_id, key_id, id);
CREATE INDEX request_logs_by_time ON request_logs(occurred_at);
