import { describe, expect, it } from 'vitest';
import { configProblems } from './config-problems.js';
import { loadConfig, PROMETHEUS_OPTION_VARIABLES, prometheusSpec } from './index.js';

const problemsOf = (env: Record<string, string>) => configProblems(() => loadConfig(prometheusSpec, env));

describe('config — the Prometheus-compatible backend', () => {
  it('defaults: the local stack Prometheus, no tenant, no credentials, no TLS files', () => {
    const config = loadConfig(prometheusSpec, { CORTEXOPS_PROMETHEUS_PORT: '19090' });
    expect(config).toEqual({
      prometheusUrl: 'http://127.0.0.1:19090',
      prometheusTimeoutMs: 5000,
      prometheusRetries: 2,
      prometheusTenant: undefined,
      prometheusBearerTokenFile: undefined,
      prometheusUsername: undefined,
      prometheusPasswordFile: undefined,
      prometheusCaFile: undefined,
      prometheusCertFile: undefined,
      prometheusKeyFile: undefined,
      prometheusServerName: undefined,
    });
  });

  it('a Mimir behind a path, with a tenant, basic auth and mutual TLS files', () => {
    const config = loadConfig(prometheusSpec, {
      CORTEXOPS_PROMETHEUS_URL: 'https://mimir.example:8080/prometheus',
      CORTEXOPS_PROMETHEUS_TENANT: 'team-a|team-b',
      CORTEXOPS_PROMETHEUS_USERNAME: 'cortexops',
      CORTEXOPS_PROMETHEUS_PASSWORD_FILE: '/etc/cortexops/prometheus/password',
      CORTEXOPS_PROMETHEUS_CA_FILE: '/etc/cortexops/prometheus/ca.crt',
      CORTEXOPS_PROMETHEUS_CERT_FILE: '/etc/cortexops/prometheus/tls.crt',
      CORTEXOPS_PROMETHEUS_KEY_FILE: '/etc/cortexops/prometheus/tls.key',
      CORTEXOPS_PROMETHEUS_SERVER_NAME: 'mimir.internal',
    });
    expect(config).toMatchObject({ prometheusUrl: 'https://mimir.example:8080/prometheus', prometheusTenant: 'team-a|team-b', prometheusUsername: 'cortexops' });
  });

  it('bad values are refused, one line each; a URL with credentials is shown with them hidden', () => {
    const problems = problemsOf({
      CORTEXOPS_PROMETHEUS_URL: 'https://cortexops:hunter2@mimir.example/prometheus',
      CORTEXOPS_PROMETHEUS_TIMEOUT_MS: '50',
      CORTEXOPS_PROMETHEUS_RETRIES: 'many',
      CORTEXOPS_PROMETHEUS_TENANT: 'team a',
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['CORTEXOPS_PROMETHEUS_URL', 'CORTEXOPS_PROMETHEUS_TIMEOUT_MS', 'CORTEXOPS_PROMETHEUS_RETRIES', 'CORTEXOPS_PROMETHEUS_TENANT']);
    expect(problems[0]).toMatch(/must not carry credentials: name the user in CORTEXOPS_PROMETHEUS_USERNAME/);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it.each([
    ['CORTEXOPS_PROMETHEUS_URL', 'ftp://prometheus:9090', /scheme http or https/],
    ['CORTEXOPS_PROMETHEUS_URL', 'prometheus:9090', /scheme http or https/],
    ['CORTEXOPS_PROMETHEUS_URL', 'http://prometheus:9090/?tenant=a', /query or fragment/],
    ['CORTEXOPS_PROMETHEUS_TENANT', '__mimir_cluster', /not a valid tenant id/],
    ['CORTEXOPS_PROMETHEUS_TENANT', '..', /not a valid tenant id/],
    ['CORTEXOPS_PROMETHEUS_TENANT', 'a|', /must not be empty/],
    ['CORTEXOPS_PROMETHEUS_TENANT', 'x'.repeat(151), /at most 150/],
    ['CORTEXOPS_PROMETHEUS_TENANT', 'a\r\nX-Admin: 1', /only letters, digits/],
  ])('%s=%j is refused', (variable, value, problem) => {
    const [line] = problemsOf({ [variable]: value });
    expect(line).toMatch(new RegExp(`^${variable}: `));
    expect(line).toMatch(problem);
  });

  it('every client option the variables set is named by its variable (for errors found when the client is built)', () => {
    const names = new Set(Object.values(prometheusSpec).map((v) => v.name));
    for (const variable of Object.values(PROMETHEUS_OPTION_VARIABLES)) expect(names).toContain(variable);
    expect(Object.keys(PROMETHEUS_OPTION_VARIABLES)).toHaveLength(names.size);
  });
});
