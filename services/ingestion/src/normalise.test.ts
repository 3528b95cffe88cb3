import { PermanentMessageError } from '@cortexops/messaging';
import { describe, expect, it } from 'vitest';
import { cleanText, normalise, normaliseTelemetry } from './normalise.js';
import { FingerprintWindow } from './pipeline.js';

const receivedAt = '2026-11-22T10:00:00.000Z';

const alert = (status: 'firing' | 'resolved', extra: Record<string, unknown> = {}) => ({
  source: 'alertmanager' as const,
  cluster: 'prod-eu',
  payload: {
    groupKey: '{}:{alertname="KubePodCrashLooping", namespace="shop"}',
    alert: {
      status,
      labels: { alertname: 'KubePodCrashLooping', namespace: 'shop', pod: 'cart-5d8-x2x', node: 'node-1', severity: 'warning' },
      annotations: { summary: 'cart is crash looping' },
      startsAt: '2026-11-22T09:58:00Z',
      endsAt: status === 'resolved' ? '2026-11-22T09:59:30Z' : '0001-01-01T00:00:00Z',
      fingerprint: 'a1b2c3d4e5f60718',
      ...extra,
    },
  },
});

/** A group's alerts as the webhook stores them (AlertmanagerGroupTelemetry). */
const group = (entries: unknown[], extra: Record<string, unknown> = {}) => ({
  source: 'alertmanager' as const,
  cluster: 'prod-eu',
  payload: { groupKey: '{}:{namespace="shop"}', receiver: 'cortexops', alerts: entries, ...extra },
});
const entryOf = (status: 'firing' | 'resolved', extra: Record<string, unknown> = {}) => ({ alert: alert(status, extra).payload.alert });

