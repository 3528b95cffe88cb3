import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { Action, Incident, RiskLevel, SearchAttributeName, WorkflowState } from '@cortexops/contracts';

const keyword = (name: SearchAttributeName) => defineSearchAttributeKey(name, SearchAttributeType.KEYWORD);
const KEYS = {
  incidentId: keyword('CortexopsIncidentId'),
  state: keyword('CortexopsState'),
  target: keyword('CortexopsTarget'),
  namespace: keyword('CortexopsNamespace'),
  risk: keyword('CortexopsRisk'),
} as const;

/** `Deployment demo/checkout`, `Node kwok-node-1`: how targets read in the Temporal UI and in list queries. */
export function targetLabel(target: Incident['target']): string {
  return `${target.kind} ${target.namespace === undefined ? '' : `${target.namespace}/`}${target.name}`;
}

/** The object an action writes, labelled like a target (audit payloads name targets this way). */
export function actionLabel(action: Action): string {
  return targetLabel({ kind: action.kind, ...('namespace' in action ? { namespace: action.namespace } : {}), name: action.name });
}

/**
 * Makes the workflow findable by state, target, namespace, risk and incident in the Temporal UI and with
 * `temporal workflow list --query "CortexopsState = 'APPROVAL_PENDING'"`. Upserted on every transition.
 */
export function publishSearchAttributes(incident: Incident, state: WorkflowState, risk: RiskLevel | undefined): void {
  upsertSearchAttributes([
    { key: KEYS.incidentId, value: incident.id },
    { key: KEYS.state, value: state },
    { key: KEYS.target, value: targetLabel(incident.target) },
    { key: KEYS.namespace, value: incident.target.namespace ?? '_cluster' },
    { key: KEYS.risk, value: risk ?? 'unknown' },
  ]);
}
