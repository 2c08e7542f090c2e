-- The request log as segments (issue 11): each flush writes, per app and mode, one row
-- holding up to 1,000 entries in a compact body (see domain/src/request_log/segment.rs),
-- instead of a row per request in three trees. A segment is named by its newest
-- request's id (request ids are unique ULIDs of their millisecond, so they sort by
-- time); it also records its oldest one, and its entries span at most a minute.
CREATE TABLE request_log_segments (
    last_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    first_id TEXT NOT NULL,
    entries BIGINT NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX request_log_segments_by_app ON request_log_segments(tenant_id, app_id, mode, last_id);
CREATE INDEX request_log_segments_by_mode ON request_log_segments(tenant_id, mode, last_id);
-- What a filter finds a segment by without reading its body: `k:<key id>`,
-- `e:<error code>`, `r:<route>`, `s:<status class>` (e.g. `s:4xx`), once per segment.
CREATE TABLE request_log_terms (
    tenant_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    term TEXT NOT NULL,
    last_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, mode, term, last_id)
) WITHOUT ROWID;
CREATE INDEX request_log_terms_by_segment ON request_log_terms(last_id);
-- The rows of request_logs (0009) are rewritten as segments when the server starts
-- (Gatehouse::convert_legacy_request_logs) and deleted as they are; the table stays
-- empty from then on.
