import { ConfigError, loadServiceConfig } from '@cortexops/config';
import { afterAll, describe, expect, it } from 'vitest';
import { prometheusClientFromConfig, prometheusOptionsFromConfig } from './from-config.js';
import { tempFiles } from '../test/temp-files.js';

const { dir, file, remove } = tempFiles('prometheus-from-config');
afterAll(remove);
const token = file('token', 'a-token-of-some-length-0123456789\n');
const password = file('password', 'secret\n');

function configProblem(env: Record<string, string>): string {
  try {
    prometheusClientFromConfig(loadServiceConfig('worker', env));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const [problem] = (error as ConfigError).problems;
    return `${problem?.variable}: ${problem?.problem}`;
  }
  throw new Error('expected a ConfigError');
}

describe('prometheusClientFromConfig — the worker\'s client from CORTEXOPS_PROMETHEUS_*', () => {
  it('maps every variable to its option, leaving unset ones out', () => {
    const config = loadServiceConfig('worker', {
      CORTEXOPS_PROMETHEUS_URL: 'https://mimir.example/prometheus',
      CORTEXOPS_PROMETHEUS_TENANT: 'team-a',
      CORTEXOPS_PROMETHEUS_BEARER_TOKEN_FILE: token,
      CORTEXOPS_PROMETHEUS_SERVER_NAME: 'mimir.internal',
      CORTEXOPS_PROMETHEUS_RETRIES: '4',
    });
    expect(prometheusOptionsFromConfig(config)).toEqual({
      baseUrl: 'https://mimir.example/prometheus',
      timeoutMs: 5000,
      retries: 4,
      tenant: 'team-a',
      bearerTokenFile: token,
      tls: { serverName: 'mimir.internal' },
    });
    expect(prometheusClientFromConfig(config).describe()).toEqual({
      baseUrl: 'https://mimir.example/prometheus',
      tenant: 'team-a',
      auth: `bearer token from ${token}`,
      tls: 'system CAs, server name mimir.internal',
    });
  });

  it.each([
    [{ CORTEXOPS_PROMETHEUS_BEARER_TOKEN_FILE: token, CORTEXOPS_PROMETHEUS_USERNAME: 'u', CORTEXOPS_PROMETHEUS_PASSWORD_FILE: password }, /^CORTEXOPS_PROMETHEUS_BEARER_TOKEN_FILE: choose one way of authenticating/],
    [{ CORTEXOPS_PROMETHEUS_USERNAME: 'u' }, /^CORTEXOPS_PROMETHEUS_PASSWORD_FILE: is required with username/],
    [{ CORTEXOPS_PROMETHEUS_CA_FILE: token }, /^CORTEXOPS_PROMETHEUS_CA_FILE: TLS settings need an https baseUrl/],
    [{ CORTEXOPS_PROMETHEUS_URL: 'https://p.example', CORTEXOPS_PROMETHEUS_CERT_FILE: token }, /^CORTEXOPS_PROMETHEUS_KEY_FILE: is required with certFile/],
    [{ CORTEXOPS_PROMETHEUS_URL: 'https://p.example', CORTEXOPS_PROMETHEUS_SERVER_NAME: 'bad name' }, /^CORTEXOPS_PROMETHEUS_SERVER_NAME: must be a DNS name/],
    [{ CORTEXOPS_PROMETHEUS_BEARER_TOKEN_FILE: `${dir}/absent` }, /^CORTEXOPS_PROMETHEUS_BEARER_TOKEN_FILE: .*absent does not exist$/],
    [{ CORTEXOPS_PROMETHEUS_URL: 'https://p.example', CORTEXOPS_PROMETHEUS_CA_FILE: password }, /^CORTEXOPS_PROMETHEUS_CA_FILE: .*holds no PEM certificate/],
  ] as [Record<string, string>, RegExp][])('%o is a configuration error naming the variable', (env, problem) => {
    const line = configProblem(env);
    expect(line).toMatch(problem);
    expect(line).not.toContain('a-token-of-some-length');
  });
});
