import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANNOTATIONS, type RemediationOutcome } from '@cortexops/contracts';
import { GATEWAY_ANNOTATIONS } from '@cortexops/k8s';
import { PolicyEngine } from '@cortexops/policy';
import { kubeconfigPaths, kubectl, privateStack, REMEDIATION_ROLE, stackPorts, uniqueName, WORKER_NAMESPACE, WORKER_SERVICE_ACCOUNT, type PrivateStack } from '@cortexops/testkit';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DeploymentJson, RemediationHarness, WAIT } from './harness.js';

/**
 * The ways a remediation ends other than RESOLVED, each from the correlator's input (a Signal on SIGNALS) on real
 * servers, asserting the workflow's result, the object as the API server has it, and the audit trail. One harness for
 * the file; scenarios that need another worker configuration (policy data, environment, Prometheus) restart the worker.
 */

let h: RemediationHarness;
let scratch: string;
/** The worker configuration running now (restarted only when a scenario needs another). */
let workerConfig = 'default';
let emptyPrometheus: PrivateStack | undefined;

beforeAll(async () => {
  h = await RemediationHarness.start('failures');
  scratch = mkdtempSync(join(tmpdir(), 'cortexops-failures-'));
}, 300_000);

afterAll(async () => {
  await h?.dispose();
  await emptyPrometheus?.dispose();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Runs the worker with `env` on top of the harness' variables, restarting it when another configuration runs. */
async function useWorker(name: string, env: Record<string, string> = {}): Promise<void> {
  if (workerConfig === name) return;
  await h.stopWorkers();
  await h.startWorker(env);
  workerConfig = name;
}

/** The harness' policy data with `change` applied, in a file (and directory) of its own; returns its path. */
function policyData(name: string, change: (policy: Record<string, unknown> & { modes: Record<string, unknown> & { namespaces: Record<string, string> } }) => void): string {
  const data = JSON.parse(readFileSync(h.workerEnv['CORTEXOPS_POLICY_DATA']!, 'utf8')) as { remediation_policy: Parameters<typeof change>[0] };
  change(data.remediation_policy);
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'data.json');
  writeFileSync(path, JSON.stringify(data));
  return path;
}

/** The bundle hash of the policy the worker runs with `dataPath` (the same wasm, the same data). */
async function bundleHashOf(dataPath: string): Promise<string> {
  return (await PolicyEngine.create({ dataPath })).bundleHash();
}

/** Publishes what ingestion would for a kubelet event on `pod`, and follows the workflow the correlator starts. */
async function remediate(workload: string, pod: string, reason = 'OOMKilling', title?: string) {
  const signal = h.signal(workload, pod, reason, title === undefined ? {} : { title });
  await h.publish(signal);
  const handle = await h.workflowOf(signal);
  return { handle, incidentId: RemediationHarness.incidentIdOf(handle) };
}

async function resultOf(handle: WorkflowHandle): Promise<RemediationOutcome> {
  return (await handle.result()) as RemediationOutcome;
}

async function trailOf(incidentId: string) {
  const trail = await h.trail(incidentId);
  return {
    trail,
    kinds: trail.map((r) => r.kind),
    states: trail.filter((r) => r.kind === 'workflow.state').map((r) => r.payload['to']),
    one: (kind: string) => {
      const found = trail.filter((r) => r.kind === kind);
      expect(found.map((r) => r.kind), `one ${kind} in ${trail.map((r) => r.kind).join(', ')}`).toEqual([kind]);
      return found[0]!;
    },
  };
}

function memoryOf(deployment: DeploymentJson): string | undefined {
  return deployment.spec.template.spec.containers[0]?.resources?.limits?.memory;
}

/** Nothing CortexOps writes is on the object: same generation, same template, no remediation annotation. */
async function expectUnchanged(name: string, before: DeploymentJson): Promise<void> {
  const after = await h.deployment(name);
  expect(after.metadata.uid).toBe(before.metadata.uid);
  expect(after.metadata.generation).toBe(before.metadata.generation);
  expect(after.spec.template).toEqual(before.spec.template);
  expect(after.metadata.annotations?.[ANNOTATIONS.remediationId]).toBeUndefined();
  expect(after.metadata.annotations?.[GATEWAY_ANNOTATIONS.receipt]).toBeUndefined();
}

/** Frees the kwok nodes' memory for the next scenario (and for other test files on the shared cluster). */
async function remove(name: string): Promise<void> {
  await kubectl(h.ctx, ['delete', 'deployment', '-n', h.namespace, name, '--ignore-not-found', '--wait=false']);
}

async function expectChainIntact(): Promise<void> {
  expect((await h.audit.verify()).ok).toBe(true);
}

describe('remediation — nothing to do, or not allowed to', () => {
  beforeEach(() => useWorker('default'));

  it('no safe action — pods that cannot schedule (FailedScheduling): ESCALATED after PLANNING, nothing dry-run nor changed, remediation.escalated audited', async () => {
    // A pod asking for more memory than any kwok node has (64Gi): Pending for real, FailedScheduling from the scheduler.
    const labels = { app: 'backlog' };
    const manifest = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'backlog', namespace: h.namespace, labels },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'registry.example/backlog:1.0', resources: { limits: { memory: '100Gi' } } }] } } },
    };
    await kubectl(h.ctx, ['apply', '-f', '-'], { stdin: JSON.stringify(manifest) });
    await expect.poll(async () => (await h.pods('backlog')).length, WAIT).toBe(1);
    const pod = (await h.pods('backlog'))[0]!.name;
    const before = await h.deployment('backlog');

    const { handle, incidentId } = await remediate('backlog', pod, 'FailedScheduling', `FailedScheduling: Pod/${pod} 0/3 nodes are available: 3 Insufficient memory.`);
    const outcome = await resultOf(handle);

    expect(outcome.state, outcome.outcome).toBe('ESCALATED');
    expect(outcome.outcome).toMatch(/^no safe action: /);
    expect(outcome.plan?.actions).toEqual([]);
    expect(outcome.plan?.rule).toBe('pods-unschedulable');
    expect(outcome.receipts).toEqual([]);
    await expectUnchanged('backlog', before);

    const { states, kinds, one } = await trailOf(incidentId);
    expect(states).toEqual(['DIAGNOSING', 'PLANNING', 'ESCALATED']);
    expect(one('remediation.escalated').payload).toMatchObject({ rule: 'pods-unschedulable' });
    expect(kinds).not.toContain('dryrun.completed');
    expect(kinds).not.toContain('policy.decision');
    expect(kinds).not.toContain('action.applied');
    await expectChainIntact();
    await remove('backlog');
  });

  it('dry run Invalid — an admission policy rejects the raised limit (422): DENIED with dry-run-failed naming the server\'s message, nothing changed', async () => {
    const name = uniqueName('cortexops-test-memory-cap').replace(/_/g, '-');
    const message = 'memory limits above 4Gi are not allowed in this namespace';
    const policy = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments'] }] },
        validations: [
          {
            expression:
              "object.spec.template.spec.containers.all(c, !has(c.resources) || !has(c.resources.limits) || !('memory' in c.resources.limits) || !quantity(c.resources.limits.memory).isGreaterThan(quantity('4Gi')))",
            message,
            reason: 'Invalid',
          },
        ],
      },
    };
    // Scoped to this test's namespace (by a label only it carries) and this test's Deployment.
    const binding = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name },
      spec: {
        policyName: name,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'cortexops.test/admission': name } }, objectSelector: { matchLabels: { app: 'ledger' } } },
      },
    };
    await h.deploy({ name: 'ledger', memory: '3Gi' });
    const before = await h.deployment('ledger');
    try {
      await kubectl(h.ctx, ['label', 'namespace', h.namespace, `cortexops.test/admission=${name}`]);
      await kubectl(h.ctx, ['apply', '-f', '-'], { stdin: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [policy, binding] }) });
      // In force once the API server's admission has seen both: a server-side dry run of the same change is refused.
      const raise = JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/resources/limits/memory', value: '4608Mi' }]);
      await expect
        .poll(() => kubectl(h.ctx, ['patch', 'deployment', '-n', h.namespace, 'ledger', '--dry-run=server', '--type=json', '-p', raise]).then(() => 'admitted', (error: Error) => error.message), WAIT)
        .toContain(message);

      const { handle, incidentId } = await remediate('ledger', (await h.pods('ledger'))[0]!.name);
      const outcome = await resultOf(handle);

      expect(outcome.state, outcome.outcome).toBe('DENIED');
      expect(outcome.outcome).toContain('dry-run-failed: ');
      expect(outcome.outcome).toContain(message);
      expect(outcome.plan?.actions[0]).toMatchObject({ type: 'raise-memory-limit', name: 'ledger', memory: '4608Mi' });
      expect(outcome.receipts).toEqual([]);
      await expectUnchanged('ledger', before);
      expect(memoryOf(await h.deployment('ledger'))).toBe('3Gi');

      const { states, kinds, one } = await trailOf(incidentId);
      expect(states).toEqual(['DIAGNOSING', 'PLANNING', 'DRY_RUNNING', 'POLICY_CHECK', 'DENIED']);
      const report = one('dryrun.completed').payload['report'] as { ok: boolean; error?: { code: string; message: string } };
      expect(report.ok).toBe(false);
      expect(report.error?.code).toBe('K8S_INVALID');
      expect(report.error?.message).toContain(message);
      const violation = one('policy.violation').payload['decision'] as { allow: boolean; violations: string[] };
      expect(violation.allow).toBe(false);
      expect(violation.violations.some((v) => v.startsWith('dry-run-failed: ') && v.includes(message))).toBe(true);
      expect(kinds).not.toContain('action.applied');
      await expectChainIntact();
    } finally {
      await kubectl(h.ctx, ['delete', 'validatingadmissionpolicybinding', name, '--ignore-not-found']);
      await kubectl(h.ctx, ['delete', 'validatingadmissionpolicy', name, '--ignore-not-found']);
      await kubectl(h.ctx, ['label', 'namespace', h.namespace, 'cortexops.test/admission-']);
      await remove('ledger');
    }
  });

  it('dry run Forbidden — a namespace where the worker may read but not patch: DENIED naming the missing RBAC permission (patch deployments.apps in the namespace), nothing changed', async () => {
    await h.deploy({ name: 'invoices', memory: '1Gi' });
    const before = await h.deployment('invoices');
    const canPatch = () =>
      kubectl(h.ctx, ['auth', 'can-i', 'patch', 'deployments.apps', '-n', h.namespace], { kubeconfig: kubeconfigPaths(h.ctx).worker }).then(
        (out) => out.trim(),
        (error: { stdout?: string }) => error.stdout?.trim() ?? 'error',
      );
    try {
      // What diagnosis reads (deploy/k8s/worker-rbac.yaml), without patch: the enrolment's RoleBinding replaced.
      await kubectl(h.ctx, ['create', 'role', 'cortexops-worker-readonly', '-n', h.namespace, '--verb=get,list', '--resource=deployments.apps,replicasets.apps,pods,events']);
      await kubectl(h.ctx, ['create', 'rolebinding', 'cortexops-worker-readonly', '-n', h.namespace, '--role=cortexops-worker-readonly', `--serviceaccount=${WORKER_NAMESPACE}:${WORKER_SERVICE_ACCOUNT}`]);
      await kubectl(h.ctx, ['delete', 'rolebinding', REMEDIATION_ROLE, '-n', h.namespace]);
      await expect.poll(canPatch, WAIT).toBe('no');

      const { handle, incidentId } = await remediate('invoices', (await h.pods('invoices'))[0]!.name);
      const outcome = await resultOf(handle);

      expect(outcome.state, outcome.outcome).toBe('DENIED');
      expect(outcome.outcome).toContain('dry-run-failed: ');
      expect(outcome.outcome).toContain(`missing RBAC verb "patch" on resource "deployments.apps" in namespace "${h.namespace}"`);
      expect(outcome.receipts).toEqual([]);
      await expectUnchanged('invoices', before);

      const { states, kinds, one } = await trailOf(incidentId);
      expect(states).toEqual(['DIAGNOSING', 'PLANNING', 'DRY_RUNNING', 'POLICY_CHECK', 'DENIED']);
      // The reads were allowed: the plan came from the live state.
      const diagnosis = one('diagnosis.completed').payload['diagnosis'] as { live?: unknown; problems: string[] };
      expect(diagnosis.live).toBeDefined();
      expect(diagnosis.problems).toEqual([]);
      const report = one('dryrun.completed').payload['report'] as { ok: boolean; error?: { code: string; message: string } };
      expect(report).toMatchObject({ ok: false, error: { code: 'K8S_FORBIDDEN' } });
      expect(one('policy.violation').payload['decision']).toMatchObject({ allow: false });
      expect(kinds).not.toContain('action.applied');
      await expectChainIntact();
    } finally {
      await kubectl(h.ctx, ['create', 'rolebinding', REMEDIATION_ROLE, '-n', h.namespace, `--clusterrole=${REMEDIATION_ROLE}`, `--serviceaccount=${WORKER_NAMESPACE}:${WORKER_SERVICE_ACCOUNT}`]).catch(() => undefined);
      await kubectl(h.ctx, ['delete', 'rolebinding', 'cortexops-worker-readonly', '-n', h.namespace, '--ignore-not-found']);
      await expect.poll(canPatch, WAIT).toBe('yes');
      await remove('invoices');
    }
  });
});

