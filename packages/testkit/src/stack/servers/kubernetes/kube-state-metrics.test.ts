import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../context.js';
import { VERSIONS } from '../../versions.js';
import { assertModulePins, requiredVersion } from './build.js';
import { KUBE_STATE_METRICS_RBAC_MANIFEST } from './kube-controller-manager.js';
import { KUBE_STATE_METRICS_RESOURCES } from './kube-state-metrics.js';

const moduleDir = join(REPO_ROOT, 'packages', 'testkit', 'tools', 'kube-state-metrics');

interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

describe('kube-state-metrics — build pins and least privilege', () => {
  it('kube-state-metrics — go.mod requires the version versions.ts pins', () => {
    expect(() => assertModulePins({ moduleDir, requires: VERSIONS.kubeStateMetrics })).not.toThrow();
  });

  it('kube-state-metrics — is built with the client-go of the local Kubernetes', () => {
    const [, minor, patch] = /^v1\.(\d+)\.(\d+)$/.exec(VERSIONS.kubernetes.version) ?? [];
    expect(requiredVersion(moduleDir, 'k8s.io/client-go')).toBe(`v0.${minor}.${patch}`);
  });

  it('kube-state-metrics — its ServiceAccount may list and watch exactly the resources it exports', () => {
    const objects = parseAllDocuments(readFileSync(join(REPO_ROOT, KUBE_STATE_METRICS_RBAC_MANIFEST), 'utf8')).map((d) => d.toJSON() as { kind: string; rules?: Rule[] });
    const rules = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').flatMap((o) => o.rules ?? []);
    expect(new Set(rules.flatMap((r) => r.verbs))).toEqual(new Set(['list', 'watch']));
    expect(rules.flatMap((r) => r.resources).sort()).toEqual([...KUBE_STATE_METRICS_RESOURCES].sort());
  });
});
