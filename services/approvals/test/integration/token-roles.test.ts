import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AuditStore } from '@cortexops/audit';
import { createTestDatabase, ensureServers, postgresRoleUrl, prepareRoles, type StackContext, type TestDatabase } from '@cortexops/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApproverTokens, ApproverTokensReadOnlyError } from '../../src/tokens.js';

const BIN = fileURLToPath(new URL('../../bin/cortexops-approve.js', import.meta.url));
const INSUFFICIENT_PRIVILEGE = '42501';

let ctx: StackContext;
let db: TestDatabase;
let app: pg.Client;
let audit: AuditStore;

beforeAll(async () => {
  ctx = await ensureServers(['postgres']);
  db = await createTestDatabase(ctx, 'approver_token_roles');
  // The stack's migration step: every package's migrations as the owner, then the application role's rights.
  await prepareRoles(ctx, db.name);
  app = new pg.Client({ connectionString: postgresRoleUrl(ctx, 'app', db.name) });
  await app.connect();
  audit = await AuditStore.create({ databaseUrl: postgresRoleUrl(ctx, 'owner', db.name) });
});

afterAll(async () => {
  await app?.end();
  await audit?.close();
  await db?.drop();
});

const tokensCli = (args: readonly string[], env: Record<string, string>) =>
  promisify(execFile)(process.execPath, [BIN, 'tokens', ...args], { env: { ...process.env, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

const changesOf = async (person: string) =>
  (await audit.query({ kinds: ['approver.changed'], limit: 100 })).records.filter((r) => r.payload['approver'] === person).map((r) => [r.payload['change'], r.actor]);

describe('approver tokens — least privilege (issue 10 item 5)', () => {
  it("the application role may read the approver list but not write it: INSERT, UPDATE, DELETE, TRUNCATE and granting itself more are refused by PostgreSQL", async () => {
    await expect(app.query('SELECT count(*) FROM approver_tokens')).resolves.toMatchObject({ rowCount: 1 });
    await app.query('GRANT INSERT ON approver_tokens TO CURRENT_USER').catch(() => undefined);
    const statements = [
      "INSERT INTO approver_tokens (id, name, token_hash, created_at, created_by, expires_at) VALUES ('00000000000000aa', 'mallory@example.com', repeat('0', 64), now(), 'mallory', now() + interval '1 day')",
      "UPDATE approver_tokens SET revoked_at = NULL, expires_at = now() + interval '10 years'",
      'DELETE FROM approver_tokens',
      'TRUNCATE approver_tokens',
      'ALTER TABLE approver_tokens ADD COLUMN note text',
    ];
    for (const statement of statements) await expect(app.query(statement), statement).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });
  });

  it('with the application role only, issuing and revoking are refused before anything is audited; the CLI says to use the owner role', async () => {
    const asApp = await ApproverTokens.create({ databaseUrl: postgresRoleUrl(ctx, 'app', db.name), audit });
    try {
      await expect(asApp.issue({ name: 'mallory@example.com', expiresAt: new Date(Date.now() + 3600_000), by: 'mallory' })).rejects.toBeInstanceOf(ApproverTokensReadOnlyError);
      await expect(asApp.revoke('alice@example.com', 'mallory')).rejects.toBeInstanceOf(ApproverTokensReadOnlyError);
    } finally {
      await asApp.close();
    }
    const refused = await tokensCli(['create', '--name', 'mallory@example.com', '--by', 'mallory'], { CORTEXOPS_DATABASE_URL: postgresRoleUrl(ctx, 'app', db.name) });
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toContain('CORTEXOPS_DATABASE_MIGRATION_URL');
    expect(await changesOf('mallory@example.com')).toEqual([]);
  });

  it('the tokens CLI manages tokens as the owner role (CORTEXOPS_DATABASE_MIGRATION_URL); the service, as the application role, authenticates with them', async () => {
    const env = { CORTEXOPS_DATABASE_URL: postgresRoleUrl(ctx, 'app', db.name), CORTEXOPS_DATABASE_MIGRATION_URL: postgresRoleUrl(ctx, 'owner', db.name) };
    const created = await tokensCli(['create', '--name', 'grace@example.com', '--by', 'admin@example.com'], env);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    const service = await ApproverTokens.create({ databaseUrl: postgresRoleUrl(ctx, 'app', db.name), audit });
    try {
      expect(await service.authenticate(token)).toMatchObject({ name: 'grace@example.com' });
      expect(await tokensCli(['revoke', 'grace@example.com', '--by', 'admin@example.com'], env)).toMatchObject({ code: 0 });
      expect(await service.authenticate(token)).toBeUndefined();
    } finally {
      await service.close();
    }
    expect(await changesOf('grace@example.com')).toEqual([
      ['issued', 'admin@example.com'],
      ['revoked', 'admin@example.com'],
    ]);
  });
});
