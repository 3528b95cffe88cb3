-- Up Migration

-- The embedded vector store (packages/knowledge/src/postgres-store.ts): no pgvector for PostgreSQL 15 in the registries
-- this project installs from, so vectors are kept as float4 little-endian bytes and searched exactly in the process.
-- Each collection is bounded (max_points live rows; the oldest are pruned). `revision` orders every write, so a
-- replica's in-memory copy catches up by reading the rows above the last revision it saw; a delete is a tombstone row
-- (vector NULL) so other replicas see it too.
CREATE TABLE knowledge_collections (
  name       text    PRIMARY KEY,
  dimension  integer NOT NULL CHECK (dimension > 0),
  max_points integer NOT NULL CHECK (max_points > 0)
);

CREATE SEQUENCE knowledge_points_revision;

CREATE TABLE knowledge_points (
  collection text        NOT NULL REFERENCES knowledge_collections (name) ON DELETE CASCADE,
  key        text        NOT NULL,
  revision   bigint      NOT NULL DEFAULT nextval('knowledge_points_revision'),
  type       text,
  cluster    text,
  namespace  text,
  kind       text,
  action     text,
  outcome    text,
  vector     bytea,
  payload    jsonb,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, key)
);
CREATE INDEX knowledge_points_revision_idx ON knowledge_points (collection, revision);

-- Down Migration
DROP TABLE knowledge_points;
DROP SEQUENCE knowledge_points_revision;
DROP TABLE knowledge_collections;
