-- Deleting a tenant (issue 23): the purge of a tenant and its shadow runs in bounded
-- batches and resumes after a crash; this is its record, which outlives the tenant
-- (the operator's log of purges), with the rows removed per table.
CREATE TABLE tenant_purges (
    tenant_id TEXT PRIMARY KEY,
    test_tenant_id TEXT NOT NULL,
    external_id TEXT,
    name TEXT NOT NULL,
    -- operator:<token name>, or cli.
    requested_by TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE TABLE tenant_purge_counts (
    tenant_id TEXT NOT NULL,
    table_name TEXT NOT NULL,
    removed BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, table_name)
);

-- Audit rows stay append-only, but for the rows of a tenant whose purge is running.
DROP TRIGGER audit_events_no_delete;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (
    SELECT 1 FROM tenant_purges p
    WHERE p.finished_at IS NULL AND OLD.tenant_id IN (p.tenant_id, p.test_tenant_id)
)
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
DROP TRIGGER audit_event_refs_no_delete;
CREATE TRIGGER audit_event_refs_no_delete BEFORE DELETE ON audit_event_refs
WHEN NOT EXISTS (
    SELECT 1 FROM tenant_purges p
    WHERE p.finished_at IS NULL AND OLD.tenant_id IN (p.tenant_id, p.test_tenant_id)
)
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
