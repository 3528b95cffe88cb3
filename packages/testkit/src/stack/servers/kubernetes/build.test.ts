import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../context.js';
import { VERSIONS } from '../../versions.js';
import { assertModulePins } from './build.js';

const moduleDir = (name: string) => join(REPO_ROOT, 'packages', 'testkit', 'tools', name);

describe('kubernetes tools — go.mod pins', () => {
  it('kubernetes tools — go.mod requires the version versions.ts pins', () => {
    expect(() => assertModulePins({ moduleDir: moduleDir('kubernetes'), requires: VERSIONS.kubernetes })).not.toThrow();
    expect(() => assertModulePins({ moduleDir: moduleDir('etcd'), requires: VERSIONS.etcd })).not.toThrow();
  });

  it('kubernetes tools — every staging module is replaced by the release matching k8s.io/kubernetes', () => {
    const goMod = readFileSync(join(moduleDir('kubernetes'), 'go.mod'), 'utf8');
    const [, minor, patch] = /^v1\.(\d+)\.(\d+)$/.exec(VERSIONS.kubernetes.version) ?? [];
    const replaces = [...goMod.matchAll(/^\s*(k8s\.io\/[\w-]+) => (k8s\.io\/[\w-]+) (\S+)$/gm)];
    expect(replaces.length).toBeGreaterThan(25);
    for (const [, from, to, version] of replaces) {
      expect({ from, to, version }).toEqual({ from, to: from, version: `v0.${minor}.${patch}` });
    }
    for (const staging of ['k8s.io/api', 'k8s.io/apimachinery', 'k8s.io/client-go', 'k8s.io/apiserver', 'k8s.io/kubectl']) {
      expect(replaces.map((r) => r[1])).toContain(staging);
    }
  });

  it('kubernetes tools — a go.mod that drifted from versions.ts is refused, naming both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gomod-'));
    try {
      writeFileSync(join(dir, 'go.mod'), 'module x\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 v3.5.0\n');
      expect(() => assertModulePins({ moduleDir: dir, requires: VERSIONS.etcd })).toThrow(
        `${join(dir, 'go.mod')} requires go.etcd.io/etcd/server/v3 v3.5.0 but versions.ts pins ${VERSIONS.etcd.version}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
