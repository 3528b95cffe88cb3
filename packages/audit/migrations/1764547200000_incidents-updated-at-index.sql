-- Up Migration

-- The api's incident list reads the most recently updated incidents first (ORDER BY updated_at DESC, id) and pages
-- by that key: without an index on it alone, every page sorted the whole table (services/api/README.md, bench).
CREATE INDEX IF NOT EXISTS incidents_updated_at_idx ON incidents (updated_at DESC, id);

-- Down Migration

DROP INDEX IF EXISTS incidents_updated_at_idx;
