import type { Action, OperatingMode, PolicyInput } from '@cortexops/contracts';

/** A Wednesday morning in staging, in the demo namespace (enrolled in auto mode by TEST_MODES): allowed without approval. */
export const BASE_INPUT: PolicyInput = {
  incidentId: 'inc-1',
  cluster: 'local',
  environment: 'staging',
  action: { type: 'scale', kind: 'Deployment', namespace: 'demo', name: 'checkout', replicas: 4 },
  risk: 'low',
  dryRun: { ok: true },
  counts: { targetActionsLastHour: 0, clusterActionsLastHour: 0, consecutiveFailures: 0 },
  now: '2026-11-18T10:00:00Z',
};

export interface DecisionCase {
  readonly name: string;
  readonly input: PolicyInput;
  /** The data's `modes` setting for this case instead of TEST_MODES (the rest of data.json stays). */
  readonly modes?: Record<string, unknown>;
  readonly allow: boolean;
  readonly mode: OperatingMode;
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
  mode: 'auto',
  requireApproval: reasons.length > 0,
  violations: [],
  reasons,
});
const denied = (name: string, input: PolicyInput, violations: string[], reasons: string[] = []): DecisionCase => ({
  name,
  input,
  allow: false,
  mode: 'auto',
  requireApproval: false,
  violations,
  reasons,
});

/** The same case in observe mode: nothing applied, the same would-be outcome, and the reason observe-mode. */
const observed = (c: DecisionCase): DecisionCase => ({ ...c, mode: 'observe', reasons: [...c.reasons, 'observe-mode'].sort() });
/** The same case under other `modes` data. */
const withModes = (modes: Record<string, unknown>, c: DecisionCase, mode: OperatingMode = c.mode): DecisionCase => ({ ...c, modes, mode });
/** The tests' `modes`: data.json's (which enrols no namespace) with the demo namespace enrolled as auto, as the local stack does. */
export const TEST_MODES = { killSwitch: false, default: 'observe', clusterScoped: 'observe', namespaces: { demo: 'auto' } };
const MODES = TEST_MODES;
const inShop = (changes: Partial<PolicyInput> = {}) => withAction({ type: 'scale', kind: 'Deployment', namespace: 'shop', name: 'checkout', replicas: 4 }, changes);
const cordonInDevelopment = withAction({ type: 'cordon-node', kind: 'Node', name: 'node-1' }, { environment: 'development' });

