import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approvalDecisionUpdate,
  incidentWorkflowId,
  remediationStateQuery,
  TASK_QUEUES,
  WORKFLOW_TYPES,
  type RemediationWorkflowInput,
} from '@cortexops/contracts';
import { createTestNamespace, ensureServers, fixtureIncident, spawnService, temporalAddress, type ServiceProcess } from '@cortexops/testkit';

const incident = fixtureIncident('inc-lifecycle');

describe('worker — lifecycle', () => {
  let connection: Connection;
  let client: Client;
  let env: Record<string, string | undefined>;
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    const ctx = await ensureServers(['temporal', 'postgres']);
    const namespace = await createTestNamespace(ctx, 'worker');
    connection = await Connection.connect({ address: temporalAddress(ctx) });
    client = new Client({ connection, namespace });
    env = { CORTEXOPS_TEMPORAL_NAMESPACE: namespace, CORTEXOPS_TEMPORAL_PORT: ctx.env.CORTEXOPS_TEMPORAL_PORT, CORTEXOPS_POSTGRES_PORT: ctx.env.CORTEXOPS_POSTGRES_PORT };
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
    await connection?.close();
  });

  async function startWorker(): Promise<ServiceProcess> {
    const worker = await spawnService('worker', env);
    workers.push(worker);
    await worker.waitForHealth((status) => status === 200, 120_000);
    return worker;
  }

  it('drains on SIGTERM, and a workflow in flight carries on with the next worker', async () => {
    const first = await startWorker();
    const handle = await client.workflow.start(WORKFLOW_TYPES.remediation, {
      taskQueue: TASK_QUEUES.remediation,
      workflowId: incidentWorkflowId(incident.id),
      args: [{ incident, approvalTimeoutMs: 10 * 60_000 } satisfies RemediationWorkflowInput],
    });
    await expect.poll(async () => (await handle.query(remediationStateQuery)).state, { timeout: 30_000 }).toBe('APPROVAL_PENDING');

    const code = await first.terminate();
    expect(code, first.output()).toBe(0);
    expect(first.output()).toContain('"msg":"worker stopped"');

    await startWorker();
    const outcome = await handle.executeUpdate(approvalDecisionUpdate, {
      args: [{ decision: 'approve', approver: 'U123', channel: 'cli', decidedAt: '2026-11-22T10:05:00Z' }],
    });
    expect(outcome).toMatchObject({ accepted: true, decision: 'approve' });
    expect(await handle.result()).toMatchObject({ state: 'RESOLVED', decision: { approver: 'U123' } });
  });
});
