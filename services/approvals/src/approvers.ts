import { APPROVAL_ERROR_CODES, ApprovalError } from './errors.js';

/** Who is in a Slack user group (Slack's `usergroups.users.list`). */
export interface GroupDirectory {
  members(groupId: string): Promise<readonly string[]>;
}

export interface AllowListOptions {
  /** Slack user ids allowed to decide from Slack (HTTP and CLI approvers hold personal tokens instead). */
  readonly users: readonly string[];
  /** A Slack user group whose members may decide from Slack. */
  readonly group?: { readonly id: string; readonly directory: GroupDirectory };
  /** How long a group's membership is trusted before it is read again. */
  readonly groupTtlMs?: number;
  readonly now?: () => number;
}

const DEFAULT_GROUP_TTL_MS = 60_000;

/**
 * Who may decide from Slack: listed Slack user ids and the members of one Slack user group. Slack identities only — an
 * HTTP or CLI decision is by the owner of a personal token, never by a name on this list. Empty means nobody may decide
 * from Slack (fail closed). A group that cannot be read refuses too.
 */
export class ApproverAllowList {
  private readonly users: ReadonlySet<string>;
  private cached: { readonly members: ReadonlySet<string>; readonly at: number } | undefined;

  constructor(private readonly options: AllowListOptions) {
    this.users = new Set(options.users);
  }

  get configured(): boolean {
    return this.users.size > 0 || this.options.group !== undefined;
  }

  /** Resolves when the Slack user `approver` may decide; throws {@link ApprovalError} otherwise. */
  async check(approver: string): Promise<void> {
    if (this.users.has(approver)) return;
    if (this.options.group && (await this.groupMembers()).has(approver)) return;
    throw new ApprovalError(
      APPROVAL_ERROR_CODES.notAllowed,
      this.configured ? `${approver} is not on the Slack approver allow-list; the decision was not recorded.` : 'No Slack approvers are configured (CORTEXOPS_SLACK_APPROVERS, CORTEXOPS_APPROVER_GROUP); no decision can be recorded from Slack.',
    );
  }

  private async groupMembers(): Promise<ReadonlySet<string>> {
    const group = this.options.group;
    if (!group) return new Set();
    const now = (this.options.now ?? Date.now)();
    if (this.cached && now - this.cached.at < (this.options.groupTtlMs ?? DEFAULT_GROUP_TTL_MS)) return this.cached.members;
    try {
      const members = new Set(await group.directory.members(group.id));
      this.cached = { members, at: now };
      return members;
    } catch (error) {
      throw new ApprovalError(APPROVAL_ERROR_CODES.upstream, 'The approver group could not be read from Slack; the decision was not recorded. Try again.', { cause: error });
    }
  }
}
