import type { Action, RemediationPlan } from '@cortexops/contracts';

/** How many hex digits of a plan hash people are shown (and may pin with `--plan-hash`, 8 at least). */
export const PLAN_HASH_SHOWN = 12;

export function shortHash(planHash: string): string {
  return planHash.slice(0, PLAN_HASH_SHOWN);
}

/** `Deployment demo/web`, `Node worker-1`. */
export function actionTarget(action: Action): string {
  return 'namespace' in action ? `${action.kind} ${action.namespace}/${action.name}` : `${action.kind} ${action.name}`;
}

/** What the action's parameters are, in words (empty when it has none). */
export function actionDetail(action: Action): string {
  if (action.type === 'scale') return ` to ${action.replicas} replicas`;
  if (action.type === 'raise-memory-limit') return ` (${action.container} → ${action.memory})`;
  return '';
}

/** Where a plan came from, in words: `the LLM advisor (llm:gpt-4o-mini)`, `the heuristics (rule oom-killed)`. */
export function planOrigin(plan: Pick<RemediationPlan, 'source' | 'rule'>): string {
  const who = plan.source === 'llm' ? 'the LLM advisor' : plan.source === 'heuristic' ? 'the heuristics' : 'a person';
  if (plan.rule === undefined) return who;
  return plan.source === 'heuristic' ? `${who} (rule ${plan.rule})` : `${who} (${plan.rule})`;
}

/**
 * How the plan's action fared on similar past incidents (incident memory): `3 of 4 resolved on past oom-killed
 * incidents`; undefined when the plan has no action or no record was read.
 */
export function trackRecordText(plan: Pick<RemediationPlan, 'actions' | 'trackRecord'>): string | undefined {
  const action = plan.actions[0];
  const record = plan.trackRecord;
  if (action === undefined || record === undefined) return undefined;
  if (record.total === 0) return `${action.type} has no record on past ${record.incidentKind} incidents yet`;
  return `${action.type}: ${record.resolved} of ${record.total} resolved on past ${record.incidentKind} incidents`;
}
