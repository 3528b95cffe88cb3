import type { Action, ActionType, RiskLevel, WorkloadKind } from '@cortexops/contracts';

const RISK_ORDER: readonly RiskLevel[] = ['low', 'medium', 'high', 'critical'];

/**
 * The least risk each action of the catalogue carries, by the kind it writes. The planner's plans carry exactly this;
 * the guard refuses any plan (an LLM's included) that claims less, because the policy asks for approval by risk.
 */
export const ACTION_RISK: { readonly [T in ActionType]: Readonly<Partial<Record<WorkloadKind, RiskLevel>>> } = {
  'rollout-restart': { Deployment: 'low', StatefulSet: 'medium' },
  'raise-memory-limit': { Deployment: 'low', StatefulSet: 'medium' },
  rollback: { Deployment: 'medium' },
  scale: { Deployment: 'medium', StatefulSet: 'high' },
  'delete-pod': { Pod: 'low' },
  'cordon-node': { Node: 'high' },
  'uncordon-node': { Node: 'high' },
};

/** The risk floor of one action; `critical` for a combination the table does not know (fails closed). */
export function riskOf(action: Pick<Action, 'type' | 'kind'>): RiskLevel {
  const byKind: Readonly<Partial<Record<WorkloadKind, RiskLevel>>> = ACTION_RISK[action.type];
  return byKind[action.kind] ?? 'critical';
}

export function riskRank(level: RiskLevel): number {
  return RISK_ORDER.indexOf(level);
}

/** The highest of the levels; `low` for none. */
export function maxRisk(levels: readonly RiskLevel[]): RiskLevel {
  return levels.reduce<RiskLevel>((max, level) => (riskRank(level) > riskRank(max) ? level : max), 'low');
}
