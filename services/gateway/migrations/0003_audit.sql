-- The audit log: every API call the gateway answered and every security event, append-only.
-- No foreign key to auth.users on purpose: audit rows must outlive the users they name.
CREATE TABLE audit.events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  kind text NOT NULL CHECK (kind IN ('request', 'security')),
  action text NOT NULL CHECK (action ~ '^[a-z][a-z_]*(\.[a-z_]+)?$'),
  principal_user_id uuid,
  principal_kind text CHECK (principal_kind IN ('user', 'api_key')),
  api_key_id uuid,
  ip inet,
  method text,
  route text,
  path text,
  status integer CHECK (status BETWEEN 100 AND 599),
  latency_ms real CHECK (latency_ms >= 0),
  request_id text,
  resource_id text,
  detail jsonb,
  -- A request row always says what was called and how it ended; security events may happen
  -- outside any request (the CLI creating a user), so only the request kind is held to this.
  CONSTRAINT events_request_complete CHECK (
    kind <> 'request'
    OR (action = 'http.request' AND method IS NOT NULL AND route IS NOT NULL AND path IS NOT NULL
        AND status IS NOT NULL AND latency_ms IS NOT NULL AND request_id IS NOT NULL)
  )
);
COMMENT ON TABLE audit.events IS 'api-gateway: API calls and security events; UPDATE, DELETE and TRUNCATE are refused';

-- One index per filter of GET /api/v1/admin/audit that narrows the rows; pages run newest first by id.
CREATE INDEX events_at_idx ON audit.events (at);
CREATE INDEX events_user_idx ON audit.events (principal_user_id, id) WHERE principal_user_id IS NOT NULL;
CREATE INDEX events_kind_action_idx ON audit.events (kind, action, id);
CREATE INDEX events_request_id_idx ON audit.events (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX events_route_idx ON audit.events (route text_pattern_ops);
-- Refused and failed calls are the ones an investigation looks for, and a small share of all calls.
CREATE INDEX events_error_status_idx ON audit.events (status, id) WHERE status >= 400;

-- Append-only is enforced here, not only in the code that writes: rows cannot be changed, and can
-- be deleted only by a transaction that declared itself the retention routine with
-- SET LOCAL datalab.audit_retention = 'on'. (Privileges are the stronger guard: a role granted
-- only INSERT and SELECT cannot even try.)
CREATE FUNCTION audit.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('datalab.audit_retention', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit.events is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Old rows are removed by the retention setting (AUDIT_RETENTION_DAYS).';
END;
$$;

CREATE TRIGGER events_append_only
  BEFORE UPDATE OR DELETE ON audit.events
  FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- TRUNCATE skips row triggers, so it gets its own.
CREATE TRIGGER events_no_truncate
  BEFORE TRUNCATE ON audit.events
  FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
