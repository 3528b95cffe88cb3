import { describe, expect, it } from 'vitest';
import { Action, ContractValidationError, incidentWorkflowId, kubernetesName, Signal, TelemetryEnvelope } from './index.js';

const goodSignal = {
  id: 'sig-1',
  source: 'alertmanager',
  cluster: 'local',
  namespace: 'demo',
  object: { kind: 'Pod', name: 'checkout-7d9f-abcde' },
  ownerChain: [
    { kind: 'ReplicaSet', name: 'checkout-7d9f' },
    { kind: 'Deployment', name: 'checkout' },
  ],
  severity: 'critical',
  status: 'firing',
  title: 'KubePodCrashLooping',
  fingerprint: '0123456789abcdef',
  startsAt: '2026-11-22T10:00:00Z',
  receivedAt: '2026-11-22T10:00:01.123Z',
};

describe('contracts — validation', () => {
  it('accepts a well-formed signal and fills defaults', () => {
    const result = Signal.validate(goodSignal);
    expect(result.ok && result.value.labels).toEqual({});
  });

  it('names each bad field and its problem', () => {
    const result = Signal.validate({ ...goodSignal, severity: 'apocalyptic', namespace: 'Demo_NS', startsAt: 'yesterday', object: { kind: 'Pod', name: '' } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const fields = result.error.issues.map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['severity', 'namespace', 'startsAt', 'object.name']));
    expect(result.error.message).toMatch(/^invalid Signal: /);
    expect(result.error.issues.find((i) => i.field === 'namespace')?.problem).toMatch(/DNS-1123 label/);
  });

  it('names array elements by index', () => {
    const result = Signal.validate({ ...goodSignal, ownerChain: [{ kind: 'ReplicaSet', name: 'ok' }, { kind: 'Spaceship', name: 'x' }] });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.issues[0]?.field).toBe('ownerChain[1].kind');
  });

  it('reports a missing field as required, and the root when the value is not an object', () => {
    const { id: _dropped, ...withoutId } = goodSignal;
    const missing = Signal.validate(withoutId);
    expect(!missing.ok && missing.error.issues[0]).toMatchObject({ field: 'id' });
    const notObject = Signal.validate('hello');
    expect(!notObject.ok && notObject.error.issues[0]?.field).toBe('(root)');
  });

  it('parse throws a ContractValidationError with a code', () => {
    expect(() => TelemetryEnvelope.parse({ source: 'carrier-pigeon', payload: {} })).toThrowError(ContractValidationError);
    try {
      TelemetryEnvelope.parse({ source: 'custom' });
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONTRACT_INVALID', contract: 'TelemetryEnvelope' });
      expect((error as ContractValidationError).issues).toEqual([{ field: 'payload', problem: 'is required' }]);
    }
  });

  it('only knows the actions of the catalogue', () => {
    expect(Action.validate({ type: 'scale', kind: 'Deployment', namespace: 'demo', name: 'checkout', replicas: 3 }).ok).toBe(true);
    const unknown = Action.validate({ type: 'rm-rf', kind: 'Node', name: 'n1' });
    expect(!unknown.ok && unknown.error.issues[0]?.field).toBe('type');
    const outOfBounds = Action.validate({ type: 'scale', kind: 'Deployment', namespace: 'demo', name: 'checkout', replicas: -1 });
    expect(!outOfBounds.ok && outOfBounds.error.issues[0]?.field).toBe('replicas');
  });
});

describe('contracts — Kubernetes names', () => {
  it.each(['checkout', 'checkout-7d9f', 'a.b-c', 'x'])('accepts %s', (name) => {
    expect(kubernetesName.safeParse(name).success).toBe(true);
  });
  it.each(['', 'Checkout', '-lead', 'trail-', 'a_b', 'a/b', '../etc', 'x'.repeat(254), 'name with space', 'ns"}) or vector(1)'])('rejects %j', (name) => {
    expect(kubernetesName.safeParse(name).success).toBe(false);
  });
});

describe('contracts — workflow ids', () => {
  it('derive from the incident id alone', () => {
    expect(incidentWorkflowId('abc123')).toBe('incident-abc123');
    expect(incidentWorkflowId('abc123')).toBe(incidentWorkflowId('abc123'));
    expect(incidentWorkflowId('abc124')).not.toBe(incidentWorkflowId('abc123'));
  });
});
