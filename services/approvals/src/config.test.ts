import { ConfigError, loadServiceConfig } from '@cortexops/config';
import { describe, expect, it } from 'vitest';

describe('approvals — configuration', () => {
  it('configuration — Slack, approvers, the worker token and the signing key are optional and off by default', () => {
    const config = loadServiceConfig('approvals', {});
    expect(config.approvalsSigningKeyFile).toBeUndefined();
    expect(config).toMatchObject({ slackApprovers: [], slackApiUrl: 'https://slack.com/api/', slackRetries: 4, slackRetryMinMs: 500 });
    expect(config.slackBotToken).toBeUndefined();
    expect(config.approvalsApiToken).toBeUndefined();
  });

  it('configuration — Slack approvers are a trimmed comma list of Slack ids; a short API token and a bad Slack URL are named', () => {
    expect(loadServiceConfig('approvals', { CORTEXOPS_SLACK_APPROVERS: ' U1X, W0BOB ,,' }).slackApprovers).toEqual(['U1X', 'W0BOB']);
    try {
      loadServiceConfig('approvals', { CORTEXOPS_APPROVALS_API_TOKEN: 'short', CORTEXOPS_SLACK_API_URL: 'ftp://slack', CORTEXOPS_SLACK_RETRIES: '99' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.map((p) => p.variable);
      expect(problems).toEqual(expect.arrayContaining(['CORTEXOPS_APPROVALS_API_TOKEN', 'CORTEXOPS_SLACK_API_URL', 'CORTEXOPS_SLACK_RETRIES']));
      // A refused secret is never echoed.
      expect((error as Error).message).toContain('must be at least 32 characters (got 5 characters, value hidden)');
      expect((error as Error).message).not.toContain('short');
    }
  });
});
