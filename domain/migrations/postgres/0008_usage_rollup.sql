-- Usage per app and per tenant per day (SPEC U-3): what the Usage tab and `/v1/usage`
-- read, so a report of a tenant or an app reads one row per day, however many keys
-- called. Written by the usage flush in the same transaction as `usage_daily`.
-- `app_id` is '' for the tenant's total over all its apps.
CREATE TABLE usage_daily_rollup (
    tenant_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    app_id TEXT NOT NULL,
    day TEXT NOT NULL,
    successes BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, mode, app_id, day)
);

-- What was counted before this table existed.
INSERT INTO usage_daily_rollup (tenant_id, mode, app_id, day, successes, failures)
SELECT tenant_id, mode, app_id, day, CAST(SUM(successes) AS BIGINT), CAST(SUM(failures) AS BIGINT)
FROM usage_daily GROUP BY tenant_id, mode, app_id, day;
INSERT INTO usage_daily_rollup (tenant_id, mode, app_id, day, successes, failures)
SELECT tenant_id, mode, '', day, CAST(SUM(successes) AS BIGINT), CAST(SUM(failures) AS BIGINT)
FROM usage_daily GROUP BY tenant_id, mode, day;
