import { once } from 'node:events';
import { ANNOTATIONS, approvalDecisionUpdate, CONSUMERS, KV_BUCKETS, type RemediationOutcome, type Signal, STREAMS } from '@cortexops/contracts';
import { GATEWAY_ANNOTATIONS } from '@cortexops/k8s';
import { workflowRecord } from '@cortexops/testkit';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeploymentJson, RemediationHarness, WAIT } from './harness.js';

/**
 * Recovery and the correlator's side of a remediation, each from the correlator's input (a Signal on SIGNALS): a worker
 * killed while applying, a worker stopped while verifying, duplicated signals, the remediation notice (cooldown, then
 * escalation of a recurrence), and a problem that resolves itself while a human is asked.
 */

/** The part of the correlator's group state (KV bucket `cortexops_correlator`) these tests read. */
interface GroupView {
  readonly status: string;
  readonly epoch: number;
  readonly target: { kind: string; namespace?: string; name: string };
  readonly signalIds: readonly string[];
  readonly remediation?: { readonly incidentId: string; readonly fingerprints: readonly string[] };
}

/** The correlator has taken (decided, carried out, acked) every signal published so far. */
async function correlatorCaughtUp(h: RemediationHarness): Promise<void> {
  const jsm = await h.nc.jetstreamManager();
  await expect
    .poll(async () => {
      const info = await jsm.consumers.info(STREAMS.signals, CONSUMERS.correlator);
      return { pending: info.num_pending, unacked: info.num_ack_pending };
    }, WAIT)
    .toEqual({ pending: 0, unacked: 0 });
}

/**
 * The correlator's stored group of a Deployment in the harness's namespace, found by its content, not its key (the
 * subjects are listed by the server: `kv.keys()` may end before the last key while the correlator writes).
 */
async function groupOf(h: RemediationHarness, deployment: string): Promise<GroupView | undefined> {
  const kv = await h.nc.jetstream().views.kv(KV_BUCKETS.correlator);
  const jsm = await h.nc.jetstreamManager();
  const prefix = `$KV.${KV_BUCKETS.correlator}.`;
  const info = await jsm.streams.info(`KV_${KV_BUCKETS.correlator}`, { subjects_filter: `${prefix}>` });
  for (const subject of Object.keys(info.state.subjects ?? {})) {
    const entry = await kv.get(subject.slice(prefix.length));
    if (entry === null || entry.length === 0) continue;
    const group = entry.json<GroupView>();
    if (group.target.kind === 'Deployment' && group.target.namespace === h.namespace && group.target.name === deployment) return group;
  }
  return undefined;
}

/** Every workflow of the harness's namespace whose incident targets `deployment`. */
async function workflowsFor(h: RemediationHarness, deployment: string): Promise<{ workflowId: string; runs: number; status: string; signals: Signal[] }[]> {
  const found = [];
  for await (const execution of h.client.workflow.list()) {
    const record = await workflowRecord(h.client, RemediationHarness.incidentIdOf(h.client.workflow.getHandle(execution.workflowId)));
    if (record.input.incident.target.name === deployment) found.push({ workflowId: execution.workflowId, runs: record.runs, status: execution.status.name, signals: record.signals });
  }
  return found;
}

/**
 * The incident workflow started for `deployment`, found as soon as it exists (listing running workflows, not every
 * history of the namespace): a test that must catch an early state cannot wait for the slower lookup.
 */
async function runningWorkflowFor(h: RemediationHarness, deployment: string): Promise<WorkflowHandle> {
  let found: string | undefined;
  await expect
    .poll(
      async () => {
        for await (const execution of h.client.workflow.list({ query: "ExecutionStatus = 'Running'" })) {
          const record = await workflowRecord(h.client, RemediationHarness.incidentIdOf(h.client.workflow.getHandle(execution.workflowId)));
          if (record.input.incident.target.name === deployment) found = execution.workflowId;
        }
        return found;
      },
      { timeout: WAIT.timeout, interval: 20 },
    )
    .toBeDefined();
  return h.client.workflow.getHandle(found!);
}

