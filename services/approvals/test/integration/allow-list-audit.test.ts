import { loadServiceConfig } from '@cortexops/config';
import { AuditStore } from '@cortexops/audit';
import { runService, type ServiceHandle } from '@cortexops/observability';
import { createTestDatabase, ensureServers, freePort, type StackContext, type TestDatabase } from '@cortexops/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLACK_ALLOW_LIST_ACTOR } from '../../src/allow-list-audit.js';
import { startApprovals } from '../../src/approvals.js';

let ctx: StackContext;
let db: TestDatabase;
let audit: AuditStore;

beforeAll(async () => {
  ctx = await ensureServers(['temporal', 'postgres']);
  db = await createTestDatabase(ctx, 'approvals_allow_list');
  audit = await AuditStore.create({ databaseUrl: db.url });
});

afterAll(async () => {
  await audit?.close();
  await db?.drop();
});

/** The real approvals service started with this Slack allow-list (Slack itself off: the list is configuration). */
async function startWith(approvers: string): Promise<ServiceHandle> {
  const config = loadServiceConfig('approvals', {
    CORTEXOPS_TEMPORAL_PORT: ctx.env.CORTEXOPS_TEMPORAL_PORT,
    CORTEXOPS_DATABASE_URL: db.url,
    CORTEXOPS_APPROVALS_PORT: String(await freePort()),
    CORTEXOPS_LOG_LEVEL: 'silent',
    CORTEXOPS_SLACK_APPROVERS: approvers,
  });
  return runService('approvals', config, (context) => startApprovals(config, context), { installSignalHandlers: false });
}

async function restartWith(approvers: string): Promise<void> {
  const service = await startWith(approvers);
  await service.shutdown('test: restart');
}

const recorded = async () =>
  (await audit.query({ kinds: ['approver.changed'], actor: SLACK_ALLOW_LIST_ACTOR, limit: 100 })).records.map((r) => ({
    users: r.payload['users'],
    added: r.payload['added'],
    removed: r.payload['removed'],
  }));

describe('approvals — every change of the Slack allow-list is audited (issue 10 item 4)', () => {
  it('the first start records the list; an unchanged list records nothing; additions, removals and a change back are each recorded', async () => {
    await restartWith('U0ALICE,U0BOB');
    expect(await recorded()).toEqual([{ users: ['U0ALICE', 'U0BOB'], added: ['U0ALICE', 'U0BOB'], removed: [] }]);
    await restartWith('U0BOB, U0ALICE,U0ALICE');
    expect(await recorded()).toHaveLength(1);
    await restartWith('U0ALICE,U0MALLORY');
    await restartWith('U0ALICE,U0BOB');
    expect((await recorded()).slice(1)).toEqual([
      { users: ['U0ALICE', 'U0MALLORY'], added: ['U0MALLORY'], removed: ['U0BOB'] },
      { users: ['U0ALICE', 'U0BOB'], added: ['U0BOB'], removed: ['U0MALLORY'] },
    ]);
    await restartWith('');
    expect((await recorded()).at(-1)).toEqual({ users: [], added: [], removed: ['U0ALICE', 'U0BOB'] });
    expect(await audit.verify()).toMatchObject({ ok: true });
  });

  it('two replicas starting with the same new list record it once', async () => {
    const before = (await recorded()).length;
    const replicas = await Promise.all([startWith('U0CAROL'), startWith('U0CAROL')]);
    await Promise.all(replicas.map((r) => r.shutdown('test over')));
    const after = await recorded();
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)).toMatchObject({ users: ['U0CAROL'], added: ['U0CAROL'] });
  });

  it('a list that is not Slack user ids stops the service at start (nothing recorded)', async () => {
    const before = (await recorded()).length;
    await expect(startWith('alice@example.com')).rejects.toThrow(/CORTEXOPS_SLACK_APPROVERS/);
    expect(await recorded()).toHaveLength(before);
  });
});
