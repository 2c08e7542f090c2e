-- Who dismissed the Overview's setup guide once it was done (issue 22): a person's
-- choice in one tenant.
CREATE TABLE setup_guide_dismissals (
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    dismissed_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, tenant_id)
);
