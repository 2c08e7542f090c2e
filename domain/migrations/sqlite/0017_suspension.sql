-- A tenant the operator suspended (issue 23): its keys are refused, its deliveries
-- wait, its dashboard is read-only, until the flag is lifted. A canceled subscription
-- suspends it too.
ALTER TABLE tenants ADD COLUMN suspended BIGINT NOT NULL DEFAULT 0;
