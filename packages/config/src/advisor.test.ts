import { describe, expect, it } from 'vitest';
import { ConfigError, loadServiceConfig } from './index.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadServiceConfig('worker', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.variable}: ${p.problem}`);
  }
  throw new Error('expected a ConfigError');
}

describe('config — the worker LLM advisor and incident memory', () => {
  it('defaults: no base URL nor key (heuristics only), embedded memory without a model directory', () => {
    const config = loadServiceConfig('worker', {});
    expect(config).toMatchObject({ llmModel: 'gpt-4o-mini', llmTimeoutMs: 8000, llmTokensPerIncident: 20_000, llmTokensPerHour: 200_000, incidentMemory: 'embedded', similarIncidents: 3 });
    expect(config.llmBaseUrl).toBeUndefined();
    expect(config.llmApiKey).toBeUndefined();
    expect(config.embeddingModelDir).toBeUndefined();
  });

  it('bad values are refused, one line each', () => {
    const problems = problemsOf({
      CORTEXOPS_LLM_BASE_URL: 'ftp://models.example/v1',
      CORTEXOPS_LLM_TIMEOUT_MS: '50',
      CORTEXOPS_LLM_TOKENS_PER_HOUR: '-1',
      CORTEXOPS_LLM_CIRCUIT_THRESHOLD: 'three',
      CORTEXOPS_INCIDENT_MEMORY: 'redis',
      CORTEXOPS_QDRANT_URL: 'qdrant:6333',
      CORTEXOPS_SIMILAR_INCIDENTS: '1000',
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'CORTEXOPS_LLM_BASE_URL',
      'CORTEXOPS_LLM_TIMEOUT_MS',
      'CORTEXOPS_LLM_TOKENS_PER_HOUR',
      'CORTEXOPS_LLM_CIRCUIT_THRESHOLD',
      'CORTEXOPS_INCIDENT_MEMORY',
      'CORTEXOPS_QDRANT_URL',
      'CORTEXOPS_SIMILAR_INCIDENTS',
    ]);
  });
});
