/**
 * Metrics that dashboards and alert rules query but that the services do not yet give a series from the start.
 * The query test lets a selector on one of these return nothing (and, for `undeclared`, lets the name be absent
 * from every scrape); every other selector must return series, and every other panel must draw something.
 * Each entry says what the owning service must do to leave this list.
 */
export interface MetricGap {
  readonly service: 'ingestion' | 'correlator' | 'worker' | 'approvals' | 'api';
  /** `uninitialised`: declared, but its labelled series appear only after a first increment. `undeclared`: no service exposes it yet. */
  readonly kind: 'uninitialised' | 'undeclared';
  readonly needs: string;
}

export const METRIC_GAPS: Readonly<Record<string, MetricGap>> = {
  cortexops_workflows_open: {
    service: 'worker',
    kind: 'undeclared',
    needs: 'gauge {state}: running remediation workflows by CortexopsState (Temporal visibility count per non-terminal state; 0 for a state with none)',
  },
  cortexops_workflow_state_age_seconds: {
    service: 'worker',
    kind: 'undeclared',
    needs: 'gauge {state}: how long the longest-waiting running workflow has been in its current state, per non-terminal state (0 when none); the APPROVAL_PENDING one feeds CortexOpsApprovalStuck',
  },
  cortexops_workflow_state_visits: {
    service: 'worker',
    kind: 'undeclared',
    needs: 'gauge {state}: the most times any running workflow has entered the state (from its remediationState history); the DRY_RUNNING one feeds CortexOpsDryRunLooping',
  },
  cortexops_audit_chain_valid: {
    service: 'api',
    kind: 'undeclared',
    needs: "gauge: 1 when the last periodic verification of the audit hash chain succeeded, 0 when it found a bad record (the api's audit verify, on a timer)",
  },
};