/**
 * The change was made exactly once: the Deployment's generation moved by one template change (the raised limit), its
 * annotations name one remediation id, and the audit store holds one `action.applied` row and one receipt.
 */
async function expectAppliedOnce(h: RemediationHarness, handle: WorkflowHandle, before: DeploymentJson, name: string): Promise<void> {
  const id = `${handle.workflowId}-a1`;
  const incidentId = RemediationHarness.incidentIdOf(handle);
  const after = await h.deployment(name);
  expect(after.metadata.uid).toBe(before.metadata.uid);
  expect(after.metadata.generation).toBe(before.metadata.generation + 1);
  expect(after.spec.template.spec.containers[0]?.resources?.limits?.memory).toBe('1536Mi');
  expect(after.metadata.annotations?.[ANNOTATIONS.remediationId]).toBe(id);
  expect(after.metadata.annotations?.[GATEWAY_ANNOTATIONS.history]).toBe(id);
  const applied = (await h.trail(incidentId)).filter((r) => r.kind === 'action.applied');
  expect(applied.map((r) => r.payload['remediationId'])).toEqual([id]);
  expect((await h.audit.listActionReceipts(incidentId)).map((r) => r.remediationId)).toEqual([id]);
  expect((await h.audit.verify()).ok).toBe(true);
}


