import { createHash } from 'node:crypto';
import { AuditConflictError, type AuditStore } from '@cortexops/audit';
import type { Logger } from '@cortexops/observability';

/** The actor of every record of the Slack allow-list (the service's configuration, as read at start). */
export const SLACK_ALLOW_LIST_ACTOR = 'approvals:slack-allow-list';

/** What the configuration lets decide from Slack: the listed user ids and the user group's id. */
export interface SlackAllowListConfig {
  readonly users: readonly string[];
  readonly group?: string | undefined;
}

export interface SlackAllowListChange {
  readonly change: 'slack-allow-list';
  readonly users: readonly string[];
  readonly group: string | null;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly groupBefore: string | null;
  readonly digest: string;
}

const sorted = (users: readonly string[]) => [...new Set(users)].sort();

function digestOf(users: readonly string[], group: string | null): string {
  return createHash('sha256').update(JSON.stringify({ users, group })).digest('hex');
}

/** The change from what was last recorded (undefined: nothing recorded yet) to `config`; undefined when there is none (pure). */
export function allowListChange(recorded: Pick<SlackAllowListChange, 'users' | 'group'> | undefined, config: SlackAllowListConfig): SlackAllowListChange | undefined {
  const users = sorted(config.users);
  const group = config.group ?? null;
  const before = recorded?.users ?? [];
  const groupBefore = recorded?.group ?? null;
  const digest = digestOf(users, group);
  if (recorded !== undefined && digest === digestOf(sorted(before), groupBefore)) return undefined;
  return { change: 'slack-allow-list', users, group, added: users.filter((u) => !before.includes(u)), removed: before.filter((u) => !users.includes(u)), groupBefore, digest };
}

/**
 * Keeps the Slack allow-list (CORTEXOPS_SLACK_APPROVERS, CORTEXOPS_APPROVER_GROUP) in the audit trail: at start the
 * configured list is compared with the last one recorded and, when it differs (or none was recorded), an
 * `approver.changed` record names who was added and removed. Replicas starting with the same new list write it once
 * (the idempotency key is the previous record and the new list; a replica that lost the race finds its record there).
 */
export async function recordSlackAllowList(audit: Pick<AuditStore, 'append' | 'query'>, config: SlackAllowListConfig, logger?: Logger): Promise<SlackAllowListChange | undefined> {
  let last: { sequence: number; payload: Record<string, unknown> } | undefined;
  let afterSequence: number | undefined;
  for (;;) {
    const page = await audit.query({ kinds: ['approver.changed'], actor: SLACK_ALLOW_LIST_ACTOR, limit: 1000, ...(afterSequence === undefined ? {} : { afterSequence }) });
    const newest = page.records[page.records.length - 1];
    if (newest) last = { sequence: newest.sequence, payload: newest.payload };
    if (page.nextAfterSequence === undefined) break;
    afterSequence = page.nextAfterSequence;
  }
  const recorded = last === undefined ? undefined : { users: (last.payload['users'] as string[] | undefined) ?? [], group: (last.payload['group'] as string | null | undefined) ?? null };
  const change = allowListChange(recorded, config);
  if (change === undefined) return undefined;
  try {
    await audit.append({
      idempotencyKey: `approvals/slack-allow-list/${last?.sequence ?? 0}/${change.digest}`,
      kind: 'approver.changed',
      actor: SLACK_ALLOW_LIST_ACTOR,
      occurredAt: new Date().toISOString(),
      payload: { ...change },
    });
  } catch (error) {
    // Another replica recorded the same change a moment earlier (same key, its own time).
    if (!(error instanceof AuditConflictError)) throw error;
  }
  logger?.info({ added: change.added, removed: change.removed, group: change.group }, 'Slack approver allow-list changed since last recorded: audited');
  return change;
}