/** One row per rule of the policy (and a few of their edges), against data.json with TEST_MODES unless a case names its own. */
export const DECISION_CASES: readonly DecisionCase[] = [
  allowed('plain scale in staging', BASE_INPUT),
  observed(allowed('cluster-scoped uncordon in development', withAction({ type: 'uncordon-node', kind: 'Node', name: 'node-1' }, { environment: 'development' }))),
  allowed('memory quantity with a leading zero', withAction({ type: 'raise-memory-limit', kind: 'Deployment', namespace: 'demo', name: 'checkout', container: 'app', memory: '0512Mi' })),
  allowed('production low risk just before the weekend freeze (offset +02:00)', withInput({ environment: 'production', now: '2026-11-20T19:59:59+02:00' })),
  denied('dry-run failed', withInput({ dryRun: { ok: false, error: 'admission webhook "quota" denied the request' } }), ['dry-run-failed']),
  observed(denied('protected namespace', withAction({ type: 'delete-pod', kind: 'Pod', namespace: 'kube-system', name: 'coredns-5d78c9869d-abcde' }), ['protected-namespace'])),
  observed(denied('action not allowed in production', withAction({ type: 'cordon-node', kind: 'Node', name: 'node-1' }, { environment: 'production' }), ['action-not-allowed'])),
  denied('unknown environment falls back to the default list', withInput({ environment: 'qa-7' }), ['action-not-allowed']),
  observed(denied('action not allowed in namespace payments', withAction({ type: 'delete-pod', kind: 'Pod', namespace: 'payments', name: 'ledger-0' }), ['action-not-allowed'])),
  denied('too many replicas', withAction({ type: 'scale', kind: 'Deployment', namespace: 'demo', name: 'checkout', replicas: 51 }), ['replicas-above-maximum']),
  denied('too much memory', withAction({ type: 'raise-memory-limit', kind: 'Deployment', namespace: 'demo', name: 'checkout', container: 'app', memory: '32Gi' }), ['memory-above-maximum']),
  denied('absolute freeze window', withInput({ environment: 'production', now: '2026-11-27T12:00:00Z' }), ['change-freeze']),
  denied('weekly freeze, Saturday', withInput({ environment: 'production', now: '2026-11-21T09:30:00.250Z' }), ['change-freeze']),
  denied('rate limit per target', counts(3, 3, 0), ['rate-limit-target']),
  denied('rate limit per cluster', counts(0, 20, 0), ['rate-limit-cluster']),
  denied('circuit breaker after consecutive failures', counts(0, 0, 3), ['circuit-open']),
  allowed('high risk needs approval', withInput({ risk: 'high' }), ['risk-requires-approval']),
  allowed('production above low risk needs approval', withInput({ environment: 'production', risk: 'medium' }), ['production-requires-approval']),
  allowed('StatefulSet restart needs approval', withAction({ type: 'rollout-restart', kind: 'StatefulSet', namespace: 'demo', name: 'queue' }), ['stateful-workload']),
  allowed('database pod needs approval', withAction({ type: 'delete-pod', kind: 'Pod', namespace: 'demo', name: 'orders-postgres-0' }), ['database-target']),
  allowed('scale to zero needs approval', withAction({ type: 'scale', kind: 'Deployment', namespace: 'demo', name: 'checkout', replicas: 0 }), ['scale-to-zero']),
  denied(
    'everything wrong at once: no approval is asked for a denial',
    withAction(
      { type: 'rollout-restart', kind: 'StatefulSet', namespace: 'demo', name: 'orders-db' },
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
  // Operating modes.
  observed(allowed('observe: a namespace nobody enrolled, would have been applied', inShop())),
  observed(allowed('observe: would have asked for an approval', inShop({ risk: 'high' }), ['risk-requires-approval'])),
  observed(denied('observe: would have been denied', inShop({ dryRun: { ok: false } }), ['dry-run-failed'])),
  withModes({ ...MODES, namespaces: { demo: 'approve' } }, allowed('approve: an allowed change waits for a human', BASE_INPUT, ['approve-mode']), 'approve'),
  withModes({ ...MODES, namespaces: { demo: 'approve' } }, denied('approve: a denial stays a denial', counts(0, 0, 3), ['circuit-open'], ['approve-mode']), 'approve'),
  withModes({ ...MODES, default: 'approve' }, allowed('approve: as the default for namespaces nobody enrolled', inShop(), ['approve-mode']), 'approve'),
  withModes({ ...MODES, clusterScoped: 'auto' }, allowed('auto: cluster-scoped actions by their own setting', cordonInDevelopment)),
  withModes({ ...MODES, killSwitch: true, default: 'auto', clusterScoped: 'auto' }, observed(allowed('kill switch: an auto namespace observes', BASE_INPUT))),
  withModes({ ...MODES, killSwitch: true, clusterScoped: 'auto' }, observed(allowed('kill switch: cluster-scoped actions observe', cordonInDevelopment))),
  withModes(
    { ...MODES, killSwitch: true, namespaces: { demo: 'approve' } },
    observed(allowed('kill switch: an approve namespace observes, would have asked', BASE_INPUT, ['approve-mode'])),
  ),
  withModes({ ...MODES, killSwitch: 'off' }, observed(denied('bad mode data: denied, naming the setting', BASE_INPUT, ['policy-data-invalid']))),
  withModes({ ...MODES, namespaces: { demo: 'automatic' } }, observed(denied('bad namespace mode: denied, naming the namespace', BASE_INPUT, ['policy-data-invalid']))),
];