describe('remediation — recovery (auto namespace)', () => {
  let h: RemediationHarness;

  beforeAll(async () => {
    // Flapping off: a different problem right after the remediated one resolved would otherwise re-open that
    // incident (flap) before the cooldown rule is reached; the cooldown is what is under test here.
    // File storage: the kill test stops and restarts NATS, and the streams must still be there afterwards.
    h = await RemediationHarness.start('recovery', { jsStorage: 'file', correlatorEnv: { CORTEXOPS_CORRELATOR_FLAP_WINDOW_MS: '0' } });
  }, 300_000);

  afterAll(async () => {
    await h?.dispose();
  });

  it('recovery — the worker killed (SIGKILL) during APPLYING: a new worker finishes, RESOLVED, the change applied exactly once', async () => {
    // A database-looking name makes the policy ask for an approval: the workflow waits where the test can set the
    // stage. With NATS away, the apply happens and the remediation notice after it cannot be published (retried), so
    // the workflow holds in APPLYING however loaded the machine is, and the kill lands there every time.
    const { pods } = await h.deploy({ name: 'ledger-db', memory: '1Gi' });
    const before = await h.deployment('ledger-db');
    const killed = h.worker;
    await h.publish(h.signal('ledger-db', pods[0]!.name, 'OOMKilling'));
    const handle = await runningWorkflowFor(h, 'ledger-db');
    const { approvalRequest } = await h.waitForState(handle, 'APPROVAL_PENDING');
    await h.nats.launcher.down(['nats']);
    try {
      await handle.executeUpdate(approvalDecisionUpdate, {
        args: [h.signed({ requestId: approvalRequest!.requestId, planHash: approvalRequest!.planHash, decision: 'approve', approver: 'oncall@example.com', channel: 'cli', decidedAt: new Date().toISOString() })],
      });
      await expect.poll(async () => (await h.view(handle)).state, WAIT).toBe('APPLYING');
      const exited = once(killed.child, 'exit');
      killed.child.kill('SIGKILL');
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
    } finally {
      await h.nats.launcher.up(['nats']);
    }
    const history = (await h.trail(RemediationHarness.incidentIdOf(handle))).filter((r) => r.kind === 'workflow.state').map((r) => r.payload['to']);
    expect(history.at(-1)).toBe('APPLYING');

    await h.startWorker();
    const outcome = (await handle.result()) as RemediationOutcome;

    expect(outcome.state, outcome.outcome).toBe('RESOLVED');
    expect(outcome.receipts.map((r) => r.remediationId)).toEqual([`${handle.workflowId}-a1`]);
    await expectAppliedOnce(h, handle, before, 'ledger-db');
  }, 300_000);

  it('recovery — a graceful SIGTERM of the worker while the workflow waits in VERIFYING: exit code 0, the next worker finishes the workflow', async () => {
    const { pods } = await h.deploy({ name: 'catalog', memory: '1Gi' });
    const before = await h.deployment('catalog');
    const signal = h.signal('catalog', pods[0]!.name, 'OOMKilling');
    await h.publish(signal);
    const handle = await h.workflowOf(signal);
    await h.waitForState(handle, 'VERIFYING');

    const stopped = h.worker;
    // runService exits 1 when the drain overruns CORTEXOPS_SHUTDOWN_TIMEOUT_MS: 0 means it drained within the budget.
    expect(await stopped.terminate(), stopped.output().slice(-3000)).toBe(0);
    expect(stopped.output()).toContain('worker stopped');

    await h.startWorker();
    const outcome = (await handle.result()) as RemediationOutcome;

    expect(outcome.state, outcome.outcome).toBe('RESOLVED');
    await expectAppliedOnce(h, handle, before, 'catalog');
  }, 240_000);

  it('recovery — a duplicated incident signal (twice with different message ids, then the same problem again while the workflow runs): one workflow, one change', async () => {
    const { pods } = await h.deploy({ name: 'basket', memory: '1Gi' });
    const before = await h.deployment('basket');
    const signal = h.signal('basket', pods[0]!.name, 'OOMKilling');
    await h.publish(signal);
    await h.publish(signal);
    const handle = await h.workflowOf(signal);
    await expect.poll(async () => (await h.view(handle)).state, WAIT).not.toBe('DIAGNOSING');
    const again = h.signal('basket', pods[0]!.name, 'OOMKilling');
    expect(again.fingerprint).toBe(signal.fingerprint);
    await h.publish(again);
    await correlatorCaughtUp(h);

    const outcome = (await handle.result()) as RemediationOutcome;

    expect(outcome.state, outcome.outcome).toBe('RESOLVED');
    const record = await workflowRecord(h.client, RemediationHarness.incidentIdOf(handle));
    expect(record.runs).toBe(1);
    expect(record.signals.every((s) => s.id === signal.id)).toBe(true);
    expect((await workflowsFor(h, 'basket')).map((w) => w.workflowId)).toEqual([handle.workflowId]);
    await expectAppliedOnce(h, handle, before, 'basket');
  }, 240_000);

  it('recovery — the remediation notice reaches the correlator: a different problem right after is a cooldown (no workflow), the remediated problem coming back is escalated (ESCALATED, no second change)', async () => {
    const { pods } = await h.deploy({ name: 'orders', memory: '1Gi' });
    const before = await h.deployment('orders');
    const pod = pods[0]!.name;
    const oom = h.signal('orders', pod, 'OOMKilling');
    await h.publish(oom);
    const handle = await h.workflowOf(oom);
    const incidentId = RemediationHarness.incidentIdOf(handle);
    const outcome = (await handle.result()) as RemediationOutcome;
    expect(outcome.state, outcome.outcome).toBe('RESOLVED');
    await expectAppliedOnce(h, handle, before, 'orders');

    // The notice published when the change was applied is in the correlator's state.
    await expect.poll(async () => (await groupOf(h, 'orders'))?.remediation, WAIT).toMatchObject({ incidentId, fingerprints: [oom.fingerprint] });
    expect(h.correlator.output()).toMatch(new RegExp(`"incident":"${incidentId}"[^\\n]*remediation recorded: target cooling down`));

    // The remediated problem resolves (the correlator closes the incident) ...
    await h.publish(h.signal('orders', pod, 'OOMKilling', { status: 'resolved' }));
    await expect.poll(async () => (await groupOf(h, 'orders'))?.status, WAIT).toBe('resolved');

    // ... and a different problem of the same Deployment right after: cooldown — recorded, no incident, no workflow.
    const other = h.signal('orders', pod, 'BackOff', { title: `BackOff: Pod/${pod} Back-off restarting failed container`, severity: 'critical' });
    expect(other.fingerprint).not.toBe(oom.fingerprint);
    await h.publish(other);
    await correlatorCaughtUp(h);
    const cooled = await groupOf(h, 'orders');
    expect(cooled).toMatchObject({ status: 'idle', remediation: { incidentId } });
    expect(cooled?.signalIds).toEqual([other.id]);
    expect((await workflowsFor(h, 'orders')).map((w) => w.workflowId)).toEqual([handle.workflowId]);

    // The remediated problem fires again: escalated, its workflow ends ESCALATED without touching the cluster.
    const recurrence = h.signal('orders', pod, 'OOMKilling');
    expect(recurrence.fingerprint).toBe(oom.fingerprint);
    await h.publish(recurrence);
    const escalated = await h.workflowOf(recurrence);
    expect(escalated.workflowId).not.toBe(handle.workflowId);
    const record = await workflowRecord(h.client, RemediationHarness.incidentIdOf(escalated));
    expect(record.input.incident.status).toBe('escalated');
    const second = (await escalated.result()) as RemediationOutcome;

    expect(second.state, second.outcome).toBe('ESCALATED');
    expect(second.outcome).toContain('again after a remediation');
    expect(second.receipts).toEqual([]);
    expect(h.correlator.output()).toMatch(new RegExp(`"incident":"${RemediationHarness.incidentIdOf(escalated)}"[^\\n]*incident escalate`));
    const trail = await h.trail(RemediationHarness.incidentIdOf(escalated));
    expect(trail.map((r) => r.kind)).not.toContain('action.applied');
    expect(trail.filter((r) => r.kind === 'workflow.state').map((r) => r.payload['to'])).toEqual(['DIAGNOSING', 'ESCALATED']);
    expect(await h.audit.listActionReceipts(RemediationHarness.incidentIdOf(escalated))).toEqual([]);
    // Still the first change only.
    await expectAppliedOnce(h, handle, before, 'orders');
  }, 240_000);
});

