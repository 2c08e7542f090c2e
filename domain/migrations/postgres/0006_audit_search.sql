-- Searching the audit trail (SPEC L-2): by event type, actor, related id and time,
-- newest first. People search their whole tenant; an API key searches only its own
-- app and mode, so every search has an index that starts with what it is confined to
-- and ends with (occurred_at, id), the order a page is read in.

-- The side (live or test) of the app an event concerns; NULL for tenant-wide events.
-- Events recorded before this migration carry none, so API keys do not see them.
ALTER TABLE audit_events ADD COLUMN mode TEXT;

CREATE INDEX audit_events_by_type ON audit_events(tenant_id, event_type, occurred_at, id);
CREATE INDEX audit_events_by_actor ON audit_events(tenant_id, actor_id, occurred_at, id);
CREATE INDEX audit_events_in_app ON audit_events(tenant_id, app_id, mode, occurred_at, id);
CREATE INDEX audit_events_in_app_by_type
    ON audit_events(tenant_id, app_id, mode, event_type, occurred_at, id);
CREATE INDEX audit_events_in_app_by_actor
    ON audit_events(tenant_id, app_id, mode, actor_id, occurred_at, id);

-- Every id an event concerns (its app and each value of related_ids), one row each,
-- written with the event; app_id, mode and occurred_at are copies of the event's.
CREATE TABLE audit_event_refs (
    tenant_id TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    event_id TEXT NOT NULL REFERENCES audit_events(id),
    app_id TEXT,
    mode TEXT,
    PRIMARY KEY (tenant_id, ref_id, occurred_at, event_id)
);
CREATE INDEX audit_event_refs_in_app
    ON audit_event_refs(tenant_id, app_id, mode, ref_id, occurred_at, event_id);

-- Append-only like the events they index.
CREATE TRIGGER audit_event_refs_no_change BEFORE UPDATE OR DELETE ON audit_event_refs
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_event_refs_no_truncate BEFORE TRUNCATE ON audit_event_refs
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- The events recorded so far, indexed by their app and their related ids.
INSERT INTO audit_event_refs (tenant_id, ref_id, occurred_at, event_id, app_id, mode)
SELECT DISTINCT e.tenant_id, ref.id, e.occurred_at, e.id, e.app_id, e.mode
FROM audit_events e
CROSS JOIN LATERAL (
    SELECT e.app_id AS id WHERE e.app_id IS NOT NULL
    UNION
    SELECT related.value #>> '{}' FROM jsonb_each(e.related_ids::jsonb) AS related
    WHERE jsonb_typeof(related.value) = 'string'
) AS ref
WHERE e.tenant_id IS NOT NULL
  AND length(ref.id) BETWEEN 1 AND 128
  AND ref.id !~ '[^!-~]';
