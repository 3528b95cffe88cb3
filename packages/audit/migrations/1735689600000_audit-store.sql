-- Up Migration

-- Append-only, hash-chained audit trail. Each row's hash is SHA-256 over a canonical (RFC 8785)
-- serialisation of its fields including prev_hash, computed by the application
-- (packages/audit/src/hash.ts) and re-checked by `verify`.
CREATE TABLE audit_events (
  sequence        bigint      PRIMARY KEY CHECK (sequence > 0),
  idempotency_key text        NOT NULL UNIQUE,
  incident_id     text,
  workflow_id     text,
  kind            text        NOT NULL,
  actor           text        NOT NULL,
  occurred_at     timestamptz NOT NULL,
  recorded_at     timestamptz NOT NULL,
  payload         jsonb       NOT NULL,
  prev_hash       char(64)    NOT NULL,
  hash            char(64)    NOT NULL UNIQUE
);
CREATE INDEX audit_events_incident_idx ON audit_events (incident_id, sequence) WHERE incident_id IS NOT NULL;
CREATE INDEX audit_events_actor_idx ON audit_events (actor, sequence);
CREATE INDEX audit_events_kind_idx ON audit_events (kind, sequence);
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at, sequence);

-- The chain head: one row, locked (SELECT ... FOR UPDATE) by every append so that appends are
-- serialised and the chain never forks. `verify` also checks that the last row matches it, so a
-- removed tail is noticed.
CREATE TABLE audit_chain_head (
  id            boolean  PRIMARY KEY DEFAULT true CHECK (id),
  last_sequence bigint   NOT NULL CHECK (last_sequence >= 0),
  last_hash     char(64) NOT NULL
);
INSERT INTO audit_chain_head (id, last_sequence, last_hash) VALUES (true, 0, repeat('0', 64));

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit: % on % refused: the audit trail is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'CXA01';
END;
$$;

CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- The head only moves forward.
CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.last_sequence <= OLD.last_sequence THEN
    RAISE EXCEPTION 'audit: the chain head is append-only and may only move forward (% -> %)', OLD.last_sequence, NEW.last_sequence
      USING ERRCODE = 'CXA01';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE ON audit_chain_head
  FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only();
CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Incidents: the latest known state of each, upserted by id. `record` holds the whole contract value.
CREATE TABLE incidents (
  id         text        PRIMARY KEY,
  cluster    text        NOT NULL,
  status     text        NOT NULL,
  severity   text        NOT NULL,
  opened_at  timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  record     jsonb       NOT NULL
);
CREATE INDEX incidents_status_idx ON incidents (status, updated_at DESC);
CREATE INDEX incidents_cluster_idx ON incidents (cluster, updated_at DESC);

-- What each applied action changed: enough to revert it. One row per remediation id (the id that
-- the applied object carries as its cortexops.io/remediation-id annotation); written once.
CREATE TABLE action_receipts (
  remediation_id text        PRIMARY KEY,
  incident_id    text        NOT NULL,
  workflow_id    text,
  action         jsonb       NOT NULL,
  prior_spec     jsonb,
  receipt        jsonb       NOT NULL,
  applied_at     timestamptz NOT NULL,
  reverted_at    timestamptz
);
CREATE INDEX action_receipts_incident_idx ON action_receipts (incident_id, applied_at);

-- Down Migration

DROP TABLE action_receipts;
DROP TABLE incidents;
DROP TABLE audit_chain_head;
DROP TABLE audit_events;
DROP FUNCTION audit_head_forward_only();
DROP FUNCTION audit_refuse_change();
