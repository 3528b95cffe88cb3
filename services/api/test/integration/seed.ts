import type { AuditStore } from '@cortexops/audit';
import {
  type Action,
  type AuditEvent,
  type Diagnosis,
  type DryRunReport,
  type Incident,
  incidentWorkflowId,
  type Measurement,
  type PolicyVerdict,
  type RemediationPlan,
  type WorkflowState,
} from '@cortexops/contracts';
import { fixtureIncident } from '@cortexops/testkit';

const PLAN_HASH = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

const at = (base: number, offsetMs: number) => new Date(base + offsetMs).toISOString();

export interface SeededIncident {
  readonly incident: Incident;
  readonly events: number;
}

/**
 * An incident and its audit trail exactly as the worker and the approvals service write them: diagnosis, plan, dry
 * run, policy (approval required), approval requested and decided, the apply and its receipt, two verification rounds,
 * then `RESOLVED` (or stopped at `stopAt`).
 */
export async function seedRemediation(
  store: AuditStore,
  options: { readonly prefix: string; readonly openedAt: string; readonly namespace?: string; readonly name?: string; readonly stopAt?: WorkflowState; readonly diff?: string },
): Promise<SeededIncident> {
  const base = Date.parse(options.openedAt);
  const target = { kind: 'Deployment' as const, namespace: options.namespace ?? 'demo', name: options.name ?? 'checkout' };
  const incident = fixtureIncident(options.prefix, { target, openedAt: options.openedAt, updatedAt: options.openedAt, title: `${target.name} OOMKilled`, signalIds: ['sig-a', 'sig-b'] });
  const workflowId = incidentWorkflowId(incident.id);
  await store.upsertIncident(incident);
  const action: Action = { type: 'raise-memory-limit', kind: 'Deployment', namespace: target.namespace, name: target.name, container: 'app', memory: '384Mi' };
  const diagnosis: Diagnosis = {
    target,
    live: { uid: 'uid-1', replicas: 1, readyReplicas: 0, containers: [{ name: 'app', memoryLimit: '256Mi' }] },
    pods: [{ name: `${target.name}-abc`, phase: 'Running', ready: false, restarts: 3, lastTerminationReason: 'OOMKilled' }],
    events: [{ reason: 'OOMKilling', message: 'Memory cgroup out of memory', count: 3, object: `Pod ${target.name}-abc` }],
    metrics: [{ name: 'workload-available-ratio', query: 'q', value: 0, detail: 'measured' }],
    problems: [],
    observedAt: at(base, 200),
    // What incident memory attached: a past incident of the same kind, resolved by the same action.
    similar: [{ score: 0.91666, incident: { incidentId: `${incident.id}-past`, incidentKind: 'oom-killed', title: `${target.name} OOMKilled`, action, outcome: 'resolved', timeToResolveMs: 31_000 } }],
  };
  const plan: RemediationPlan = {
    incidentId: incident.id,
    actions: [action],
    rationale: 'container app was OOMKilled 3 times | raise its limit by half',
    source: 'heuristic',
    rule: 'oom-raise-memory',
    risk: 'low',
    verification: { checks: [{ type: 'rollout', name: 'rollout' }], stabilisationMs: 10_000, intervalMs: 5000, count: 2, failureLimit: 0, inconclusiveLimit: 0, minSamples: 2 },
    createdAt: at(base, 300),
  };
  const dryRun: DryRunReport = {
    ok: true,
    actions: [{ action, target: `Deployment ${target.namespace}/${target.name}`, targetUid: 'uid-1', diff: options.diff ?? '-          memory: 256Mi\n+          memory: 384Mi', changed: true }],
    planHash: PLAN_HASH,
  };
  const verdict: PolicyVerdict = {
    decisions: [{ allow: true, mode: 'approve', requireApproval: true, reasons: ['namespace enrolled in approve mode'], violations: [] }],
    allow: true,
    requireApproval: true,
    mode: 'approve',
    environment: 'development',
    counts: { targetActionsLastHour: 0, clusterActionsLastHour: 0, consecutiveFailures: 0 },
    bundleHash: PLAN_HASH,
    decidedAt: at(base, 500),
  };
  const measurement = (round: number): Measurement => ({ round, at: at(base, 20_000 + round * 5000), outcome: 'success', checks: [{ name: 'rollout', outcome: 'success', value: 1, detail: 'rollout complete' }] });
  const states: [WorkflowState, number][] = [
    ['DIAGNOSING', 100],
    ['PLANNING', 250],
    ['DRY_RUNNING', 350],
    ['POLICY_CHECK', 450],
    ['APPROVAL_PENDING', 600],
    ['APPLYING', 5000],
    ['VERIFYING', 5200],
    ['RESOLVED', 31_000],
  ];
  const events: AuditEvent[] = [];
  const push = (key: string, kind: AuditEvent['kind'], offset: number, payload: Record<string, unknown>, actor = 'worker') =>
    events.push({ idempotencyKey: `${workflowId}/${key}`, incidentId: incident.id, workflowId, kind, actor, occurredAt: at(base, offset), payload });
  let previous: WorkflowState | undefined;
  const stopAt = options.stopAt ?? 'RESOLVED';
  for (const [i, [state, offset]] of states.entries()) {
    push(`state/${i + 1}`, 'workflow.state', offset, { sequence: i + 1, ...(previous ? { from: previous } : {}), to: state, ...(state === 'RESOLVED' ? { detail: 'verified: 2 of 2 rounds succeeded' } : {}) });
    previous = state;
    if (state === 'DIAGNOSING') push('diagnosis', 'diagnosis.completed', 200, { diagnosis });
    if (state === 'PLANNING') push('plan', 'plan.proposed', 300, { plan });
    if (state === 'DRY_RUNNING') push('dryrun/a1b2', 'dryrun.completed', 400, { report: dryRun });
    if (state === 'POLICY_CHECK') push('policy-decision/plan/a1b2', 'policy.decision', 500, { phase: 'plan', planHash: PLAN_HASH, verdict }, 'policy');
    if (state === 'APPROVAL_PENDING') {
      push('approval/1', 'approval.requested', 650, { requestId: `${workflowId}/approval/1`, planHash: PLAN_HASH, approvalsRequired: 1, expiresAt: at(base, 900_000), posted: false });
      if (stopAt === 'APPROVAL_PENDING') break;
      push('decided/1', 'approval.decided', 4900, { requestId: `${workflowId}/approval/1`, planHash: PLAN_HASH, decision: 'approve', channel: 'cli', comment: 'looks right' }, 'alice@example.com');
    }
    if (state === 'APPLYING') push(`applied/rem-${incident.id}`, 'action.applied', 5100, { remediationId: `rem-${incident.id}`, action, target: `Deployment ${target.namespace}/${target.name}` });
    if (state === 'VERIFYING') {
      for (const round of [1, 2]) push(`measured/verification/${round}`, 'verification.measured', 20_000 + round * 5000, { phase: 'verification', target: `Deployment ${target.namespace}/${target.name}`, measurement: measurement(round) });
      push('verification', 'verification.completed', 30_500, { verdict: 'success', reason: '2 of 2 rounds succeeded', rounds: 2, target: `Deployment ${target.namespace}/${target.name}` });
    }
    if (state === stopAt) break;
  }
  await store.appendMany(events);
  if (events.some((e) => e.kind === 'action.applied')) {
    await store.recordActionReceipt({ remediationId: `rem-${incident.id}`, incidentId: incident.id, workflowId, action, priorSpec: { memory: '256Mi' }, receipt: { resourceVersion: '42' }, appliedAt: at(base, 5100) });
  }
  if (stopAt === 'RESOLVED') await store.setIncidentStatus(incident.id, 'resolved', at(base, 31_000));
  return { incident: (await store.getIncident(incident.id)) ?? incident, events: events.length };
}
