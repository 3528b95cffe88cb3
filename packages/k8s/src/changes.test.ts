import { describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDS, checkReplicas, fieldHash, holdsPriorState, pointerToken, priorStateOf, raiseMemoryOps, restartOps, rollbackTemplate, setAnnotationOps } from './changes.js';
import { OutOfBoundsError } from './errors.js';
import type { KubeObject } from './resources.js';

const web: KubeObject = {
  kind: 'Deployment',
  metadata: { name: 'web', resourceVersion: '7' },
  spec: {
    replicas: 3,
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'app', resources: { limits: { memory: '256Mi' } } }, { name: 'bare' }] },
    },
  },
};

describe('changes — patches of the catalogue', () => {
  it('escapes annotation keys as JSON Pointer tokens, and creates a missing annotation map whole', () => {
    expect(pointerToken('cortexops.io/remediation-id')).toBe('cortexops.io~1remediation-id');
    expect(setAnnotationOps('/metadata', undefined, { a: '1' })).toEqual([{ op: 'add', path: '/metadata/annotations', value: { a: '1' } }]);
    expect(setAnnotationOps('/metadata', { b: '2' }, { 'x/y': '1' })).toEqual([{ op: 'add', path: '/metadata/annotations/x~1y', value: '1' }]);
  });

  it('rollout restart sets restartedAt and the remediation id on the pod template', () => {
    const ops = restartOps(web, 'cortexops.io/remediation-id', 'r-1', new Date('2026-01-02T03:04:05Z'));
    expect(ops).toEqual([{ op: 'add', path: '/spec/template/metadata/annotations', value: { 'kubectl.kubernetes.io/restartedAt': '2026-01-02T03:04:05.000Z', 'cortexops.io/remediation-id': 'r-1' } }]);
  });

  it('raise-memory-limit: only a raise, within the bound, of a container that has a limit', () => {
    expect(raiseMemoryOps(web, 'app', '512Mi', DEFAULT_BOUNDS)).toEqual([{ op: 'replace', path: '/spec/template/spec/containers/0/resources/limits/memory', value: '512Mi' }]);
    expect(() => raiseMemoryOps(web, 'app', '256Mi', DEFAULT_BOUNDS)).toThrow(/256Mi is not higher than the current limit 256Mi/);
    expect(() => raiseMemoryOps(web, 'app', '0.25Gi', DEFAULT_BOUNDS)).toThrow(OutOfBoundsError);
    expect(() => raiseMemoryOps(web, 'app', '5Gi', DEFAULT_BOUNDS)).toThrow(/5Gi is above the maximum of 4Gi/);
    expect(() => raiseMemoryOps(web, 'bare', '1Gi', DEFAULT_BOUNDS)).toThrow(/has no memory limit/);
    expect(() => raiseMemoryOps(web, 'nope', '1Gi', DEFAULT_BOUNDS)).toThrow(/"nope" is not a container of Deployment web \(it has app, bare\)/);
  });

  it('scale bounds are inclusive', () => {
    expect(() => checkReplicas(DEFAULT_BOUNDS.minReplicas, DEFAULT_BOUNDS)).not.toThrow();
    expect(() => checkReplicas(DEFAULT_BOUNDS.maxReplicas, DEFAULT_BOUNDS)).not.toThrow();
    expect(() => checkReplicas(DEFAULT_BOUNDS.maxReplicas + 1, DEFAULT_BOUNDS)).toThrow(OutOfBoundsError);
  });

  it('rollback takes the previous ReplicaSet template without its pod-template-hash label', () => {
    const rs: KubeObject = { kind: 'ReplicaSet', spec: { template: { metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } }, spec: {} } } };
    expect(rollbackTemplate(rs)).toEqual({ metadata: { labels: { app: 'web' } }, spec: {} });
    expect((rs.spec?.template as { metadata: { labels: Record<string, string> } }).metadata.labels['pod-template-hash']).toBe('abc');
  });

  it('prior state: what revert restores and checks (an unset unschedulable is false)', () => {
    expect(priorStateOf('spec.replicas', web)).toEqual({ field: 'spec.replicas', replicas: 3 });
    const node: KubeObject = { kind: 'Node', spec: {} };
    const prior = priorStateOf('spec.unschedulable', node);
    expect(prior).toEqual({ field: 'spec.unschedulable', unschedulable: false });
    expect(holdsPriorState(prior, { kind: 'Node', spec: { unschedulable: false } })).toBe(true);
    expect(holdsPriorState(prior, { kind: 'Node', spec: { unschedulable: true } })).toBe(false);
  });

  it('field hash: the changed field only, whatever the key order; status, metadata and other fields do not count', () => {
    const hash = fieldHash('spec.template', web);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const template = web.spec?.template as { metadata: object; spec: object };
    const reordered: KubeObject = { kind: 'Deployment', spec: { template: { spec: template.spec, metadata: template.metadata }, replicas: 9 } };
    expect(fieldHash('spec.template', reordered)).toBe(hash);
    expect(fieldHash('spec.template', { ...web, metadata: { name: 'web', resourceVersion: '8', generation: 4 }, status: { readyReplicas: 1 } })).toBe(hash);
    const changed = structuredClone(web) as { spec: { template: { spec: { containers: { image?: string }[] } } } };
    changed.spec.template.spec.containers[0]!.image = 'other:2';
    expect(fieldHash('spec.template', changed as KubeObject)).not.toBe(hash);
    expect(fieldHash('spec.replicas', web)).not.toBe(fieldHash('spec.replicas', { ...web, spec: { ...web.spec, replicas: 4 } }));
  });
});