describe('remediation — verification fails', () => {
  beforeEach(() => useWorker('default'));

  it('compensation — the raised limit (48Gi → 72Gi) cannot schedule on 64Gi nodes: verification fails, COMPENSATING → ROLLED_BACK, template back to its prior spec, action.applied then action.reverted', async () => {
    // No request: it defaults to the limit, so the raised pod needs 72Gi and no kwok node (64Gi) can take it.
    const { uid, pods } = await h.deploy({ name: 'catalog', memory: '48Gi' });
    const before = await h.deployment('catalog');

    const { handle, incidentId } = await remediate('catalog', pods[0]!.name);
    const outcome = await resultOf(handle);

    expect(outcome.state, outcome.outcome).toBe('ROLLED_BACK');
    expect(outcome.outcome).toMatch(/^verification failed: .*reverted and verified \(the prior spec is back and its rollout is complete\)$/s);
    expect(outcome.verification?.verdict).toBe('failure');
    expect(outcome.plan?.actions[0]).toMatchObject({ type: 'raise-memory-limit', memory: '73728Mi' });
    const after = await h.deployment('catalog');
    expect(after.metadata.uid).toBe(uid);
    expect(after.spec.template).toEqual(before.spec.template);
    expect(memoryOf(after)).toBe('48Gi');
    const remediationId = `${handle.workflowId}-a1`;
    expect(after.metadata.annotations?.[ANNOTATIONS.remediationId]).toBeUndefined();
    expect(after.metadata.annotations?.[GATEWAY_ANNOTATIONS.revertedId]).toBe(remediationId);
    expect((await h.audit.getActionReceipt(remediationId))?.revertedAt).toBeDefined();
    // The controller goes back to the old ReplicaSet: the pod that never scheduled is removed, the original stays.
    await expect
      .poll(async () => {
        const d = await h.deployment('catalog');
        return [d.status?.observedGeneration === d.metadata.generation, d.status?.updatedReplicas, d.status?.availableReplicas, (await h.pods('catalog')).map((p) => p.uid)];
      }, WAIT)
      .toEqual([true, 1, 1, [pods[0]!.uid]]);

    const { trail, states, kinds, one } = await trailOf(incidentId);
    expect(states).toEqual(['DIAGNOSING', 'PLANNING', 'DRY_RUNNING', 'POLICY_CHECK', 'APPLYING', 'VERIFYING', 'COMPENSATING', 'ROLLED_BACK']);
    // The verification failed; after the revert the compensation was verified too (its rollout complete again).
    const completed = trail.filter((r) => r.kind === 'verification.completed').map((r) => r.payload);
    expect(completed).toMatchObject([{ verdict: 'failure' }, { compensation: true, verdict: 'success' }]);
    const measured = trail.filter((r) => r.kind === 'verification.measured').map((r) => r.payload['measurement'] as { outcome: string; checks: { name: string; outcome: string }[] });
    // The new pod never schedules: the rollout the verification waits for never completes.
    expect(measured[0]?.checks).toMatchObject([{ name: 'rollout-before-verification', outcome: 'failure' }]);
    expect(measured.at(-1)?.checks).toMatchObject([{ name: 'rollout-after-revert', outcome: 'success' }]);
    expect(one('action.reverted').payload).toMatchObject({ remediationId, outcome: 'reverted' });
    expect(kinds.indexOf('action.applied')).toBeGreaterThanOrEqual(0);
    expect(kinds.indexOf('action.applied')).toBeLessThan(kinds.indexOf('verification.completed'));
    expect(kinds.indexOf('verification.completed')).toBeLessThan(kinds.indexOf('action.reverted'));
    expect(kinds).not.toContain('compensation.failed');
    await expectChainIntact();
    await remove('catalog');
  });

  it('compensation refused — someone else edits the template while VERIFYING: the revert is refused (TargetChanged), FAILED saying so, their change and the raised limit kept', async () => {
    const { pods } = await h.deploy({ name: 'pricing', memory: '48Gi' });
    const { handle, incidentId } = await remediate('pricing', pods[0]!.name);
    // The stabilisation window (6 s) leaves time to edit before the first measurement fails and the revert runs.
    await h.waitForState(handle, 'VERIFYING');
    const edit = [{ op: 'add', path: '/spec/template/spec/containers/0/env', value: [{ name: 'EDITED_BY', value: 'on-call' }] }];
    await kubectl(h.ctx, ['patch', 'deployment', '-n', h.namespace, 'pricing', '--type=json', '-p', JSON.stringify(edit)]);

    const outcome = await resultOf(handle);

    expect(outcome.state, outcome.outcome).toBe('FAILED');
    expect(outcome.outcome).toContain('verification failed: ');
    expect(outcome.outcome).toContain('compensation failed, a human must look');
    expect(outcome.outcome).toContain('changed since');
    expect(outcome.outcome).toContain('not by this remediation');
    const after = await h.deployment('pricing');
    expect(after.spec.template.spec.containers[0]?.env).toEqual([{ name: 'EDITED_BY', value: 'on-call' }]);
    expect(memoryOf(after)).toBe('72Gi');
    const remediationId = `${handle.workflowId}-a1`;
    expect(after.metadata.annotations?.[ANNOTATIONS.remediationId]).toBe(remediationId);
    expect(after.metadata.annotations?.[GATEWAY_ANNOTATIONS.revertedId]).toBeUndefined();
    expect((await h.audit.getActionReceipt(remediationId))?.revertedAt).toBeUndefined();

    const { states, kinds, one } = await trailOf(incidentId);
    expect(states).toEqual(['DIAGNOSING', 'PLANNING', 'DRY_RUNNING', 'POLICY_CHECK', 'APPLYING', 'VERIFYING', 'COMPENSATING', 'FAILED']);
    expect(one('compensation.failed').payload).toMatchObject({ remediationId });
    expect(String(one('compensation.failed').payload['problem'])).toContain('changed since');
    expect(kinds).not.toContain('action.reverted');
    expect(kinds.indexOf('action.applied')).toBeLessThan(kinds.indexOf('compensation.failed'));
    await expectChainIntact();
    await remove('pricing');
  });
});