describe('remediation — resolved while waiting (approve namespace)', () => {
  let h: RemediationHarness;

  beforeAll(async () => {
    h = await RemediationHarness.start('selfheal', { mode: 'approve' });
  }, 300_000);

  afterAll(async () => {
    await h?.dispose();
  });

  it('resolve — the problem resolves while the workflow waits in APPROVAL_PENDING: the correlator resolves the incident, RESOLVED "resolved by itself", nothing changed', async () => {
    const { pods } = await h.deploy({ name: 'search', memory: '1Gi' });
    const before = await h.deployment('search');
    const firing = h.signal('search', pods[0]!.name, 'OOMKilling');
    await h.publish(firing);
    const handle = await h.workflowOf(firing);
    const waiting = await h.waitForState(handle, 'APPROVAL_PENDING');
    expect(waiting.approvalRequest?.planHash).toBe(waiting.dryRun?.planHash);

    const resolved = h.signal('search', pods[0]!.name, 'OOMKilling', { status: 'resolved' });
    expect(resolved.fingerprint).toBe(firing.fingerprint);
    await h.publish(resolved);
    const outcome = (await handle.result()) as RemediationOutcome;

    expect(outcome.state, outcome.outcome).toBe('RESOLVED');
    expect(outcome.outcome).toContain('resolved by itself');
    expect(outcome.outcome).toContain(resolved.id);
    expect(outcome.receipts).toEqual([]);
    const record = await workflowRecord(h.client, RemediationHarness.incidentIdOf(handle));
    expect(record.runs).toBe(1);
    expect(record.signals.map((s) => [s.id, s.status])).toContainEqual([resolved.id, 'resolved']);
    const after = await h.deployment('search');
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(after.spec.template).toEqual(before.spec.template);
    expect(after.metadata.annotations?.[ANNOTATIONS.remediationId]).toBeUndefined();
    const trail = await h.trail(RemediationHarness.incidentIdOf(handle));
    expect(trail.map((r) => r.kind)).not.toContain('action.applied');
    expect(trail.filter((r) => r.kind === 'workflow.state').map((r) => r.payload['to'])).toEqual(['DIAGNOSING', 'PLANNING', 'DRY_RUNNING', 'POLICY_CHECK', 'APPROVAL_PENDING', 'RESOLVED']);
    expect(await h.audit.listActionReceipts(RemediationHarness.incidentIdOf(handle))).toEqual([]);
  }, 240_000);
});
