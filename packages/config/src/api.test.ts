import { describe, expect, it } from 'vitest';
import { apiSpec } from './api.js';
import { ConfigError, loadConfig } from './env.js';

const load = (env: Record<string, string>) => loadConfig(apiSpec, env);

describe('config — the api service', () => {
  it('aggregates the local stack by default: the other services and the plain-HTTP servers, on their configured ports', () => {
    const config = load({ CORTEXOPS_WORKER_PORT: '9183', CORTEXOPS_PROMETHEUS_PORT: '9190' });
    const byName = Object.fromEntries(config.healthTargets.map((t) => [t.name, t.url]));
    expect(Object.keys(byName)).toEqual(['ingestion', 'correlator', 'worker', 'approvals', 'nats-jetstream', 'prometheus', 'alertmanager', 'etcd', 'kwok', 'kube-state-metrics']);
    expect(byName.worker).toBe('http://127.0.0.1:9183/debug/healthz');
    expect(byName.prometheus).toBe('http://127.0.0.1:9190/-/ready');
    expect(config.apiApprovalsUrl).toBe('http://127.0.0.1:8084');
    expect(config.apiToken).toBeUndefined();
  });

  it('adds the Kubernetes control plane (TLS) to the defaults when a CA is given', () => {
    const names = load({ CORTEXOPS_API_HEALTH_CA_FILE: '/tmp/ca.crt', CORTEXOPS_KUBE_APISERVER_PORT: '7443' }).healthTargets;
    expect(names.slice(-3)).toEqual([
      { name: 'kube-apiserver', url: 'https://127.0.0.1:7443/readyz' },
      { name: 'kube-controller-manager', url: 'https://127.0.0.1:10257/healthz' },
      { name: 'kube-scheduler', url: 'https://127.0.0.1:10259/healthz' },
    ]);
  });

  it('reads name=url targets, and none', () => {
    expect(load({ CORTEXOPS_API_HEALTH_TARGETS: 'a=http://h:1/x, kube-apiserver=https://127.0.0.1:6443/readyz' }).healthTargets).toEqual([
      { name: 'a', url: 'http://h:1/x' },
      { name: 'kube-apiserver', url: 'https://127.0.0.1:6443/readyz' },
    ]);
    expect(load({ CORTEXOPS_API_HEALTH_TARGETS: 'none' }).healthTargets).toEqual([]);
  });

  it.each([
    ['no url', 'worker'],
    ['an empty url', 'worker='],
    ['a non-http scheme', 'worker=ftp://h/x'],
    ['not a URL', 'worker=not a url'],
    ['an upper-case name', 'Worker=http://h/x'],
    ['an empty name', '=http://h/x'],
    ['a repeated name', 'a=http://h/x,a=http://h/y'],
  ])('refuses health targets with %s, naming the variable', (_what, value) => {
    expect(() => load({ CORTEXOPS_API_HEALTH_TARGETS: value })).toThrow(ConfigError);
    expect(() => load({ CORTEXOPS_API_HEALTH_TARGETS: value })).toThrow(/CORTEXOPS_API_HEALTH_TARGETS/);
  });

  it('refuses a short api token without echoing it, and a non-http approvals URL', () => {
    expect(() => load({ CORTEXOPS_API_TOKEN: 'short-secret' })).toThrow(/CORTEXOPS_API_TOKEN: .*value hidden/);
    expect(() => load({ CORTEXOPS_API_TOKEN: 'short-secret' })).not.toThrow(/short-secret/);
    expect(() => load({ CORTEXOPS_APPROVALS_URL: 'nats://h:1' })).toThrow(/CORTEXOPS_APPROVALS_URL/);
  });
});
