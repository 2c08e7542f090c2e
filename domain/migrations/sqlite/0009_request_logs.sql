-- The request log (issue 11): every `/v1` call by a known key and every verification
-- of a key, written in batches from memory. Ids are ULIDs of the request's millisecond,
-- so they sort by time and a time range is a range of ids. Each entry is written into
-- as few trees as the reads need: the table itself is ordered by app, mode and id (an
-- app's pages, newest first); SQLite keeps no separate row tree (WITHOUT ROWID); one
-- index serves a key's entries and one the retention purge, oldest first.
CREATE TABLE request_logs (
    tenant_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    status BIGINT NOT NULL,
    error_code TEXT,
    verify_code TEXT,
    latency_us BIGINT NOT NULL,
    origin TEXT,
    client_ip TEXT,
    PRIMARY KEY (tenant_id, app_id, mode, id)
) WITHOUT ROWID;
CREATE INDEX request_logs_by_key ON request_logs(tenant_id, key_id, id);
CREATE INDEX request_logs_by_id ON request_logs(id);
