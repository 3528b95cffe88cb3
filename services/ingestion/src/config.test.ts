import { ConfigError, loadServiceConfig } from '@cortexops/config';
import { describe, expect, it } from 'vitest';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadServiceConfig('ingestion', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => p.variable).sort();
  }
  throw new Error('expected a ConfigError');
}

describe('ingestion config — the webhook limits and the replica role', () => {
  it('ingestion config — defaults: 16 MiB bodies, 32 MiB in flight, consuming', () => {
    const config = loadServiceConfig('ingestion', {});
    expect(config.webhookMaxBytes).toBe(16 * 1024 * 1024);
    expect(config.webhookBytesInFlight).toBe(32 * 1024 * 1024);
    expect(config.consume).toBe(true);
    expect(loadServiceConfig('ingestion', { CORTEXOPS_INGESTION_CONSUME: 'false' }).consume).toBe(false);
  });

  it.each<Record<string, string>>([
    { CORTEXOPS_INGESTION_WEBHOOK_MAX_BYTES: '1000' },
    { CORTEXOPS_INGESTION_WEBHOOK_MAX_BYTES: String(128 * 1024 * 1024) },
    { CORTEXOPS_INGESTION_WEBHOOK_MAX_BYTES: '8MiB' },
    { CORTEXOPS_INGESTION_WEBHOOK_BYTES_IN_FLIGHT: '-1' },
    { CORTEXOPS_INGESTION_WEBHOOK_BYTES_IN_FLIGHT: '1e12' },
    { CORTEXOPS_INGESTION_CONSUME: 'maybe' },
  ])('ingestion config — a bad value is refused and named: %o', (env) => {
    expect(problemsOf(env)).toEqual(Object.keys(env));
  });
});