describe('normalise — an Alertmanager group: one signal per alert, a bad alert refused alone', () => {
  it('group — each alert becomes the signal it would be alone, with the group’s key; owners and node per alert', () => {
    const owners = [{ kind: 'ReplicaSet', name: 'cart-5d8' }, { kind: 'Deployment', name: 'cart' }];
    const { signals, refused } = normaliseTelemetry(group([entryOf('firing'), { ...entryOf('resolved', { fingerprint: 'ffff' }), ownerChain: owners, node: 'node-9' }]), receivedAt);
    expect(refused).toEqual([]);
    expect(signals).toHaveLength(2);
    expect(signals[0]).toEqual(normalise({ ...alert('firing'), payload: { ...alert('firing').payload, groupKey: '{}:{namespace="shop"}' } }, receivedAt));
    expect(signals[1]).toMatchObject({ status: 'resolved', groupKey: '{}:{namespace="shop"}', ownerChain: owners, node: 'node-1' });
  });

  it('group — a broken alert is refused alone with its own bytes and field; an entry cannot name another group', () => {
    const broken = entryOf('firing', { labels: { namespace: 'shop' } });
    const { signals, refused } = normaliseTelemetry(group([entryOf('firing'), broken, { ...entryOf('resolved'), groupKey: 'forged' }]), receivedAt);
    expect(signals.map((s) => s.status)).toEqual(['firing', 'resolved']);
    expect(signals[1]?.groupKey).toBe('{}:{namespace="shop"}');
    expect(refused).toHaveLength(1);
    // The field as in the part's own message, its dead letter's original.
    expect(refused[0]).toMatchObject({ index: 1, error: { field: 'payload.alert.labels' } });
    expect(JSON.parse(refused[0]!.original.toString('utf8')) as unknown).toEqual({ source: 'alertmanager', cluster: 'prod-eu', payload: { ...broken, groupKey: '{}:{namespace="shop"}', receiver: 'cortexops' } });
  });

  it.each([
    ['no alerts', group([]), 'payload.alerts'],
    ['alerts not a list', group({} as unknown as unknown[]), 'payload.alerts'],
    ['an alert not an object', group([entryOf('firing'), 'x']), 'payload.alerts'],
    ['more than 1000 alerts', group(Array.from({ length: 1001 }, () => entryOf('firing'))), 'payload.alerts'],
    ['no group key', group([entryOf('firing')], { groupKey: '' }), 'payload.groupKey'],
  ])('group — %s: the message is refused whole, naming the field', (_what, envelope, field) => {
    let refusal: unknown;
    try {
      normaliseTelemetry(envelope, receivedAt);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(PermanentMessageError);
    expect((refusal as PermanentMessageError).field?.startsWith(field)).toBe(true);
  });
});

describe('normalise — Alertmanager', () => {
  it('normalise — maps labels to namespace, object, node and severity and keeps the groupKey', () => {
    const signal = normalise(alert('firing'), receivedAt);
    expect(signal).toMatchObject({
      source: 'alertmanager',
      cluster: 'prod-eu',
      namespace: 'shop',
      object: { kind: 'Pod', name: 'cart-5d8-x2x' },
      node: 'node-1',
      severity: 'warning',
      status: 'firing',
      title: 'cart is crash looping',
      reason: 'KubePodCrashLooping',
      groupKey: '{}:{alertname="KubePodCrashLooping", namespace="shop"}',
      startsAt: '2026-11-22T09:58:00.000Z',
      receivedAt,
    });
    expect(signal.endsAt).toBeUndefined();
  });

  it('normalise — firing and resolved share the fingerprint but not the id', () => {
    const firing = normalise(alert('firing'), receivedAt);
    const resolved = normalise(alert('resolved'), receivedAt);
    expect(resolved.fingerprint).toBe(firing.fingerprint);
    expect(resolved.id).not.toBe(firing.id);
    expect(resolved.endsAt).toBe('2026-11-22T09:59:30.000Z');
  });

  it('normalise — a pod alert gets its owners: read from the cluster first, else owner labels; other alerts none', () => {
    const labels = { alertname: 'KubePodCrashLooping', namespace: 'shop', pod: 'cart-5d8-x2x', deployment: 'cart', job: 'kube-state-metrics' };
    expect(normalise(alert('firing', { labels }), receivedAt).ownerChain).toEqual([{ kind: 'Deployment', name: 'cart' }]);
    const resolvedOwners = [
      { kind: 'ReplicaSet', name: 'cart-5d8' },
      { kind: 'Deployment', name: 'cart' },
    ];
    const withOwners = alert('firing', { labels });
    const read = normalise({ ...withOwners, payload: { ...withOwners.payload, ownerChain: resolvedOwners } }, receivedAt);
    expect(read.ownerChain).toEqual(resolvedOwners);
    // Owner chains never change the identity of the problem.
    expect(read.fingerprint).toBe(normalise(alert('firing', { labels }), receivedAt).fingerprint);
    const notAPod = normalise(alert('firing', { labels: { alertname: 'CartSlow', namespace: 'shop', deployment: 'cart', statefulset: 'db' } }), receivedAt);
    expect(notAPod).toMatchObject({ object: { kind: 'Deployment', name: 'cart' }, ownerChain: [] });
    const hostile = normalise(alert('firing', { labels: { alertname: 'X', namespace: 'shop', pod: 'p-1', deployment: 'Not A Name!' } }), receivedAt);
    expect(hostile.ownerChain).toEqual([]);
  });

  it('normalise — a pod alert without a node label runs where the webhook read it (spec.nodeName); a node label wins; only pods get it', () => {
    const labels = { alertname: 'KubePodCrashLooping', namespace: 'shop', pod: 'cart-5d8-x2x', job: 'kube-state-metrics' };
    const base = alert('firing', { labels });
    const withNode = (node: unknown, l: Record<string, string> = labels) => {
      const a = alert('firing', { labels: l });
      return { ...a, payload: { ...a.payload, node } };
    };
    // kubernetes-mixin's pod alerts name no node: without the webhook's read there is none.
    expect(normalise(base, receivedAt).node).toBeUndefined();
    expect(normalise(withNode('kwok-node-3'), receivedAt)).toMatchObject({ object: { kind: 'Pod', name: 'cart-5d8-x2x' }, node: 'kwok-node-3' });
    // The node does not change the identity of the problem.
    expect(normalise(withNode('kwok-node-3'), receivedAt).fingerprint).toBe(normalise(base, receivedAt).fingerprint);
    expect(normalise(withNode('kwok-node-3', { ...labels, node: 'node-1' }), receivedAt).node).toBe('node-1');
    // A Deployment alert is about no single pod: a node in the payload is not its.
    expect(normalise(withNode('kwok-node-3', { alertname: 'KubeDeploymentReplicasMismatch', namespace: 'shop', deployment: 'cart' }), receivedAt).node).toBeUndefined();
    for (const bad of ['Not A Node!', '', 'a'.repeat(254), 42, { name: 'x' }]) {
      expect(() => normalise(withNode(bad), receivedAt), JSON.stringify(bad)).toThrow(expect.objectContaining({ field: 'payload.node' }));
    }
  });

  it('normalise — a missing alertname is rejected naming the field', () => {
    const bad = alert('firing', { labels: { namespace: 'shop' } });
    expect(() => normalise(bad, receivedAt)).toThrow(PermanentMessageError);
    try {
      normalise(bad, receivedAt);
    } catch (error) {
      expect((error as PermanentMessageError).field).toBe('payload.alert.labels');
    }
  });
});

/**
 * Label sets as Alertmanager delivers them from a kube-prometheus cluster: the kubernetes-mixin and node-exporter-mixin
 * rules evaluated over kube-state-metrics (its target labels `pod`/`service`/`endpoint`/`namespace` dropped, metric
 * labels honoured: `job="kube-state-metrics"`, `instance` its `host:port`, `container` kube-rbac-proxy-main unless the
 * series has its own), node-exporter (`instance` relabelled to the node; the exporter's own `pod`, `namespace`,
 * `service`, `container` kept), the kubelet/cAdvisor (`instance` `host:port`, `node` target label), plus the
 * external labels prometheus-operator adds to every alert.
 */
const KSM = { job: 'kube-state-metrics', instance: '10.244.1.7:8443', container: 'kube-rbac-proxy-main', prometheus: 'monitoring/k8s', prometheus_replica: 'prometheus-k8s-0' };
const NODE_EXPORTER = { job: 'node-exporter', instance: 'worker-2', namespace: 'monitoring', pod: 'node-exporter-7xk2p', service: 'node-exporter', endpoint: 'https', container: 'kube-rbac-proxy', prometheus: 'monitoring/k8s' };
const KUBELET = { job: 'kubelet', instance: '10.0.0.12:10250', service: 'kubelet', endpoint: 'https-metrics', metrics_path: '/metrics/cadvisor', prometheus: 'monitoring/k8s' };

const objectOf = (labels: Record<string, string>) => {
  const s = normalise(alert('firing', { labels }), receivedAt);
  return { object: s.object, namespace: s.namespace, node: s.node, ownerChain: s.ownerChain };
};

describe('normalise — alert → object (the ecosystem\'s label conventions)', () => {
  it('alert object — kube-state-metrics workload alerts name their workload, never the scrape job', () => {
    expect(objectOf({ ...KSM, alertname: 'KubePodCrashLooping', namespace: 'shop', pod: 'cart-5d8f7b6c4-x2x9q', container: 'cart', reason: 'CrashLoopBackOff', uid: '0b8c6a1e', severity: 'warning' })).toEqual({
      object: { kind: 'Pod', name: 'cart-5d8f7b6c4-x2x9q' },
      namespace: 'shop',
      node: undefined,
      ownerChain: [],
    });
    expect(objectOf({ ...KSM, alertname: 'KubeDeploymentReplicasMismatch', namespace: 'shop', deployment: 'cart', severity: 'warning' })).toMatchObject({ object: { kind: 'Deployment', name: 'cart' }, namespace: 'shop' });
    expect(objectOf({ ...KSM, alertname: 'KubeStatefulSetReplicasMismatch', namespace: 'shop', statefulset: 'db', severity: 'warning' })).toMatchObject({ object: { kind: 'StatefulSet', name: 'db' }, namespace: 'shop' });
    expect(objectOf({ ...KSM, alertname: 'KubeDaemonSetRolloutStuck', namespace: 'logging', daemonset: 'fluent-bit', severity: 'warning' })).toMatchObject({ object: { kind: 'DaemonSet', name: 'fluent-bit' }, namespace: 'logging' });
  });

  it('alert object — KubeJobFailed is the Kubernetes Job named by job_name; job="kube-state-metrics" is no Job', () => {
    expect(objectOf({ ...KSM, alertname: 'KubeJobFailed', namespace: 'batch', job_name: 'nightly-report-29112000', condition: 'true', severity: 'warning' })).toMatchObject({
      object: { kind: 'Job', name: 'nightly-report-29112000' },
      namespace: 'batch',
    });
    // Only the scrape job: an alert about the exporter itself names no object.
    expect(objectOf({ ...KSM, alertname: 'KubeStateMetricsShardingMismatch', severity: 'critical' }).object).toBeUndefined();
  });

  it('alert object — KubeNodeNotReady and kubelet alerts name the Node from node', () => {
    expect(objectOf({ ...KSM, alertname: 'KubeNodeNotReady', node: 'worker-2', condition: 'Ready', status: 'true', severity: 'warning' })).toEqual({
      object: { kind: 'Node', name: 'worker-2' },
      namespace: undefined,
      node: 'worker-2',
      ownerChain: [],
    });
    expect(objectOf({ ...KUBELET, metrics_path: '/metrics', alertname: 'KubeletPlegDurationHigh', node: 'worker-2', quantile: '0.99', severity: 'warning' })).toMatchObject({ object: { kind: 'Node', name: 'worker-2' }, node: 'worker-2' });
    expect(objectOf({ alertname: 'KubeNodeEviction', eviction_signal: 'memory.available', instance: '10.0.0.12:10250', node: 'worker-2', severity: 'info' }).object).toEqual({ kind: 'Node', name: 'worker-2' });
  });

  it('alert object — node-exporter alerts name the node their instance was relabelled to, not the exporter pod or a Job', () => {
    const disk = objectOf({ ...NODE_EXPORTER, alertname: 'NodeFilesystemAlmostOutOfSpace', device: '/dev/nvme0n1p1', fstype: 'ext4', mountpoint: '/', severity: 'critical' });
    expect(disk).toEqual({ object: { kind: 'Node', name: 'worker-2' }, namespace: undefined, node: 'worker-2', ownerChain: [] });
    expect(objectOf({ ...NODE_EXPORTER, alertname: 'NodeClockNotSynchronising', severity: 'warning' }).object).toEqual({ kind: 'Node', name: 'worker-2' });
    // Without the relabelling, instance is host:port: no object (grouped by the correlator as the scrape job).
    expect(objectOf({ job: 'node-exporter', instance: '10.0.0.12:9100', alertname: 'NodeFilesystemAlmostOutOfSpace', device: '/dev/sda1', mountpoint: '/', severity: 'critical' })).toEqual({
      object: undefined,
      namespace: undefined,
      node: undefined,
      ownerChain: [],
    });
  });

  it('alert object — a container alert carrying node (cAdvisor) is about the pod; the node is where it runs', () => {
    const labels = { ...KUBELET, alertname: 'ContainerMemoryNearLimit', namespace: 'shop', pod: 'cart-5d8f7b6c4-x2x9q', container: 'cart', node: 'worker-2', deployment: 'cart', severity: 'warning' };
    expect(objectOf(labels)).toEqual({ object: { kind: 'Pod', name: 'cart-5d8f7b6c4-x2x9q' }, namespace: 'shop', node: 'worker-2', ownerChain: [{ kind: 'Deployment', name: 'cart' }] });
    // The mixin's CPUThrottlingHigh aggregates node away.
    expect(objectOf({ alertname: 'CPUThrottlingHigh', namespace: 'shop', pod: 'cart-5d8f7b6c4-x2x9q', container: 'cart', instance: '10.0.0.12:10250', severity: 'info' })).toMatchObject({ object: { kind: 'Pod' }, node: undefined });
  });

  it('alert object — an instance relabelled to the pod, service or job name is not a node', () => {
    expect(objectOf({ alertname: 'HighLatency', job: 'checkout', instance: 'checkout-7d9f-abcde', namespace: 'shop', pod: 'checkout-7d9f-abcde' }).object).toEqual({ kind: 'Pod', name: 'checkout-7d9f-abcde' });
    expect(objectOf({ alertname: 'HighLatency', job: 'checkout', instance: 'checkout', namespace: 'shop' }).object).toBeUndefined();
    expect(objectOf({ alertname: 'ProbeFailed', job: 'blackbox', instance: 'https://shop.example.com/health' }).object).toBeUndefined();
  });

  it('alert object — an alert naming no object is still a signal, keeping its namespace and labels', () => {
    const quota = normalise(alert('firing', { labels: { ...KSM, alertname: 'KubeQuotaExceeded', namespace: 'shop', resource: 'requests.cpu', resourcequota: 'shop-quota', severity: 'warning' } }), receivedAt);
    expect(quota).toMatchObject({ object: undefined, namespace: 'shop', reason: 'KubeQuotaExceeded', labels: { resourcequota: 'shop-quota', job: 'kube-state-metrics' } });
    const clusterWide = normalise(alert('firing', { labels: { alertname: 'KubeCPUOvercommit', severity: 'warning' } }), receivedAt);
    expect(clusterWide).toMatchObject({ object: undefined, namespace: undefined, reason: 'KubeCPUOvercommit' });
  });
});

describe('normalise — Kubernetes events', () => {
  const event = (reason: string, kind = 'Pod', name = 'web-1') => ({
    source: 'kubernetes' as const,
    cluster: 'local',
    payload: {
      event: {
        metadata: { uid: 'u-1', name: `${name}.17a`, namespace: 'demo' },
        type: 'Warning',
        reason,
        message: 'Back-off restarting failed container',
        involvedObject: { kind, name, namespace: 'demo' },
        count: 3,
        firstTimestamp: '2026-11-22T09:00:00Z',
        lastTimestamp: '2026-11-22T09:05:00Z',
        source: { component: 'kubelet', host: 'node-a' },
      },
      ownerChain: [
        { kind: 'ReplicaSet', name: 'web-7d9f' },
        { kind: 'Deployment', name: 'web' },
      ],
    },
  });

  it('normalise — an event naming an object of another namespace is refused with the reason (dead-lettered), a Node event of default is not', () => {
    const forged = event('OOMKilling');
    forged.payload.event.metadata.namespace = 'attacker';
    const error = (() => {
      try {
        normalise(forged, receivedAt);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PermanentMessageError);
    expect(error).toMatchObject({ field: 'payload.event.involvedObject.namespace' });
    expect((error as Error).message).toContain('"demo" is not the event\'s own namespace "attacker"');
    const node = event('NodeNotReady', 'Node', 'node-a');
    node.payload.event.metadata.namespace = 'default';
    node.payload.event.involvedObject = { kind: 'Node', name: 'node-a' } as typeof node.payload.event.involvedObject;
    expect(normalise(node, receivedAt)).toMatchObject({ object: { kind: 'Node', name: 'node-a' } });
  });

  it('normalise — a BackOff event becomes a warning on the pod with its owner chain and node', () => {
    const signal = normalise(event('BackOff'), receivedAt);
    expect(signal).toMatchObject({
      source: 'kubernetes',
      namespace: 'demo',
      object: { kind: 'Pod', name: 'web-1' },
      ownerChain: [
        { kind: 'ReplicaSet', name: 'web-7d9f' },
        { kind: 'Deployment', name: 'web' },
      ],
      node: 'node-a',
      severity: 'warning',
      reason: 'BackOff',
      startsAt: '2026-11-22T09:00:00.000Z',
    });
  });

  it('normalise — OOMKilling and NodeNotReady are critical; a repeated event keeps its fingerprint', () => {
    expect(normalise(event('OOMKilling'), receivedAt).severity).toBe('critical');
    expect(normalise(event('NodeNotReady', 'Node', 'node-a'), receivedAt)).toMatchObject({ severity: 'critical', node: 'node-a', object: { kind: 'Node', name: 'node-a' } });
    const again = event('BackOff');
    again.payload.event.count = 9;
    expect(normalise(again, receivedAt).fingerprint).toBe(normalise(event('BackOff'), receivedAt).fingerprint);
  });

  it('normalise — an involved object of another kind is kept in the labels, not as the object', () => {
    const signal = normalise(event('ProvisioningFailed', 'PersistentVolumeClaim', 'data-0'), receivedAt);
    expect(signal.object).toBeUndefined();
    expect(signal.labels).toMatchObject({ 'k8s.involved.kind': 'PersistentVolumeClaim', 'k8s.involved.name': 'data-0' });
  });
});

describe('normalise — hostile text', () => {
  it('normalise — control and bidi-override characters are removed and length is bounded', () => {
    expect(cleanText('a\u0000b\u202ec\u2066d\te\n', 100)).toBe('abcd\te\n');
    expect(cleanText('x'.repeat(10), 4)).toBe('xxxx');
  });
});

describe('pipeline — fingerprint window', () => {
  it('pipeline — the same fingerprint and status inside the window is a duplicate, outside it is not', () => {
    const window = new FingerprintWindow(1000);
    const signal = normalise(alert('firing'), receivedAt);
    expect(window.isDuplicate(signal, 0)).toBe(false);
    window.remember(signal, 0);
    expect(window.isDuplicate(signal, 500)).toBe(true);
    expect(window.isDuplicate(normalise(alert('resolved'), receivedAt), 500)).toBe(false);
    expect(window.isDuplicate(signal, 1500)).toBe(false);
  });
});

describe('pipeline — fingerprint window claims', () => {
  it('pipeline — a claim is exclusive until released (concurrent equal signals publish once)', () => {
    const window = new FingerprintWindow(1000);
    const signal = normalise(alert('firing'), receivedAt);
    expect(window.claim(signal, 0)).toBe(true);
    expect(window.claim(signal, 1)).toBe(false);
    window.release(signal);
    expect(window.claim(signal, 2)).toBe(true);
  });

  it('pipeline — while a claim waits for its publish an equal signal is publishing, not a duplicate; confirmed it is a duplicate', () => {
    const window = new FingerprintWindow(1000);
    const signal = normalise(alert('firing'), receivedAt);
    expect(window.isPublishing(signal)).toBe(false);
    expect(window.claim(signal, 0)).toBe(true);
    expect(window.isPublishing(signal)).toBe(true);
    window.confirm(signal);
    expect(window.isPublishing(signal)).toBe(false);
    expect(window.claim(signal, 1)).toBe(false);
  });

  it('pipeline — a released claim (its publish failed) is neither publishing nor seen: the redelivery publishes it', () => {
    const window = new FingerprintWindow(1000);
    const signal = normalise(alert('firing'), receivedAt);
    expect(window.claim(signal, 0)).toBe(true);
    window.release(signal);
    expect(window.isPublishing(signal)).toBe(false);
    expect(window.claim(signal, 1)).toBe(true);
  });

  it('pipeline — firing, resolved, firing again inside the window: each status change is published (a re-fire)', () => {
    const window = new FingerprintWindow(60_000);
    const firing = normalise(alert('firing'), receivedAt);
    const resolved = normalise(alert('resolved'), receivedAt);
    expect([window.claim(firing, 0), window.claim(resolved, 10), window.claim(firing, 20), window.claim(firing, 30)]).toEqual([true, true, true, false]);
    expect(window.claim(resolved, 40)).toBe(true);
  });
});
