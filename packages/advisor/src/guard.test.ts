import type { Action, Diagnosis, Incident, RemediationPlan } from '@cortexops/contracts';
import { renderPromql } from '@cortexops/prometheus';
import { describe, expect, it } from 'vitest';
import { BOUNDS, CHECKOUT, diagnosis, incident, LEDGER, live, NODE, NOW, POD } from './fixtures.js';
import { checkPlanAgainstIncident, PLAN_PROBLEM_CODES, type GuardContext, type PlanProblemCode } from './guard.js';

const workloadChecks = (target = CHECKOUT) => [
  { type: 'rollout', name: 'rollout-complete' },
  { type: 'promql', name: 'available-ratio', template: 'workload-available-ratio', query: renderPromql('workload-available-ratio', target), successCondition: { op: '>=', threshold: 1 } },
];
const nodeChecks = [{ type: 'promql', name: 'node-ready', template: 'node-ready', query: renderPromql('node-ready', NODE), successCondition: { op: '>=', threshold: 1 } }];

/** A plan as an LLM or a person might send it: any shape, checked by the guard. */
function plan(actions: readonly unknown[], overrides: Record<string, unknown> = {}, checks: readonly unknown[] = workloadChecks()): Record<string, unknown> {
  return {
    incidentId: 'inc-0123456789abcdef',
    actions,
    rationale: 'proposed',
    source: 'llm',
    risk: 'high',
    ...(actions.length > 0 ? { verification: { checks, stabilisationMs: 60_000, intervalMs: 30_000, count: 5, minSamples: 3 } } : {}),
    createdAt: NOW,
    ...overrides,
  };
}

const restart = (target = CHECKOUT): Action => ({ type: 'rollout-restart', kind: target.kind, namespace: target.namespace, name: target.name }) as Action;
const memory = (value: string, container = 'app', target = CHECKOUT): Action =>
  ({ type: 'raise-memory-limit', kind: target.kind, namespace: target.namespace, name: target.name, container, memory: value }) as Action;
const cordon: Action = { type: 'cordon-node', kind: 'Node', name: 'node-1' };

interface Case {
  readonly name: string;
  readonly plan: unknown;
  readonly incident?: Partial<Incident>;
  readonly diagnosis?: Partial<Diagnosis> | null;
  /** The codes of the problems expected, in order; [] for a plan that passes. */
  readonly problems: readonly PlanProblemCode[];
  readonly says?: string;
}

const { invalid, otherIncident, targetNotAllowed, outOfBounds, riskUnderstated, verificationMismatch } = PLAN_PROBLEM_CODES;
const podIncident = { target: POD };

