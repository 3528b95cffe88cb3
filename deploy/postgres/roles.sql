-- The two roles of the audit trust boundary, for a PostgreSQL that CortexOps does not start itself (docker compose,
-- your own server). Idempotent: run it again to change a password. As a superuser, on the cortexops database:
--   psql -v owner_password="$OWNER_PASSWORD" -v app_password="$APP_PASSWORD" -d cortexops -f deploy/postgres/roles.sql
-- cortexops_owner owns the schema and runs the migrations (`cortexops-audit migrate`, which also gives
-- cortexops_app its rights); cortexops_app is what the services connect as: INSERT and SELECT on the audit trail.
-- The local stack does the same in packages/testkit/src/stack/servers/postgres.ts.
\set ON_ERROR_STOP on
SELECT 'CREATE ROLE cortexops_owner' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cortexops_owner') \gexec
SELECT 'CREATE ROLE cortexops_app' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cortexops_app') \gexec
ALTER ROLE cortexops_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'owner_password';
ALTER ROLE cortexops_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'app_password';
SELECT format('ALTER DATABASE %I OWNER TO cortexops_owner', current_database()) \gexec
-- Tables and functions created before the roles existed (by the superuser) go to the owner.
SELECT format('ALTER TABLE %I OWNER TO cortexops_owner', tablename) FROM pg_tables
 WHERE schemaname = 'public' AND tableowner <> 'cortexops_owner' \gexec
SELECT format('ALTER FUNCTION %s OWNER TO cortexops_owner', p.oid::regprocedure) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> 'cortexops_owner' \gexec
-- The services' other tables (approver tokens, knowledge), now and those the owner creates later; the audit
-- migration narrows the audit tables to INSERT and SELECT afterwards.
SET ROLE cortexops_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO cortexops_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO cortexops_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO cortexops_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO cortexops_app;
RESET ROLE;
