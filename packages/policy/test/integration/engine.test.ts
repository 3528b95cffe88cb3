import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildPolicyWasm,
  DEFAULT_DATA_PATH,
  DEFAULT_WASM_PATH,
  ensurePolicyWasm,
  policyBundleHash,
  PolicyDataError,
  PolicyEngine,
  violationCodes,
} from '../../src/index.js';
import { BASE_INPUT, TEST_MODES } from '../cases.js';

const dir = mkdtempSync(join(tmpdir(), 'cortexops-policy-engine-'));
const defaultData = JSON.parse(readFileSync(DEFAULT_DATA_PATH, 'utf8')) as { remediation_policy: Record<string, unknown> };
const withSettings = (settings: Record<string, unknown>) => ({ remediation_policy: { ...defaultData.remediation_policy, modes: TEST_MODES, ...settings } });
/** data.json with the demo namespace enrolled as auto (BASE_INPUT's namespace), as the local stack runs it. */
const testData = withSettings({});
/** Stand-in policies still need the second entrypoint the engine evaluates on every data load. */
const PREPARED = 'prepared := {}\n';
const scaleTo = (replicas: number) => ({ ...BASE_INPUT, action: { type: 'scale', kind: 'Deployment', namespace: 'shop', name: 'checkout', replicas } });

