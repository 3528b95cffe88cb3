import type { Action } from '@cortexops/contracts';

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