describe('remediation — policy and operating modes', () => {
  it('policy deny — the namespace\'s environment (qa: the default allow-list) does not allow raise-memory-limit: DENIED at once, nothing changed, the violation and the decision (with the policy bundle hash) audited', async () => {
    await useWorker('environment-qa', { CORTEXOPS_ENVIRONMENTS: `${h.namespace}=qa` });
    const { pods } = await h.deploy({ name: 'orders', memory: '1Gi' });
    const before = await h.deployment('orders');

    const { handle, incidentId } = await remediate('orders', pods[0]!.name);
    const outcome = await resultOf(handle);

    const violation = 'action-not-allowed: raise-memory-limit is not allowed in environment qa';
    expect(outcome.state, outcome.outcome).toBe('DENIED');
    expect(outcome.outcome).toBe(`denied by policy: ${violation}`);
    expect(outcome.receipts).toEqual([]);
    await expectUnchanged('orders', before);

    const { states, kinds, one } = await trailOf(incidentId);
    expect(states).toEqual(['DIAGNOSING', 'PLANNING', 'DRY_RUNNING', 'POLICY_CHECK', 'DENIED']);
    const verdict = one('policy.decision').payload['verdict'] as { allow: boolean; environment: string; bundleHash: string; decisions: { violations: string[] }[] };
    expect(verdict).toMatchObject({ allow: false, environment: 'qa' });
    expect(verdict.decisions[0]?.violations).toEqual([violation]);
    expect(verdict.bundleHash).toBe(await bundleHashOf(h.workerEnv['CORTEXOPS_POLICY_DATA']!));
    const denial = one('policy.violation');
    expect(denial.actor).toBe('policy');
    expect(denial.payload).toMatchObject({ action: { type: 'raise-memory-limit', name: 'orders' }, decision: { allow: false, violations: [violation] } });
    expect(kinds.indexOf('policy.violation')).toBeLessThan(kinds.indexOf('policy.decision'));
    expect(kinds).not.toContain('action.applied');
    await expectChainIntact();
    await remove('orders');
  });

  /** A run with the worker on `dataPath`, ending OBSERVED: what every observe-mode run shows, and its records for more. */
  async function observed(workload: string, config: string, dataPath: string) {
    await useWorker(config, { CORTEXOPS_POLICY_DATA: dataPath });
    const { pods } = await h.deploy({ name: workload, memory: '1Gi' });
    const before = await h.deployment(workload);

    const { handle, incidentId } = await remediate(workload, pods[0]!.name);
    const outcome = await resultOf(handle);

    expect(outcome.state, outcome.outcome).toBe('OBSERVED');
    expect(outcome.outcome).toBe(`observe mode: would have done raise-memory-limit Deployment ${h.namespace}/${workload}; nothing was applied`);
    expect(outcome.receipts).toEqual([]);
    await expectUnchanged(workload, before);
    const records = await trailOf(incidentId);
    expect(records.states).toEqual(['DIAGNOSING', 'PLANNING', 'DRY_RUNNING', 'POLICY_CHECK', 'OBSERVED']);
    const verdict = records.one('policy.decision').payload['verdict'] as { mode: string; bundleHash: string; decisions: { reasons: string[] }[] };
    expect(verdict.mode).toBe('observe');
    expect(verdict.bundleHash).toBe(await bundleHashOf(dataPath));
    expect(records.kinds).not.toContain('action.applied');
    await expectChainIntact();
    await remove(workload);
    return { outcome, verdict, ...records };
  }

  it('observe mode — the namespace in observe: OBSERVED after the dry run, the diff recorded as what would have been done, the object unchanged', async () => {
    const dataPath = policyData('observe', (policy) => {
      policy.modes.namespaces[h.namespace] = 'observe';
    });
    const { outcome, verdict, kinds, one } = await observed('search', 'observe', dataPath);

    expect(outcome.policy).toMatchObject({ allow: true, mode: 'observe' });
    const report = one('dryrun.completed').payload['report'] as { ok: boolean; planHash: string; actions: { diff: string; changed: boolean }[] };
    expect(report.ok).toBe(true);
    expect(report.actions[0]?.changed).toBe(true);
    expect(report.actions[0]?.diff).toMatch(/^-\s+memory: 1Gi$/m);
    expect(report.actions[0]?.diff).toMatch(/^\+\s+memory: 1536Mi$/m);
    expect(verdict.decisions[0]?.reasons.some((r) => r.startsWith('observe-mode: ') && r.includes(`modes.namespaces.${h.namespace}`))).toBe(true);
    expect(one('remediation.escalated').payload).toMatchObject({ observe: true, planHash: report.planHash, wouldHaveDone: [{ type: 'raise-memory-limit', name: 'search', memory: '1536Mi' }] });
    expect(kinds).not.toContain('policy.violation');
  });

  it('kill switch — modes.killSwitch on while the namespace is auto: OBSERVED, the kill switch named, the object unchanged', async () => {
    const dataPath = policyData('kill-switch', (policy) => {
      expect(policy.modes.namespaces[h.namespace]).toBe('auto');
      policy.modes['killSwitch'] = true;
    });
    const { verdict, one } = await observed('basket', 'kill-switch', dataPath);

    expect(verdict.decisions[0]?.reasons).toContain('observe-mode: the kill switch is on (modes.killSwitch): nothing is applied; the decision records what would have been done');
    expect(one('remediation.escalated').payload).toMatchObject({ observe: true });
  });
});