beforeAll(async () => {
  await ensurePolicyWasm();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('policy engine — data reload', () => {
  it('policy engine — reloading the data file changes decisions without a restart', async () => {
    const dataPath = join(dir, 'reload.json');
    writeFileSync(dataPath, JSON.stringify(defaultData));
    const engine = await PolicyEngine.create({ dataPath });
    expect(engine.decide(scaleTo(10)).allow).toBe(true);

    writeFileSync(dataPath, JSON.stringify(withSettings({ bounds: { maxReplicas: 5, maxMemory: '16Gi' } })));
    await engine.reloadData();
    expect(violationCodes(engine.decide(scaleTo(10)))).toEqual(['replicas-above-maximum']);

    await engine.reloadData(withSettings({ protectedNamespaces: ['shop'] }));
    expect(violationCodes(engine.decide(scaleTo(10)))).toEqual(['protected-namespace']);
    expect(engine.status()).toMatchObject({ ready: true, dataSource: 'reloadData()' });

    // Freeze windows are prepared (parsed to seconds) once per load: a reload must prepare them anew.
    const freeze = { name: 'incident-review', start: '2026-11-18T09:00:00+01:00', end: '2026-11-18T12:00:00+01:00', environments: ['staging'] };
    await engine.reloadData(withSettings({ freezeWindows: [freeze] }));
    expect(engine.decide(scaleTo(10)).violations).toEqual(['change-freeze: incident-review is in force from 2026-11-18T09:00:00+01:00 to 2026-11-18T12:00:00+01:00']);
    await engine.reloadData(withSettings({ freezeWindows: [{ ...freeze, end: '2026-11-18T10:59:59+01:00' }] }));
    expect(engine.decide(scaleTo(10)).allow).toBe(true);
  });

  it('policy engine — bad data is refused and the data in force keeps deciding', async () => {
    const dataPath = join(dir, 'bad.json');
    writeFileSync(dataPath, JSON.stringify(defaultData));
    const engine = await PolicyEngine.create({ dataPath });
    await engine.reloadData(withSettings({ bounds: { maxReplicas: 5, maxMemory: '16Gi' } }));

    writeFileSync(dataPath, '{ "remediation_policy": ');
    await expect(engine.reloadData()).rejects.toThrow(PolicyDataError);
    await expect(engine.reloadData({ protectedNamespaces: [] })).rejects.toMatchObject({ code: 'POLICY_DATA_INVALID', message: expect.stringContaining('remediation_policy') as unknown });
    await expect(engine.reloadData([1, 2])).rejects.toThrow('must be a JSON object');
    expect(violationCodes(engine.decide(scaleTo(10)))).toEqual(['replicas-above-maximum']);
  });

  it('policy engine — data with mistyped settings denies every action, naming the setting', async () => {
    const engine = await PolicyEngine.create();
    await engine.reloadData(withSettings({ rateLimits: { perTargetPerHour: 'three', perClusterPerHour: 20 } }));
    const decision = engine.decide(BASE_INPUT);
    expect(decision.allow).toBe(false);
    expect(decision.violations).toEqual(['policy-data-invalid: rateLimits.perTargetPerHour must be a number']);
  });
});

describe('policy engine — bundle hash', () => {
  const wasmSha256 = () => createHash('sha256').update(readFileSync(DEFAULT_WASM_PATH)).digest('hex');

  it('policy engine — the bundle hash is SHA-256 of the wasm bytes and the canonical data in force', async () => {
    const engine = await PolicyEngine.create();
    const hash = engine.bundleHash();
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(policyBundleHash(wasmSha256(), defaultData));
    expect(engine.status()).toMatchObject({ ready: true, bundleHash: hash });
    // The same data in another key order is the same policy.
    const reordered = { remediation_policy: Object.fromEntries(Object.entries(defaultData.remediation_policy).reverse()) };
    await engine.reloadData(reordered);
    expect(engine.bundleHash()).toBe(hash);
  });

  it('policy engine — a reload changes the bundle hash; a refused reload keeps it', async () => {
    const engine = await PolicyEngine.create();
    const before = engine.bundleHash();
    const killSwitch = withSettings({ modes: { ...TEST_MODES, killSwitch: true } });
    await engine.reloadData(killSwitch);
    const after = engine.bundleHash();
    expect(after).not.toBe(before);
    expect(after).toBe(policyBundleHash(wasmSha256(), killSwitch));
    expect(engine.decide(BASE_INPUT).mode).toBe('observe');

    await expect(engine.reloadData({ remediation_policy: [] })).rejects.toThrow(PolicyDataError);
    expect(engine.bundleHash()).toBe(after);
    // The data is copied: changing the object after the reload changes neither the decisions nor the hash.
    (killSwitch.remediation_policy['modes'] as { killSwitch: boolean }).killSwitch = false;
    expect(engine.bundleHash()).toBe(after);
    expect(engine.decide(BASE_INPUT).mode).toBe('observe');
  });
});

describe('policy engine — operating modes', () => {
  it('policy engine — the kill switch in the data file moves the demo namespace to observe on reload', async () => {
    const dataPath = join(dir, 'kill-switch.json');
    writeFileSync(dataPath, JSON.stringify(testData));
    const engine = await PolicyEngine.create({ dataPath });
    expect(engine.decide(BASE_INPUT)).toMatchObject({ allow: true, mode: 'auto', requireApproval: false });

    const data = structuredClone(testData) as { remediation_policy: { modes: { killSwitch: boolean } } };
    data.remediation_policy.modes.killSwitch = true;
    writeFileSync(dataPath, JSON.stringify(data));
    await engine.reloadData();
    const decision = engine.decide(BASE_INPUT);
    expect(decision).toMatchObject({ allow: true, mode: 'observe', requireApproval: false, violations: [] });
    expect(decision.reasons).toEqual([expect.stringMatching(/^observe-mode: the kill switch is on \(modes\.killSwitch\)/)]);
  });

  it('policy engine — the default data enrols no namespace: everything is observed until an operator enrols it', async () => {
    expect(defaultData.remediation_policy['modes']).toEqual({ killSwitch: false, default: 'observe', clusterScoped: 'observe', namespaces: {} });
    const engine = await PolicyEngine.create();
    expect(engine.decide(BASE_INPUT)).toMatchObject({ allow: true, mode: 'observe' });
  });
});

describe('policy engine — fail closed', () => {
  it('policy engine — a missing wasm denies until it is built and the data reloaded', async () => {
    const wasmPath = join(dir, 'later.wasm');
    const engine = await PolicyEngine.create({ wasmPath });
    const before = engine.decide(BASE_INPUT);
    expect(before).toMatchObject({ allow: false, mode: 'observe', requireApproval: false, reasons: [] });
    expect(engine.bundleHash()).toBe(policyBundleHash(null, null));
    expect(before.violations).toEqual([expect.stringMatching(/^policy-unavailable: cannot read the policy wasm .*later\.wasm/)]);

    copyFileSync(DEFAULT_WASM_PATH, wasmPath);
    await engine.reloadData();
    expect(engine.status().ready).toBe(true);
    expect(engine.bundleHash()).toBe(policyBundleHash(createHash('sha256').update(readFileSync(wasmPath)).digest('hex'), defaultData));
    expect(engine.decide(BASE_INPUT).allow).toBe(true);
  });

  it('policy engine — a good wasm with unusable data denies until good data is loaded', async () => {
    const dataPath = join(dir, 'broken-at-start.json');
    writeFileSync(dataPath, '{"remediation_policy": [}');
    const engine = await PolicyEngine.create({ dataPath });
    expect(engine.status()).toMatchObject({ ready: false, error: { code: 'POLICY_DATA_INVALID' } });
    expect(engine.decide(BASE_INPUT).violations).toEqual([expect.stringMatching(/^policy-unavailable: policy data .*broken-at-start\.json is not JSON/)]);
    await engine.reloadData(testData);
    expect(engine.decide(BASE_INPUT)).toEqual({ allow: true, mode: 'auto', requireApproval: false, reasons: [], violations: [] });
  });

  it('policy engine — an evaluation that throws is a denial naming the error', async () => {
    const source = join(dir, 'throws.rego');
    writeFileSync(source, `package cortexops.remediation\n\n${PREPARED}\n# time.now_ns is not in the wasm target: evaluating it throws.\ndecision := {"allow": time.now_ns() > 0}\n`);
    const wasmPath = await buildPolicyWasm({ sources: [source], wasmPath: join(dir, 'throws.wasm') });
    const engine = await PolicyEngine.create({ wasmPath });
    const decision = engine.decide(BASE_INPUT);
    expect(decision).toMatchObject({ allow: false, mode: 'observe', requireApproval: false });
    expect(decision.violations).toEqual([expect.stringMatching(/^policy-evaluation-failed: evaluation threw: .*time\.now_ns/)]);
  });

  it('policy engine — an answer that is not a PolicyDecision is a denial naming the field', async () => {
    const source = join(dir, 'shape.rego');
    writeFileSync(source, `package cortexops.remediation\n\n${PREPARED}\ndecision := {"allow": "yes", "mode": "auto", "requireApproval": false, "reasons": [], "violations": []}\n`);
    const wasmPath = await buildPolicyWasm({ sources: [source], wasmPath: join(dir, 'shape.wasm') });
    const engine = await PolicyEngine.create({ wasmPath });
    const decision = engine.decide(BASE_INPUT);
    expect(decision).toMatchObject({ allow: false, mode: 'observe' });
    expect(decision.violations).toEqual([expect.stringMatching(/^policy-evaluation-failed: the policy answered invalid PolicyDecision: allow: /)]);
  });

  it('policy engine — an answer without a mode, or with another mode, is a denial in observe mode', async () => {
    for (const [name, mode] of [
      ['no-mode', ''],
      ['yolo-mode', '"mode": "yolo", '],
    ] as const) {
      const source = join(dir, `${name}.rego`);
      writeFileSync(source, `package cortexops.remediation\n\n${PREPARED}\ndecision := {"allow": true, ${mode}"requireApproval": false, "reasons": [], "violations": []}\n`);
      const wasmPath = await buildPolicyWasm({ sources: [source], wasmPath: join(dir, `${name}.wasm`) });
      const engine = await PolicyEngine.create({ wasmPath });
      const decision = engine.decide(BASE_INPUT);
      expect(decision).toMatchObject({ allow: false, mode: 'observe', requireApproval: false });
      expect(decision.violations).toEqual([expect.stringMatching(/^policy-evaluation-failed: the policy answered invalid PolicyDecision: mode: /)]);
    }
  });

  it('policy engine — an undefined decision is a denial', async () => {
    const source = join(dir, 'undefined.rego');
    writeFileSync(source, `package cortexops.remediation\n\n${PREPARED}\ndecision := {"allow": true} if input.never\n`);
    const wasmPath = await buildPolicyWasm({ sources: [source], wasmPath: join(dir, 'undefined.wasm') });
    const engine = await PolicyEngine.create({ wasmPath });
    expect(engine.decide(BASE_INPUT).violations).toEqual([expect.stringMatching(/^policy-evaluation-failed: the policy answered an empty result set/)]);
  });
});
