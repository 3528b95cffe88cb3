import { createHash } from 'node:crypto';
import { canonicalJson } from '@cortexops/audit';
import type { DryRunReport } from '@cortexops/contracts';
import { RESTARTED_AT_ANNOTATION } from '@cortexops/k8s';

/**
 * A rollout restart stamps the time into the pod template, so two dry runs of the same plan differ in that one value;
 * it is not part of what a person approves.
 */
const VOLATILE_LINE = new RegExp(`^([-+ ]\\s*${RESTARTED_AT_ANNOTATION.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:).*$`, 'gm');

export function stableDiff(diff: string): string {
  return diff.replace(VOLATILE_LINE, '$1 <time of apply>');
}

/** SHA-256 over the canonical JSON of each action, its target's uid and its dry-run diff: what an approval is bound to. */
export function planHashOf(actions: readonly Pick<DryRunReport['actions'][number], 'action' | 'targetUid' | 'diff'>[]): string {
  const bound = actions.map((a) => ({ action: a.action, targetUid: a.targetUid, diff: stableDiff(a.diff) }));
  return createHash('sha256').update(canonicalJson(bound)).digest('hex');
}
