import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServiceConfig } from './index.js';

function problems(service: 'approvals' | 'worker', env: Record<string, string>): string[] {
  try {
    loadServiceConfig(service, env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.variable}: ${p.problem}`);
  }
}

describe('config — approver identities and signing keys', () => {
  it('Slack approvers are Slack user ids only; an HTTP name there is refused, and the old mixed list is a start-up error saying what replaced it', () => {
    expect(loadServiceConfig('approvals', { CORTEXOPS_SLACK_APPROVERS: 'U0ALICE, W0BOB' }).slackApprovers).toEqual(['U0ALICE', 'W0BOB']);
    expect(problems('approvals', { CORTEXOPS_SLACK_APPROVERS: 'U0ALICE,alice@example.com' })).toEqual([expect.stringMatching(/^CORTEXOPS_SLACK_APPROVERS: .*Slack user id/)]);
    expect(problems('approvals', { CORTEXOPS_SLACK_APPROVERS: 'u0alice' })).toHaveLength(1);
    expect(problems('approvals', { CORTEXOPS_APPROVERS: 'U0ALICE' })).toEqual([expect.stringMatching(/^CORTEXOPS_APPROVERS: .*CORTEXOPS_SLACK_APPROVERS.*personal tokens/)]);
  });

  it('the worker reads the approvals public keys as openssl prints them (base64 SPKI) or as hex, and refuses anything else', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    const raw = spki.subarray(12).toString('hex');
    expect(loadServiceConfig('worker', { CORTEXOPS_APPROVALS_VERIFY_KEYS: `${spki.toString('base64')}, ${raw.toUpperCase()}` }).approvalVerifyKeys).toEqual([raw, raw]);
    expect(loadServiceConfig('worker', {}).approvalVerifyKeys).toEqual([]);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    for (const bad of ['abc', raw.slice(2), `${raw}00`, rsa, 'MCowBQYDK2VwAyEA', 'x'.repeat(44)]) {
      expect(problems('worker', { CORTEXOPS_APPROVALS_VERIFY_KEYS: bad }), bad).toEqual([expect.stringMatching(/^CORTEXOPS_APPROVALS_VERIFY_KEYS: .*Ed25519 public key/)]);
    }
  });
});
