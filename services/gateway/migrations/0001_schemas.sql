-- auth holds identities; audit is append-only and kept apart so it can be granted separately.
COMMENT ON SCHEMA auth IS 'api-gateway: users, sessions, API keys';
CREATE SCHEMA IF NOT EXISTS audit;
COMMENT ON SCHEMA audit IS 'api-gateway: append-only audit log';
