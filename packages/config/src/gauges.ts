import { intVar } from './env.js';

/** The api's periodic check of the audit hash chain (`cortexops_audit_chain_valid`). */
export const auditChainWatchSpec = {
  auditChainCheckIntervalMs: intVar('CORTEXOPS_AUDIT_CHAIN_CHECK_INTERVAL_MS', 30_000, 1000, 3_600_000, 'how often the api checks the audit rows appended since its last check (and the signed checkpoint, when configured)'),
  auditChainFullCheckIntervalMs: intVar(
    'CORTEXOPS_AUDIT_CHAIN_FULL_CHECK_INTERVAL_MS',
    3_600_000,
    1000,
    86_400_000,
    'how often the api walks the whole audit chain again (a row changed before its last check, hashes not recomputed, is seen then)',
  ),
} as const;

/** The worker's gauges of the running remediation workflows (`cortexops_workflows_open` and the state age and visits). */
export const workflowGaugesSpec = {
  workflowGaugesIntervalMs: intVar('CORTEXOPS_WORKFLOW_GAUGES_INTERVAL_MS', 15_000, 1000, 600_000, 'how often the worker lists the running remediation workflows for its state gauges'),
  workflowGaugesMaxWorkflows: intVar(
    'CORTEXOPS_WORKFLOW_GAUGES_MAX_WORKFLOWS',
    5000,
    1,
    100_000,
    'running remediation workflows listed per interval at most; beyond it they are counted in cortexops_workflows_uninspected only',
  ),
  workflowGaugesMaxQueries: intVar(
    'CORTEXOPS_WORKFLOW_GAUGES_MAX_QUERIES',
    100,
    1,
    10_000,
    'workflows whose state history is queried per interval at most (those that moved first, then the least recently read)',
  ),
} as const;
