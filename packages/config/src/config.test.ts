import { describe, expect, it } from 'vitest';
import { ConfigError, auditSpec, loadConfig, loadServiceConfig, portVar, stringVar } from './index.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadServiceConfig('api', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.variable}: ${p.problem}`);
  }
  throw new Error('expected a ConfigError');
}

describe('config — service configuration', () => {
  it('defaults point at the local stack', () => {
    const config = loadServiceConfig('api', {});
    expect(config).toMatchObject({
      natsUrl: 'nats://127.0.0.1:4222',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/cortexops',
      temporalAddress: '127.0.0.1:7233',
      temporalNamespace: 'default',
      port: 8080,
      logLevel: 'info',
    });
  });

  it('derives default URLs from moved stack ports', () => {
    const config = loadServiceConfig('api', { CORTEXOPS_NATS_PORT: '14222', CORTEXOPS_POSTGRES_PORT: '15432', CORTEXOPS_TEMPORAL_PORT: '17233' });
    expect(config.natsUrl).toBe('nats://127.0.0.1:14222');
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:15432/cortexops');
    expect(config.temporalAddress).toBe('127.0.0.1:17233');
  });

  it('reports every bad variable at once, one clear line each', () => {
    const problems = problemsOf({
      CORTEXOPS_API_PORT: 'eighty',
      CORTEXOPS_NATS_URL: 'http://example',
      CORTEXOPS_DATABASE_URL: 'not a url',
      CORTEXOPS_LOG_LEVEL: 'loud',
      CORTEXOPS_SHUTDOWN_TIMEOUT_MS: '5',
      CORTEXOPS_TEMPORAL_ADDRESS: 'localhost',
    });
    expect(problems).toEqual([
      'CORTEXOPS_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      'CORTEXOPS_SHUTDOWN_TIMEOUT_MS: must be between 100 and 600000 (got "5")',
      'CORTEXOPS_NATS_URL: must be a URL with scheme nats or tls (got "http://example")',
      'CORTEXOPS_TEMPORAL_ADDRESS: must be host:port (got "localhost")',
      'CORTEXOPS_DATABASE_URL: must be a URL with scheme postgres or postgresql (got "not a url")',
      'CORTEXOPS_API_PORT: must be a port number (got "eighty")',
    ]);
  });

  it('rejects out-of-range and fractional ports', () => {
    expect(problemsOf({ CORTEXOPS_API_PORT: '70000' })).toEqual(['CORTEXOPS_API_PORT: must be between 1 and 65535 (got "70000")']);
    expect(problemsOf({ CORTEXOPS_API_PORT: '0' })).toEqual(['CORTEXOPS_API_PORT: must be between 1 and 65535 (got "0")']);
    expect(problemsOf({ CORTEXOPS_API_PORT: '80.5' })).toEqual(['CORTEXOPS_API_PORT: must be a whole number (got "80.5")']);
  });

  it('treats an empty variable as unset', () => {
    expect(loadServiceConfig('api', { CORTEXOPS_API_PORT: '' }).port).toBe(8080);
  });

  it('names a missing required variable', () => {
    const spec = { token: stringVar('CORTEXOPS_TEST_TOKEN', undefined, 'a secret'), port: portVar('CORTEXOPS_TEST_PORT', 1, 'a port') };
    expect(() => loadConfig(spec, {})).toThrowError('invalid configuration:\n  CORTEXOPS_TEST_TOKEN: is required (it is not set)');
    expect(loadConfig(spec, { CORTEXOPS_TEST_TOKEN: 't' })).toEqual({ token: 't', port: 1 });
  });

  it('puts the whole list in the error message', () => {
    expect(() => loadServiceConfig('api', { CORTEXOPS_API_PORT: 'x', CORTEXOPS_LOG_LEVEL: 'y' })).toThrowError(
      /invalid configuration:\n {2}CORTEXOPS_LOG_LEVEL: .*\n {2}CORTEXOPS_API_PORT: .*/,
    );
  });

  it('the owner lookups, event watch, reopen hold and refusal limit refuse bad values, one line each', () => {
    const problems = (service: 'ingestion' | 'correlator' | 'approvals', env: Record<string, string>) => {
      try {
        loadServiceConfig(service, env);
      } catch (error) {
        return (error as ConfigError).problems.map((p) => `${p.variable}: ${p.problem}`);
      }
      throw new Error('expected a ConfigError');
    };
    expect(problems('ingestion', { CORTEXOPS_INGESTION_WATCH_EVENTS: 'maybe', CORTEXOPS_INGESTION_OWNER_LOOKUP_TIMEOUT_MS: '10000' })).toEqual([
      'CORTEXOPS_INGESTION_OWNER_LOOKUP_TIMEOUT_MS: must be between 50 and 9000 (got "10000")',
      'CORTEXOPS_INGESTION_WATCH_EVENTS: must be true or false (got "maybe")',
    ]);
    expect(problems('correlator', { CORTEXOPS_CORRELATOR_REOPEN_AFTER_MS: '-1' })).toEqual(['CORTEXOPS_CORRELATOR_REOPEN_AFTER_MS: must be between 0 and 604800000 (got "-1")']);
    expect(problems('approvals', { CORTEXOPS_APPROVALS_REFUSALS_PER_MINUTE: '0' })).toEqual(['CORTEXOPS_APPROVALS_REFUSALS_PER_MINUTE: must be between 1 and 100000 (got "0")']);
    expect(loadServiceConfig('ingestion', { CORTEXOPS_INGESTION_WATCH_EVENTS: 'false' }).watchEvents).toBe(false);
    expect(loadServiceConfig('ingestion', {})).toMatchObject({ watchEvents: true, ownerLookupTimeoutMs: 2000 });
  });

  it('the worker refuses bad remediation settings, one line each, and never echoes the approvals token', () => {
    let problems: string[] = [];
    try {
      loadServiceConfig('worker', {
        CORTEXOPS_APPROVAL_TIMEOUT_MS: '1000',
        CORTEXOPS_PROMETHEUS_URL: 'ftp://prometheus:9090',
        CORTEXOPS_VERIFY_COUNT: '0',
        CORTEXOPS_VERIFY_ROLLOUT_TIMEOUT_MS: 'soon',
        CORTEXOPS_APPROVALS_API_TOKEN: 'short-secret',
      });
    } catch (error) {
      problems = (error as ConfigError).problems.map((p) => `${p.variable}: ${p.problem}`);
    }
    expect(problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining(['CORTEXOPS_APPROVAL_TIMEOUT_MS', 'CORTEXOPS_PROMETHEUS_URL', 'CORTEXOPS_VERIFY_COUNT', 'CORTEXOPS_VERIFY_ROLLOUT_TIMEOUT_MS', 'CORTEXOPS_APPROVALS_API_TOKEN']),
    );
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).not.toContain('short-secret');
    expect(loadServiceConfig('worker', {})).toMatchObject({ approvalTimeoutMs: 900_000, verifyRolloutTimeoutMs: 300_000, defaultEnvironment: 'production', environments: [] });
  });

  it('secrets — a URL with credentials is never echoed whole: a mistyped scheme shows host and path, not the password', () => {
    const problems = problemsOf({
      CORTEXOPS_DATABASE_URL: 'postgress://cortexops_app:pa55-w0rd@db.internal:5432/cortexops',
      CORTEXOPS_NATS_URL: 'http://ingestion:n4ts-s3cret@nats:4222',
    });
    expect(problems).toEqual([
      'CORTEXOPS_NATS_URL: must be a URL with scheme nats or tls (got "http://[redacted]@nats:4222")',
      'CORTEXOPS_DATABASE_URL: must be a URL with scheme postgres or postgresql (got "postgress://[redacted]@db.internal:5432/cortexops")',
    ]);
    const messageOf = (load: () => unknown) => {
      try {
        load();
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    };
    const worker = messageOf(() => loadServiceConfig('worker', { CORTEXOPS_DATABASE_URL: 'postgres//u:pa55-w0rd@db/x?password=pa55-w0rd' }));
    expect(worker).toContain('CORTEXOPS_DATABASE_URL');
    const audit = messageOf(() =>
      loadConfig(auditSpec, { CORTEXOPS_DATABASE_MIGRATION_URL: 'mysql://owner:0wn3r-pw@db/x', CORTEXOPS_AUDIT_CHECKPOINT_KEY: 'too-short-k3y', CORTEXOPS_AUDIT_CHECKPOINT_INTERVAL_MS: '10' }),
    );
    expect(audit.split('\n').slice(1)).toEqual([
      '  CORTEXOPS_DATABASE_MIGRATION_URL: must be a URL with scheme postgres or postgresql (got "mysql://[redacted]@db/x")',
      '  CORTEXOPS_AUDIT_CHECKPOINT_KEY: must be at least 32 characters (got 13 characters, value hidden)',
      '  CORTEXOPS_AUDIT_CHECKPOINT_INTERVAL_MS: must be between 1000 and 3600000 (got "10")',
    ]);
    expect(`${worker}${audit}`).not.toMatch(/pa55|0wn3r|k3y/);
  });
});

