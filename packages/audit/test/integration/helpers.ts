import { type AuditEventInput, AuditStore } from '../../src/index.js';
import { type TestDatabase, createTestDatabase, ensureServers, postgresRoleUrl, prepareRoles } from '@cortexops/testkit';
import pg from 'pg';

export interface Fixture {
  readonly db: TestDatabase;
  readonly store: AuditStore;
  /** Runs one statement as the superuser on the test database, outside the store. */
  sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  dispose(): Promise<void>;
}

/**
 * A fresh database with the audit schema, migrated by the owner role, and a store on it connected as the
 * application role — what the services run as; `sql` is the superuser's way past both.
 */
export async function openFixture(): Promise<Fixture> {
  const ctx = await ensureServers(['postgres']);
  const db = await createTestDatabase(ctx, 'audit');
  await prepareRoles(ctx, db.name, { otherMigrations: false });
  const store = await AuditStore.create({ databaseUrl: postgresRoleUrl(ctx, 'app', db.name) });
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  return {
    db,
    store,
    sql: (text, values = []) => admin.query(text, values),
    dispose: async () => {
      await admin.end();
      await store.close();
      await db.drop();
    },
  };
}

export function event(n: number, overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    idempotencyKey: `wf-a/step-${n}`,
    incidentId: 'inc-a',
    workflowId: 'remediation-inc-a',
    kind: 'workflow.state',
    actor: 'worker',
    occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
    payload: { n, state: 'PLANNING', nested: { list: [n, 'x', null, true, 0.1] } },
    ...overrides,
  };
}
