/**
 * Gauges that say how the running remediations and the audit chain stand now (the alert rules and dashboards in
 * `deploy/` read them). Computed on a timer by the service that owns them, never per scrape.
 */
export const OPERATIONS_METRICS = {
  /** Worker: running remediation workflows by their current state (`CortexopsState`), 0 for a state with none. */
  workflowsOpen: 'cortexops_workflows_open',
  /** Worker: per non-terminal state, how long the longest-waiting running workflow has been in it (0 when none). */
  workflowStateAgeSeconds: 'cortexops_workflow_state_age_seconds',
  /** Worker: per non-terminal state, the most times any running workflow has entered it. */
  workflowStateVisits: 'cortexops_workflow_state_visits',
  /** Worker: running workflows the gauges above could not read (beyond the list bound, or their state not queried yet). */
  workflowsUninspected: 'cortexops_workflows_uninspected',
  /** Api: 1 when the last check of the audit hash chain (and the signed checkpoint, when configured) passed, 0 when not. */
  auditChainValid: 'cortexops_audit_chain_valid',
  /** Api: the last row of the audit chain that was checked and found intact. */
  auditChainVerifiedSequence: 'cortexops_audit_chain_verified_sequence',
  /** Api: seconds the last check of the audit chain took, by kind (`incremental`, `full`). */
  auditChainCheckSeconds: 'cortexops_audit_chain_check_seconds',
} as const;
