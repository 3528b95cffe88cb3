import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './env.js';
import { auditChainWatchSpec, workflowGaugesSpec } from './gauges.js';

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.variable}: ${p.problem}`);
  }
  throw new Error('expected a ConfigError');
}

describe('config — the periodic gauges (worker workflow gauges, api audit chain check)', () => {
  it('defaults: 15 s refreshes of at most 5000 workflows and 100 queries; the chain checked every 30 s, whole every hour', () => {
    expect(loadConfig(workflowGaugesSpec, {})).toEqual({ workflowGaugesIntervalMs: 15_000, workflowGaugesMaxWorkflows: 5000, workflowGaugesMaxQueries: 100 });
    expect(loadConfig(auditChainWatchSpec, {})).toEqual({ auditChainCheckIntervalMs: 30_000, auditChainFullCheckIntervalMs: 3_600_000 });
  });

  it('refuses bad values, naming each variable', () => {
    expect(
      problemsOf(() =>
        loadConfig(workflowGaugesSpec, { CORTEXOPS_WORKFLOW_GAUGES_INTERVAL_MS: '999', CORTEXOPS_WORKFLOW_GAUGES_MAX_WORKFLOWS: '0', CORTEXOPS_WORKFLOW_GAUGES_MAX_QUERIES: '2.5' }),
      ),
    ).toEqual([
      'CORTEXOPS_WORKFLOW_GAUGES_INTERVAL_MS: must be between 1000 and 600000 (got "999")',
      'CORTEXOPS_WORKFLOW_GAUGES_MAX_WORKFLOWS: must be between 1 and 100000 (got "0")',
      'CORTEXOPS_WORKFLOW_GAUGES_MAX_QUERIES: must be a whole number (got "2.5")',
    ]);
    expect(problemsOf(() => loadConfig(auditChainWatchSpec, { CORTEXOPS_AUDIT_CHAIN_CHECK_INTERVAL_MS: 'often', CORTEXOPS_AUDIT_CHAIN_FULL_CHECK_INTERVAL_MS: '-1' }))).toEqual([
      expect.stringMatching(/^CORTEXOPS_AUDIT_CHAIN_CHECK_INTERVAL_MS: /),
      'CORTEXOPS_AUDIT_CHAIN_FULL_CHECK_INTERVAL_MS: must be between 1000 and 86400000 (got "-1")',
    ]);
  });
});
