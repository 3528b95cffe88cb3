import { describe, expect, it } from 'vitest';
import { ApproverAllowList, type GroupDirectory } from './approvers.js';
import { APPROVAL_ERROR_CODES, ApprovalError } from './errors.js';

function directory(members: Record<string, string[]>, calls: string[] = []): GroupDirectory {
  return {
    members: async (id) => {
      calls.push(id);
      const found = members[id];
      if (!found) throw new Error('no_such_subteam');
      return found;
    },
  };
}

async function codeOf(promise: Promise<void>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof ApprovalError ? error.code : 'other';
  }
}

describe('approvers — allow-list', () => {
  it('allow-list — listed Slack users decide from Slack, others are refused by name', async () => {
    const list = new ApproverAllowList({ users: ['U1'] });
    await expect(list.check('U1')).resolves.toBeUndefined();
    await expect(list.check('U2')).rejects.toThrow('U2 is not on the Slack approver allow-list');
    expect(await codeOf(list.check('alice@example.com'))).toBe(APPROVAL_ERROR_CODES.notAllowed);
  });

  it('allow-list — empty means nobody may decide', async () => {
    const list = new ApproverAllowList({ users: [] });
    expect(list.configured).toBe(false);
    await expect(list.check('U1')).rejects.toThrow('No Slack approvers are configured');
  });

  it('user group — members decide from Slack; membership is cached for its TTL', async () => {
    const calls: string[] = [];
    let now = 0;
    const list = new ApproverAllowList({ users: [], group: { id: 'S1', directory: directory({ S1: ['U7'] }, calls) }, groupTtlMs: 1000, now: () => now });
    await expect(list.check('U7')).resolves.toBeUndefined();
    await expect(list.check('U8')).rejects.toThrow('not on the Slack approver allow-list');
    expect(calls).toEqual(['S1']);
    now = 1001;
    await expect(list.check('U7')).resolves.toBeUndefined();
    expect(calls).toEqual(['S1', 'S1']);
  });

  it('user group — a group that cannot be read refuses (fails closed)', async () => {
    const list = new ApproverAllowList({ users: [], group: { id: 'S404', directory: directory({}) } });
    expect(await codeOf(list.check('U7'))).toBe(APPROVAL_ERROR_CODES.upstream);
  });
});
