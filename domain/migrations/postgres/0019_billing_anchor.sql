-- The day of the month a tenant's billing window starts (issue 23), 1 to 28, as the
-- SaaS bills its account: the window runs from that day, 00:00 UTC, to the same day
-- of the next month.
ALTER TABLE tenants ADD COLUMN billing_anchor_day BIGINT NOT NULL DEFAULT 1;
