-- Up Migration

-- Personal approver credentials of the HTTP API and the CLI (issue 10): who decides is the owner of the token
-- presented, never a name in a request body. Only a SHA-256 of each token's secret is kept; the token itself is
-- shown once, when it is created. Rows are never deleted: a revoked or expired token stays, for the audit trail.
-- The approvals service only reads this table; `cortexops-approve tokens ...` (an administrator) writes it, and
-- every change is also appended to the audit trail (kind `approver.changed`).
CREATE TABLE approver_tokens (
  id         text        PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
  name       text        NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9._@+-]{0,127}$'),
  token_hash char(64)    NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text        NOT NULL,
  expires_at timestamptz NOT NULL CHECK (expires_at > created_at),
  revoked_at timestamptz,
  revoked_by text
);
CREATE INDEX approver_tokens_name_idx ON approver_tokens (name);

-- Down Migration

DROP TABLE approver_tokens;
