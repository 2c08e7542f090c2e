-- A key's calls refused before they ran (the key disabled, revoked or expired, or a
-- limit reached), per hour: the keys list's 24-hour failures count them with the
-- failed calls, as the key's Logs show them. They are not usage: never billed, never
-- in usage_daily or its rollup.
ALTER TABLE usage_hourly ADD COLUMN refused BIGINT NOT NULL DEFAULT 0;
