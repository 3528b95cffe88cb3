import type { Action, PolicyInput } from '@cortexops/contracts';

/** A Wednesday morning in staging: allowed without approval by the default data. */
export const BASE_INPUT: PolicyInput = {
  incidentId: 'inc-1',
  cluster: 'local',
  environment: 'staging',
  action: { type: 'scale', kind: 'Deployment', namespace: 'shop', name: 'checkout', replicas: 4 },
  risk: 'low',
  dryRun: { ok: true },
  counts: { targetActionsLastHour: 0, clusterActionsLastHour: 0, consecutiveFailures: 0 },
  now: '2026-11-18T10:00:00Z',
};

export interface DecisionCase {
  readonly name: string;
  readonly input: PolicyInput;
  readonly allow: boolean;
  readonly requireApproval: boolean;
  /** Codes (the text before ": ") expected among the violations and reasons, in order. */
  readonly violations: readonly string[];
  readonly reasons: readonly string[];
}

const withInput = (changes: Partial<PolicyInput>): PolicyInput => ({ ...BASE_INPUT, ...changes });
const withAction = (action: Action, changes: Partial<PolicyInput> = {}): PolicyInput => withInput({ ...changes, action });
const counts = (targetActionsLastHour: number, clusterActionsLastHour: number, consecutiveFailures: number) =>
  withInput({ counts: { targetActionsLastHour, clusterActionsLastHour, consecutiveFailures } });
const allowed = (name: string, input: PolicyInput, reasons: string[] = []): DecisionCase => ({
  name,
  input,
  allow: true,
  requireApproval: reasons.length > 0,
  violations: [],
  reasons,
});
const denied = (name: string, input: PolicyInput, violations: string[], reasons: string[] = []): DecisionCase => ({
  name,
  input,
  allow: false,
  requireApproval: false,
  violations,
  reasons,
});

/** One row per rule of the policy (and a few of their edges), against the default data.json. */
export const DECISION_CASES: readonly DecisionCase[] = [
  allowed('plain scale in staging', BASE_INPUT),
  allowed('cluster-scoped uncordon in development', withAction({ type: 'uncordon-node', kind: 'Node', name: 'node-1' }, { environment: 'development' })),
  allowed('memory quantity with a leading zero', withAction({ type: 'raise-memory-limit', kind: 'Deployment', namespace: 'shop', name: 'checkout', container: 'app', memory: '0512Mi' })),
  allowed('production low risk just before the weekend freeze (offset +02:00)', withInput({ environment: 'production', now: '2026-11-20T19:59:59+02:00' })),
  denied('dry-run failed', withInput({ dryRun: { ok: false, error: 'admission webhook "quota" denied the request' } }), ['dry-run-failed']),
  denied('protected namespace', withAction({ type: 'delete-pod', kind: 'Pod', namespace: 'kube-system', name: 'coredns-5d78c9869d-abcde' }), ['protected-namespace']),
  denied('action not allowed in production', withAction({ type: 'cordon-node', kind: 'Node', name: 'node-1' }, { environment: 'production' }), ['action-not-allowed']),
  denied('unknown environment falls back to the default list', withInput({ environment: 'qa-7' }), ['action-not-allowed']),
  denied('action not allowed in namespace payments', withAction({ type: 'delete-pod', kind: 'Pod', namespace: 'payments', name: 'ledger-0' }), ['action-not-allowed']),
  denied('too many replicas', withAction({ type: 'scale', kind: 'Deployment', namespace: 'shop', name: 'checkout', replicas: 51 }), ['replicas-above-maximum']),
  denied('too much memory', withAction({ type: 'raise-memory-limit', kind: 'Deployment', namespace: 'shop', name: 'checkout', container: 'app', memory: '32Gi' }), ['memory-above-maximum']),
  denied('absolute freeze window', withInput({ environment: 'production', now: '2026-11-27T12:00:00Z' }), ['change-freeze']),
  denied('weekly freeze, Saturday', withInput({ environment: 'production', now: '2026-11-21T09:30:00.250Z' }), ['change-freeze']),
  denied('rate limit per target', counts(3, 3, 0), ['rate-limit-target']),
  denied('rate limit per cluster', counts(0, 20, 0), ['rate-limit-cluster']),
  denied('circuit breaker after consecutive failures', counts(0, 0, 3), ['circuit-open']),
  allowed('high risk needs approval', withInput({ risk: 'high' }), ['risk-requires-approval']),
  allowed('production above low risk needs approval', withInput({ environment: 'production', risk: 'medium' }), ['production-requires-approval']),
  allowed('StatefulSet restart needs approval', withAction({ type: 'rollout-restart', kind: 'StatefulSet', namespace: 'shop', name: 'queue' }), ['stateful-workload']),
  allowed('database pod needs approval', withAction({ type: 'delete-pod', kind: 'Pod', namespace: 'shop', name: 'orders-postgres-0' }), ['database-target']),
  allowed('scale to zero needs approval', withAction({ type: 'scale', kind: 'Deployment', namespace: 'shop', name: 'checkout', replicas: 0 }), ['scale-to-zero']),
  denied(
    'everything wrong at once: no approval is asked for a denial',
    withAction(
      { type: 'rollout-restart', kind: 'StatefulSet', namespace: 'shop', name: 'orders-db' },
      {
        environment: 'production',
        risk: 'critical',
        now: '2026-11-22T12:00:00Z',
        dryRun: { ok: false },
        counts: { targetActionsLastHour: 5, clusterActionsLastHour: 25, consecutiveFailures: 4 },
      },
    ),
    ['change-freeze', 'circuit-open', 'dry-run-failed', 'rate-limit-cluster', 'rate-limit-target'],
    ['database-target', 'production-requires-approval', 'risk-requires-approval', 'stateful-workload'],
  ),
];