describe('remediation — verification without evidence', () => {
  it('no samples — a Prometheus without kube-state-metrics: every promql check is empty (inconclusive), so ESCALATED "verification inconclusive", never RESOLVED; the change stays in place for a human', async () => {
    emptyPrometheus = await privateStack('failures-prometheus');
    await emptyPrometheus.launcher.up(['prometheus']);
    await useWorker('empty-prometheus', { CORTEXOPS_PROMETHEUS_URL: `http://127.0.0.1:${stackPorts(emptyPrometheus.ctx).prometheusPort}` });
    const { uid, pods } = await h.deploy({ name: 'profile', memory: '1Gi' });

    const { handle, incidentId } = await remediate('profile', pods[0]!.name);
    const outcome = await resultOf(handle);

    expect(outcome.state, outcome.outcome).toBe('ESCALATED');
    expect(outcome.outcome).toMatch(/^verification inconclusive: .*the change stays in place for a human to judge$/s);
    expect(outcome.verification?.verdict).toBe('inconclusive');
    const measurements = outcome.verification?.measurements ?? [];
    expect(measurements.length).toBeGreaterThan(0);
    expect(measurements.every((m) => m.outcome === 'inconclusive')).toBe(true);
    for (const m of measurements) {
      // The rollout finished (the API server says so); only the metrics are missing.
      expect(m.checks.find((c) => c.name === 'rollout-complete')?.outcome).toBe('success');
      for (const check of m.checks.filter((c) => c.name !== 'rollout-complete')) expect(check, JSON.stringify(check)).toMatchObject({ outcome: 'inconclusive', value: null });
    }
    const after = await h.deployment('profile');
    expect(after.metadata.uid).toBe(uid);
    expect(memoryOf(after)).toBe('1536Mi');
    expect(after.metadata.annotations?.[ANNOTATIONS.remediationId]).toBe(`${handle.workflowId}-a1`);

    const { states, kinds, one } = await trailOf(incidentId);
    expect(states).toEqual(['DIAGNOSING', 'PLANNING', 'DRY_RUNNING', 'POLICY_CHECK', 'APPLYING', 'VERIFYING', 'ESCALATED']);
    expect(one('verification.completed').payload).toMatchObject({ verdict: 'inconclusive' });
    one('action.applied');
    expect(kinds).not.toContain('action.reverted');
    expect(kinds).not.toContain('compensation.failed');
    await expectChainIntact();
    await remove('profile');
  });
});