const CASES: readonly Case[] = [
  { name: 'a restart of the incident\'s Deployment', plan: plan([restart()]), problems: [] },
  { name: 'no action (escalate) needs no verification', plan: plan([], { risk: 'low' }), problems: [] },
  { name: 'a memory raise above the live limit, within bounds', plan: plan([memory('512Mi')]), problems: [] },
  { name: 'a cordon of the incident\'s node', plan: plan([cordon], {}, nodeChecks), incident: { target: NODE }, diagnosis: { target: NODE }, problems: [] },
  // Not a plan of the catalogue.
  { name: 'an action outside the catalogue', plan: plan([{ type: 'exec', kind: 'Pod', namespace: 'shop', name: 'x', command: 'rm -rf /' }]), problems: [invalid] },
  { name: 'a name with odd characters', plan: plan([{ ...restart(), name: 'checkout;kubectl delete ns shop' }]), problems: [invalid], says: 'actions[0].name' },
  { name: 'a namespace with a newline', plan: plan([{ ...restart(), namespace: 'shop\nkube-system' }]), problems: [invalid] },
  { name: 'a container name with a quote', plan: plan([memory('512Mi', 'app"')]), problems: [invalid] },
  { name: 'a memory that is not a quantity', plan: plan([memory('lots')]), problems: [invalid] },
  { name: 'a rollback of a StatefulSet (not in the catalogue)', plan: plan([{ type: 'rollback', kind: 'StatefulSet', namespace: 'shop', name: 'ledger' }]), problems: [invalid] },
  { name: 'an action without verification', plan: plan([restart()], { verification: undefined }), problems: [invalid], says: 'verification' },
  { name: 'more than five actions', plan: plan(Array.from({ length: 6 }, () => restart())), problems: [invalid] },
  { name: 'not an object at all', plan: 'restart everything', problems: [invalid] },
  { name: 'an unknown source', plan: plan([restart()], { source: 'oracle' }), problems: [invalid] },
  // Another incident, another target.
  { name: 'a plan of another incident', plan: plan([restart()], { incidentId: 'inc-other' }), problems: [otherIncident] },
  { name: 'a restart of another Deployment', plan: plan([restart({ ...CHECKOUT, name: 'payments' })], {}, workloadChecks({ ...CHECKOUT, name: 'payments' })), problems: [targetNotAllowed], says: 'Deployment shop/payments' },
  { name: 'the same name in another namespace', plan: plan([restart({ ...CHECKOUT, namespace: 'kube-system' })], {}, workloadChecks({ ...CHECKOUT, namespace: 'kube-system' })), problems: [targetNotAllowed] },
  { name: 'a cordon of a node the incident does not name', plan: plan([cordon], {}, nodeChecks), problems: [targetNotAllowed] },
  { name: 'a second action on another object', plan: plan([restart(), restart(LEDGER)]), problems: [targetNotAllowed] },
  // Pod incidents: the pod itself, or its owner as the diagnosis or root cause names it.
  { name: 'delete the incident\'s own pod', plan: plan([{ type: 'delete-pod', kind: 'Pod', namespace: 'shop', name: POD.name }], { risk: 'low' }, [{ type: 'rollout', name: 'r' }]), incident: podIncident, problems: [verificationMismatch] },
  { name: 'restart the pod\'s owner named by the diagnosis', plan: plan([restart()]), incident: podIncident, problems: [] },
  { name: 'restart the pod\'s owner named by the root cause', plan: plan([restart()]), incident: { ...podIncident, rootCause: CHECKOUT }, diagnosis: null, problems: [] },
  { name: 'restart an owner nobody named', plan: plan([restart()]), incident: podIncident, diagnosis: null, problems: [targetNotAllowed] },
  { name: 'an owner named in another namespace', plan: plan([restart()]), incident: { target: { ...POD, namespace: 'other' } }, problems: [targetNotAllowed] },
  // Bounds.
  { name: 'memory above the maximum', plan: plan([memory('8Gi')]), problems: [outOfBounds], says: 'above the maximum of 4Gi' },
  { name: 'memory not above the live limit', plan: plan([memory('256Mi')]), problems: [outOfBounds], says: 'not above the current limit 256Mi' },
  { name: 'memory below the live limit', plan: plan([memory('128Mi')]), problems: [outOfBounds] },
  { name: 'a container the live object does not have', plan: plan([memory('512Mi', 'sidecar')]), problems: [outOfBounds], says: 'not a container' },
  { name: 'a container without a limit to raise', plan: plan([memory('512Mi')]), diagnosis: { live: live({ containers: [{ name: 'app' }] }) }, problems: [outOfBounds] },
  { name: 'without a diagnosis, only the maximum is checked', plan: plan([memory('128Mi')]), diagnosis: null, problems: [] },
  { name: 'replicas above the maximum', plan: plan([{ type: 'scale', kind: 'Deployment', namespace: 'shop', name: 'checkout', replicas: 50 }]), problems: [outOfBounds], says: '[1, 20]' },
  { name: 'scale to zero below the minimum', plan: plan([{ type: 'scale', kind: 'Deployment', namespace: 'shop', name: 'checkout', replicas: 0 }]), problems: [outOfBounds] },
  { name: 'replicas within bounds', plan: plan([{ type: 'scale', kind: 'Deployment', namespace: 'shop', name: 'checkout', replicas: 5 }], { risk: 'medium' }), problems: [] },
  // Risk.
  { name: 'a cordon claimed low risk', plan: plan([cordon], { risk: 'low' }, nodeChecks), incident: { target: NODE }, diagnosis: { target: NODE }, problems: [riskUnderstated], says: 'below high' },
  { name: 'a StatefulSet restart claimed low risk', plan: plan([restart(LEDGER)], { risk: 'low' }, workloadChecks(LEDGER)), incident: { target: LEDGER }, diagnosis: { target: LEDGER }, problems: [riskUnderstated] },
  { name: 'a Deployment restart at low risk', plan: plan([restart()], { risk: 'low' }), problems: [] },
  { name: 'more risk than needed is fine', plan: plan([restart()], { risk: 'critical' }), problems: [] },
  // Verification.
  { name: 'a query that is not the safe builder\'s', plan: plan([restart()], {}, [{ ...workloadChecks()[1], query: 'vector(1)' }]), problems: [verificationMismatch], says: 'checks[0].query' },
  { name: 'a query of another Deployment', plan: plan([restart()], {}, [workloadChecks({ ...CHECKOUT, name: 'payments' })[1]]), problems: [verificationMismatch] },
  { name: 'a query with an injected matcher', plan: plan([restart()], {}, [{ ...workloadChecks()[1], query: `${renderPromql('workload-available-ratio', CHECKOUT)} or vector(1)` }]), problems: [verificationMismatch] },
  { name: 'a node template for a Deployment', plan: plan([restart()], {}, [{ ...nodeChecks[0], query: 'x' }]), problems: [verificationMismatch], says: 'does not apply' },
  { name: 'a rollout check for a node', plan: plan([cordon], {}, [{ type: 'rollout', name: 'rollout-complete' }]), incident: { target: NODE }, diagnosis: { target: NODE }, problems: [verificationMismatch] },
  { name: 'a template outside the list', plan: plan([restart()], {}, [{ ...workloadChecks()[1], template: 'cpu-usage' }]), problems: [invalid] },
];

describe('guard — checkPlanAgainstIncident', () => {
  it.each(CASES)('$name', (c) => {
    const context: GuardContext = { bounds: BOUNDS, ...(c.diagnosis === null ? {} : { diagnosis: diagnosis(c.diagnosis) }) };
    const problems = checkPlanAgainstIncident(c.plan, incident(c.incident), context);
    expect(problems.map((p) => p.code)).toEqual(c.problems);
    if (c.says !== undefined) expect(problems.map((p) => p.message).join('\n')).toContain(c.says);
  });

  it('reports every problem of a plan, not only the first', () => {
    const bad = plan([memory('8Gi', 'app', { ...CHECKOUT, name: 'payments' })], { incidentId: 'inc-other', risk: 'low' }, [{ ...workloadChecks()[1], query: 'up' }]);
    const codes = checkPlanAgainstIncident(bad, incident(), { bounds: BOUNDS, diagnosis: diagnosis() }).map((p) => p.code);
    expect(codes).toEqual([otherIncident, targetNotAllowed, outOfBounds, verificationMismatch]);
  });

  it('accepts a plan already parsed (defaults filled) the same as one from JSON', () => {
    const raw = plan([restart()]);
    const fromJson = JSON.parse(JSON.stringify(raw)) as RemediationPlan;
    expect(checkPlanAgainstIncident(fromJson, incident(), { bounds: BOUNDS })).toEqual([]);
  });
});
