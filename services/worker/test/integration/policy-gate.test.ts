import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore } from '@cortexops/audit';
import {
  approvalDecisionUpdate,
  incidentWorkflowId,
  remediationStateQuery,
  TASK_QUEUES,
  WORKFLOW_TYPES,
  type Incident,
  type PolicyInput,
  type RemediationWorkflowInput,
} from '@cortexops/contracts';
import { codeOf, DEFAULT_DATA_PATH, VIOLATION_CODES } from '@cortexops/policy';
import { createTestDatabase, createTestNamespace, ensureServers, fixtureIncident, spawnService, temporalAddress, type ServiceProcess, type TestDatabase } from '@cortexops/testkit';
import type { RemediationOutcome } from '@cortexops/workflows';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

function proposal(incident: Incident, overrides: Partial<PolicyInput> = {}): PolicyInput {
  return {
    incidentId: incident.id,
    cluster: 'local',
    environment: 'development',
    action: { type: 'rollout-restart', kind: 'Deployment', namespace: 'demo', name: 'checkout' },
    risk: 'low',
    dryRun: { ok: true },
    counts: { targetActionsLastHour: 0, clusterActionsLastHour: 0, consecutiveFailures: 0 },
    now: new Date().toISOString(),
    ...overrides,
  };
}

