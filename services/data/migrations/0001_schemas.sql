-- data holds dataset metadata; datasets holds one table per dataset.
COMMENT ON SCHEMA data IS 'data-service: dataset metadata, profiles, query cache bookkeeping';
CREATE SCHEMA IF NOT EXISTS datasets;
COMMENT ON SCHEMA datasets IS 'data-service: one table per dataset';
