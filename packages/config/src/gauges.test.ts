import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './env.js';
import { auditChainWatchSpec, workflowGaugesSpec } from './gauges.js';

describe('config — the periodic gauges (worker workflow gauges, api audit chain check)', () => {
  it('defaults: 15 s refreshes of at most 5000 workflows and 100 queries; the chain checked every 30 s, whole every hour', () => {
    expect(loadConfig(workflowGaugesSpec, {})).toEqual({ workflowGaugesIntervalMs: 15_000, workflowGaugesMaxWorkflows: 5000, workflowGaugesMaxQueries: 100 });
    expect(loadConfig(auditChainWatchSpec, {})).toEqual({ auditChainCheckIntervalMs: 30_000, auditChainFullCheckIntervalMs: 3_600_000 });
  });

  const specs = { worker: workflowGaugesSpec, api: auditChainWatchSpec };
  it.each([
    ['worker', 'CORTEXOPS_WORKFLOW_GAUGES_INTERVAL_MS', '999', 'must be between 1000 and 600000 (got "999")'],
    ['worker', 'CORTEXOPS_WORKFLOW_GAUGES_MAX_WORKFLOWS', '0', 'must be between 1 and 100000 (got "0")'],
    ['worker', 'CORTEXOPS_WORKFLOW_GAUGES_MAX_QUERIES', '2.5', 'must be a whole number (got "2.5")'],
    ['api', 'CORTEXOPS_AUDIT_CHAIN_CHECK_INTERVAL_MS', 'often', 'must be a number (got "often")'],
    ['api', 'CORTEXOPS_AUDIT_CHAIN_FULL_CHECK_INTERVAL_MS', '-1', 'must be between 1000 and 86400000 (got "-1")'],
  ] as const)('refuses a bad value, naming the variable (%s) %s=%s', (service, variable, value, problem) => {
    const load = () => loadConfig(specs[service], { [variable]: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(`${variable}: ${problem}`);
  });
});