describe('worker — the policy gate in the remediation workflow', () => {
  let connection: Connection;
  let client: Client;
  let database: TestDatabase;
  let audit: AuditStore;
  let baseEnv: Record<string, string | undefined>;
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    const ctx = await ensureServers(['temporal', 'postgres']);
    database = await createTestDatabase(ctx, 'gate');
    audit = await AuditStore.create({ databaseUrl: database.url });
    connection = await Connection.connect({ address: temporalAddress(ctx) });
    const namespace = await createTestNamespace(ctx, 'gate');
    client = new Client({ connection, namespace });
    baseEnv = { CORTEXOPS_TEMPORAL_NAMESPACE: namespace, CORTEXOPS_TEMPORAL_PORT: ctx.env.CORTEXOPS_TEMPORAL_PORT, CORTEXOPS_DATABASE_URL: database.url };
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
    await audit?.close();
    await connection?.close();
    await database?.drop();
  });

  async function startWorker(env: Record<string, string | undefined> = {}): Promise<ServiceProcess> {
    const worker = await spawnService('worker', { ...baseEnv, ...env });
    workers.push(worker);
    return worker;
  }

  async function stopWorkers(): Promise<void> {
    await Promise.all(workers.splice(0).map((w) => w.terminate()));
  }

  async function run(incident: Incident, proposals: PolicyInput[]) {
    return client.workflow.start(WORKFLOW_TYPES.remediation, {
      taskQueue: TASK_QUEUES.remediation,
      workflowId: incidentWorkflowId(incident.id),
      args: [{ incident, approvalTimeoutMs: 10 * 60_000, proposals } satisfies RemediationWorkflowInput],
    });
  }

  async function violationsOf(incidentId: string) {
    return (await audit.query({ incidentId, kinds: ['policy.violation'] })).records;
  }

  it('policy gate — a denial ends the workflow at once (DENIED, no approval wait) and is audited as a policy violation', async () => {
    const worker = await startWorker();
    await worker.waitForHealth((status) => status === 200, 120_000);
    const incident = fixtureIncident('inc-gate');
    const denied = proposal(incident, { action: { type: 'delete-pod', kind: 'Pod', namespace: 'kube-system', name: 'coredns-1' } });

    const outcome = (await (await run(incident, [denied])).result()) as RemediationOutcome;

    expect(outcome.state).toBe('DENIED');
    expect(outcome.policy?.[0]?.allow).toBe(false);
    expect(outcome.policy?.[0]?.violations.map(codeOf)).toContain(VIOLATION_CODES.protectedNamespace);
    const rows = await violationsOf(incident.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'policy.violation', actor: 'policy', incidentId: incident.id, workflowId: incidentWorkflowId(incident.id) });
    expect(rows[0]?.payload).toMatchObject({ action: denied.action, decision: { allow: false } });
    expect((await audit.verify()).ok).toBe(true);
  });

  it('policy gate — an allowed proposal goes on to wait for a human, and writes no violation', async () => {
    const incident = fixtureIncident('inc-gate');
    const handle = await run(incident, [proposal(incident)]);
    await expect.poll(async () => (await handle.query(remediationStateQuery)).state, { timeout: 30_000 }).toBe('APPROVAL_PENDING');
    const history = (await handle.query(remediationStateQuery)).history.map((h) => h.state);
    expect(history).toEqual(['DIAGNOSING', 'POLICY_CHECK', 'APPROVAL_PENDING']);
    await handle.executeUpdate(approvalDecisionUpdate, { args: [{ decision: 'reject', approver: 'U123', channel: 'cli', decidedAt: new Date().toISOString() }] });
    const outcome = (await handle.result()) as RemediationOutcome;
    expect(outcome).toMatchObject({ state: 'REJECTED', policy: [{ allow: true }] });
    expect(await violationsOf(incident.id)).toHaveLength(0);
  });

  it('policy gate — the first denial stops the gate: later proposals are not decided', async () => {
    const incident = fixtureIncident('inc-gate');
    const tooMany = proposal(incident, { action: { type: 'scale', kind: 'Deployment', namespace: 'demo', name: 'checkout', replicas: 900 } });
    const outcome = (await (await run(incident, [tooMany, proposal(incident)])).result()) as RemediationOutcome;
    expect(outcome.state).toBe('DENIED');
    expect(outcome.policy).toHaveLength(1);
    expect(await violationsOf(incident.id)).toHaveLength(1);
  });

  it('policy gate — a malformed proposal ends the workflow FAILED naming the field, with no decision and no change', async () => {
    const incident = fixtureIncident('inc-gate');
    const bad = { ...proposal(incident), counts: { targetActionsLastHour: -1, clusterActionsLastHour: 0, consecutiveFailures: 0 } };
    const outcome = (await (await run(incident, [bad])).result()) as RemediationOutcome;
    expect(outcome.state).toBe('FAILED');
    expect(outcome.failure).toMatch(/targetActionsLastHour/);
    expect(outcome.policy).toBeUndefined();
  });

  it('policy gate — without a loadable policy the worker reports policy down, and every proposal is denied and audited', async () => {
    await stopWorkers();
    const worker = await startWorker({ CORTEXOPS_POLICY_DATA: '/nonexistent/policy-data.json' });
    const health = await worker.waitForHealth((status) => status === 503, 120_000);
    expect(health.dependencies['policy']).toMatchObject({ status: 'down' });
    expect(health.dependencies['policy']?.lastError).toMatch(/nonexistent\/policy-data\.json/);

    const incident = fixtureIncident('inc-gate');
    const outcome = (await (await run(incident, [proposal(incident)])).result()) as RemediationOutcome;
    expect(outcome.state).toBe('DENIED');
    expect(outcome.policy?.[0]?.violations.map(codeOf)).toContain(VIOLATION_CODES.policyUnavailable);
    expect(await violationsOf(incident.id)).toHaveLength(1);
  });

  it('policy gate — a change of the data file, or SIGHUP, reloads the policy data without a restart (bad data is refused, the data in force stays)', async () => {
    await stopWorkers();
    const dir = mkdtempSync(join(tmpdir(), 'cortexops-gate-'));
    try {
      const dataPath = join(dir, 'data.json');
      const data = JSON.parse(readFileSync(DEFAULT_DATA_PATH, 'utf8')) as { remediation_policy: { protectedNamespaces: string[] } };
      const withDemoProtected = structuredClone(data);
      withDemoProtected.remediation_policy.protectedNamespaces.push('demo');
      writeFileSync(dataPath, JSON.stringify(withDemoProtected));
      const worker = await startWorker({ CORTEXOPS_POLICY_DATA: dataPath });
      await worker.waitForHealth((status) => status === 200, 120_000);
      const decide = async () => {
        const incident = fixtureIncident('inc-gate');
        const handle = await run(incident, [proposal(incident)]);
        await expect.poll(async () => (await handle.query(remediationStateQuery)).state, { timeout: 30_000 }).toMatch(/^(DENIED|APPROVAL_PENDING)$/);
        const state = (await handle.query(remediationStateQuery)).state;
        if (state === 'APPROVAL_PENDING') await handle.terminate('test done');
        return state;
      };
      expect(await decide()).toBe('DENIED');

      // Writing the file reloads it by itself (the directory is watched); SIGHUP reloads once more on top.
      const times = (text: string) => worker.output().split(text).length - 1;
      writeFileSync(dataPath, '{ not json');
      await expect.poll(() => times('reload refused'), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      const refusedBefore = times('reload refused');
      worker.child.kill('SIGHUP');
      await expect.poll(() => times('reload refused'), { timeout: 10_000 }).toBe(refusedBefore + 1);
      expect(await decide()).toBe('DENIED');

      // Replaced the way a ConfigMap update or an editor does it (a new file renamed over the old one).
      writeFileSync(join(dir, 'data.json.new'), JSON.stringify(data));
      renameSync(join(dir, 'data.json.new'), dataPath);
      await expect.poll(() => times('policy: data reloaded'), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      expect(await decide()).toBe('APPROVAL_PENDING');
      const reloadedBefore = times('policy: data reloaded');
      worker.child.kill('SIGHUP');
      await expect.poll(() => times('policy: data reloaded'), { timeout: 10_000 }).toBe(reloadedBefore + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
