import { approvalDecisionUpdate, OPERATIONS_METRICS } from '@cortexops/contracts';
import { kubectl, type ServiceProcess } from '@cortexops/testkit';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemediationHarness, WAIT } from './harness.js';

/** Short refreshes so that the test sees the gauges move within seconds. */
const GAUGES_ENV = { CORTEXOPS_WORKFLOW_GAUGES_INTERVAL_MS: '1000' };

let h: RemediationHarness;

beforeAll(async () => {
  // Approve mode: every plan waits for a human, so the workflow stays in APPROVAL_PENDING until the test decides.
  h = await RemediationHarness.start('gauges', { mode: 'approve', workerEnv: GAUGES_ENV });
}, 300_000);

afterAll(async () => {
  await h?.dispose();
});

type Samples = Record<string, number>;

/** The worker's workflow gauges: `open:APPROVAL_PENDING`, `age:...`, `visits:...`, `uninspected` → value (absent: no sample). */
async function gauges(worker: ServiceProcess): Promise<Samples> {
  const text = await (await fetch(`${worker.baseUrl}/metrics`)).text();
  const names: Record<string, string> = {
    [OPERATIONS_METRICS.workflowsOpen]: 'open',
    [OPERATIONS_METRICS.workflowStateAgeSeconds]: 'age',
    [OPERATIONS_METRICS.workflowStateVisits]: 'visits',
    [OPERATIONS_METRICS.workflowsUninspected]: 'uninspected',
  };
  const samples: Samples = {};
  for (const m of text.matchAll(/^(cortexops_\w+)\{([^}]*)\} (\S+)$/gm)) {
    const name = names[m[1] ?? ''];
    if (!name) continue;
    const state = /state="(\w+)"/.exec(m[2] ?? '')?.[1];
    samples[state ? `${name}:${state}` : name] = Number(m[3]);
  }
  return samples;
}

/** Approves the request waiting, as the approvals service would (signed), after changing the Deployment under it. */
async function approveAfterChange(handle: WorkflowHandle, name: string, memory: string): Promise<void> {
  const { approvalRequest } = await h.waitForState(handle, 'APPROVAL_PENDING');
  await kubectl(h.ctx, ['patch', 'deployment', '-n', h.namespace, name, '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/resources/limits/memory', value: memory }])]);
  await handle.executeUpdate(approvalDecisionUpdate, {
    args: [h.signed({ requestId: approvalRequest!.requestId, planHash: approvalRequest!.planHash, decision: 'approve', approver: 'oncall@example.com', channel: 'cli', decidedAt: new Date().toISOString() })],
  });
}

async function requestRound(handle: WorkflowHandle): Promise<string | undefined> {
  const view = await h.view(handle);
  return view.state === 'APPROVAL_PENDING' ? view.approvalRequest?.requestId.split('/').at(-1) : undefined;
}

describe('worker — gauges of the running remediation workflows', () => {
  let handle: WorkflowHandle;

  it('every open state has a series from the start, 0 with nothing running', async () => {
    await expect.poll(() => gauges(h.worker), WAIT).toMatchObject({ 'open:APPROVAL_PENDING': 0, 'open:DRY_RUNNING': 0, 'age:APPROVAL_PENDING': 0, 'visits:DRY_RUNNING': 0, uninspected: 0 });
    const samples = await gauges(h.worker);
    expect(Object.keys(samples).some((k) => k.endsWith(':RESOLVED'))).toBe(false);
  });

  it('a real remediation waiting in APPROVAL_PENDING is counted, and its age grows while it waits', async () => {
    const { pods } = await h.deploy({ name: 'gauge-db', memory: '1Gi' });
    const signal = h.signal('gauge-db', pods[0]!.name, 'OOMKilling');
    await h.publish(signal);
    handle = await h.workflowOf(signal);
    await h.waitForState(handle, 'APPROVAL_PENDING');
    await expect.poll(() => gauges(h.worker), WAIT).toMatchObject({ 'open:APPROVAL_PENDING': 1, 'visits:APPROVAL_PENDING': 1, 'visits:DRY_RUNNING': 1, uninspected: 0 });
    const first = (await gauges(h.worker))['age:APPROVAL_PENDING']!;
    expect(first).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await gauges(h.worker))['age:APPROVAL_PENDING']).toBeGreaterThanOrEqual(first + 2.5);
    expect(await gauges(h.worker)).toMatchObject({ 'open:APPROVAL_PENDING': 1, 'open:DRY_RUNNING': 0, 'age:DRY_RUNNING': 0 });
  });

  it('a plan that keeps changing under its approval loops through DRY_RUNNING: the visits gauge counts it past the alert threshold (3)', async () => {
    // Each approval is voided by a change of the Deployment before the dry run that precedes the apply: plan again.
    await approveAfterChange(handle, 'gauge-db', '1100Mi');
    await expect.poll(() => requestRound(handle), WAIT).toBe('2');
    await approveAfterChange(handle, 'gauge-db', '1200Mi');
    await expect.poll(() => requestRound(handle), WAIT).toBe('3');
    // DRY_RUNNING: once per plan and once again before each apply: 2 + 2 + 1.
    const states = (await h.view(handle)).history.map((e) => e.state);
    expect(states.filter((s) => s === 'DRY_RUNNING')).toHaveLength(5);
    await expect.poll(() => gauges(h.worker), WAIT).toMatchObject({ 'visits:DRY_RUNNING': 5, 'visits:APPROVAL_PENDING': 3, 'visits:PLANNING': 3, 'open:APPROVAL_PENDING': 1 });
  });

  it('one replica reports: a second worker shows no samples while the first holds the lock, and takes over when it stops', async () => {
    const first = h.worker;
    const second = await h.startWorker();
    await new Promise((r) => setTimeout(r, 2500));
    // Declared, without a sample per state (its uninspected count, unlabelled, stays 0: sums and maxima are unchanged).
    expect(Object.keys(await gauges(second))).toEqual(['uninspected']);
    expect(await gauges(first)).toMatchObject({ 'open:APPROVAL_PENDING': 1, 'visits:DRY_RUNNING': 5 });
    await first.terminate();
    await expect.poll(() => gauges(second), WAIT).toMatchObject({ 'open:APPROVAL_PENDING': 1, 'visits:DRY_RUNNING': 5 });
    expect((await gauges(second))['age:APPROVAL_PENDING']).toBeGreaterThan(0);
  });

  it('the workflow gone, every gauge is back to 0', async () => {
    await handle.terminate('test over');
    await expect.poll(() => gauges(h.worker), WAIT).toMatchObject({ 'open:APPROVAL_PENDING': 0, 'age:APPROVAL_PENDING': 0, 'visits:DRY_RUNNING': 0, uninspected: 0 });
  });
});
