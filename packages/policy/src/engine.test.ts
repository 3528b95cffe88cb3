import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { policyBundleHash } from './bundle.js';
import { PolicyEngine } from './engine.js';
import { PolicyBundleError, PolicyInputError } from './errors.js';

// Fail-closed paths that need no compiled policy; tests against the real wasm are in test/integration.
const dir = mkdtempSync(join(tmpdir(), 'cortexops-policy-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const input = {
  incidentId: 'inc-1',
  cluster: 'local',
  environment: 'staging',
  action: { type: 'delete-pod', kind: 'Pod', namespace: 'shop', name: 'checkout-abc' },
  risk: 'low',
  dryRun: { ok: true },
  counts: { targetActionsLastHour: 0, clusterActionsLastHour: 0, consecutiveFailures: 0 },
  now: '2026-11-18T10:00:00Z',
};

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('policy engine — fail closed without a usable bundle', () => {
  it('policy engine — a missing wasm denies every decision, naming the file', async () => {
    const engine = await PolicyEngine.create({ wasmPath: join(dir, 'missing.wasm') });
    const status = engine.status();
    expect(status.ready).toBe(false);
    if (!status.ready) expect(status.error).toBeInstanceOf(PolicyBundleError);
    const decision = engine.decide(input);
    expect(decision).toMatchObject({ allow: false, mode: 'observe', requireApproval: false, reasons: [] });
    expect(decision.violations).toEqual([expect.stringMatching(/^policy-unavailable: cannot read the policy wasm .*missing\.wasm/)]);
  });

  it('policy engine — without a bundle the bundle hash names nothing loaded', async () => {
    const engine = await PolicyEngine.create({ wasmPath: join(dir, 'missing.wasm') });
    expect(engine.bundleHash()).toBe(policyBundleHash(null, null));
    expect(engine.bundleHash()).toMatch(/^[0-9a-f]{64}$/);
    expect(engine.status().bundleHash).toBe(engine.bundleHash());
  });

  it('policy engine — a corrupt wasm denies every decision', async () => {
    const engine = await PolicyEngine.create({ wasmPath: file('corrupt.wasm', new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 255, 255, 255])) });
    expect(engine.decide(input)).toMatchObject({ allow: false, mode: 'observe', violations: [expect.stringMatching(/^policy-unavailable: cannot load the policy wasm .*corrupt\.wasm: /)] });
  });

  it('policy engine — a reload of a missing wasm throws and keeps denying', async () => {
    const engine = await PolicyEngine.create({ wasmPath: join(dir, 'still-missing.wasm') });
    await expect(engine.reloadData({ remediation_policy: {} })).rejects.toMatchObject({ code: 'POLICY_BUNDLE_UNAVAILABLE' });
    expect(engine.decide(input).allow).toBe(false);
  });

  it('policy engine — unreadable or malformed data denies every decision, naming why', async () => {
    for (const [dataPath, why] of [
      [join(dir, 'no-data.json'), /cannot read policy data/],
      [file('not-json.json', '{ remediation_policy'), /is not JSON/],
      [file('no-policy.json', '{"policy": {}}'), /has no "remediation_policy" object/],
    ] as const) {
      const engine = await PolicyEngine.create({ wasmPath: join(dir, 'missing.wasm'), dataPath });
      const decision = engine.decide(input);
      expect(decision.allow).toBe(false);
      expect(decision.violations).toEqual([expect.stringMatching(/^policy-unavailable: cannot read the policy wasm .*missing\.wasm/)]);
      expect(decision.violations[0]).toMatch(why);
    }
  });
});

describe('policy engine — bad input', () => {
  it('policy engine — input that is not a PolicyInput throws PolicyInputError naming each field', async () => {
    const engine = await PolicyEngine.create({ wasmPath: join(dir, 'missing.wasm') });
    const bad = { ...input, action: { ...input.action, type: 'drop-database' }, counts: { ...input.counts, consecutiveFailures: -1 }, now: 'yesterday' };
    let thrown: unknown;
    try {
      engine.decide(bad);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PolicyInputError);
    const error = thrown as PolicyInputError;
    expect(error.code).toBe('POLICY_INPUT_INVALID');
    expect(error.issues.map((i) => i.field).sort()).toEqual(['action.type', 'counts.consecutiveFailures', 'now']);
    expect(error.message).toMatch(/^invalid PolicyInput: /);
  });

  it('policy engine — non-object input is refused, not evaluated', async () => {
    const engine = await PolicyEngine.create({ wasmPath: join(dir, 'missing.wasm') });
    for (const bad of [undefined, null, 'scale everything', 42, []]) {
      expect(() => engine.decide(bad)).toThrow(PolicyInputError);
    }
  });
});
