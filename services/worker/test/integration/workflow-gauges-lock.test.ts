import { OPERATIONS_METRICS } from '@cortexops/contracts';
import { createLogger } from '@cortexops/observability';
import { createTestDatabase, createTestNamespace, ensureServers, temporalAddress, type TestDatabase } from '@cortexops/testkit';
import { Client, Connection } from '@temporalio/client';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdvisoryLeadership } from '../../src/leadership.js';
import { WorkflowGauges } from '../../src/workflow-gauges.js';

const logger = createLogger({ service: 'worker', level: 'silent' });
let connection: Connection;
let client: Client;
let db: TestDatabase;

/** The sample lines of the three state gauges in `registry` (`name{state="..."} value`). */
async function samples(registry: Registry): Promise<string[]> {
  const text = await registry.metrics();
  return text.split('\n').filter((l) => l.startsWith(OPERATIONS_METRICS.workflowsOpen) || l.startsWith(OPERATIONS_METRICS.workflowStateAgeSeconds) || l.startsWith(OPERATIONS_METRICS.workflowStateVisits));
}

beforeAll(async () => {
  const ctx = await ensureServers(['temporal', 'postgres']);
  connection = await Connection.connect({ address: temporalAddress(ctx) });
  client = new Client({ connection, namespace: await createTestNamespace(ctx, 'gauges-lock') });
  db = await createTestDatabase(ctx, 'gauges_lock');
}, 120_000);

afterAll(async () => {
  await connection?.close();
  await db?.drop();
});

describe('worker gauges — a replica that cannot reach the lock stops reporting', () => {
  it('reports 0 for every open state while it holds the lock; when PostgreSQL is gone the refresh fails and the samples go', async () => {
    const registry = new Registry();
    const leadership = new AdvisoryLeadership(db.url, 'cortexops-workflow-gauges', logger);
    const gauges = new WorkflowGauges({ intervalMs: 1000, maxWorkflows: 10, maxQueries: 10 }, { client, leadership, registry, logger });
    expect(await gauges.refresh()).toMatchObject({ reporting: true, listed: 0 });
    expect(await samples(registry)).toContain(`${OPERATIONS_METRICS.workflowsOpen}{state="APPROVAL_PENDING"} 0`);
    // The database goes (its sessions ended, no reconnect possible): this replica can no longer know it holds the lock.
    await db.drop();
    await expect(gauges.refresh()).rejects.toThrow();
    expect(await samples(registry)).toEqual([]);
    await leadership.release();
  });
});
