import { createHash } from 'node:crypto';
import { Signal } from '@cortexops/contracts';

function hex(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** Size of every benchmark signal on the wire (the `pad` annotation fills it up). */
export const SIGNAL_BYTES = 1024;

/** Deterministic PRNG (mulberry32), so every phase sees the same workload. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Workload {
  readonly ids: readonly string[];
  readonly bodies: readonly Buffer[];
  readonly subjects: readonly string[];
}

function encode(signal: Signal): Buffer {
  const draft = { ...signal, annotations: { ...signal.annotations, pad: '' } };
  const pad = SIGNAL_BYTES - Buffer.byteLength(JSON.stringify(draft));
  draft.annotations.pad = 'x'.repeat(Math.max(0, pad));
  const parsed = Signal.parse(draft);
  return Buffer.from(JSON.stringify(parsed));
}

/**
 * An alert storm as Alertmanager and the Kubernetes watcher produce it: `groups` Deployments over 10 namespaces,
 * each pod on one of 50 nodes, 4 distinct problems (fingerprints) per Deployment, repeats of the same problems,
 * a fraction resolved (and firing again), and one node going NotReady a third of the way in (its pods then join the
 * node's incident). Event times advance with the offered rate, so the window is real.
 */
export function alertStorm(prefix: string, count: number, rate: number, groups: number, resolvedFraction: number, t0: number): Workload {
  const random = prng(42);
  const ids: string[] = [];
  const bodies: Buffer[] = [];
  const subjects: string[] = [];
  const notReadyAt = Math.floor(count / 3);
  for (let i = 0; i < count; i++) {
    const at = new Date(t0 + Math.floor((i * 1000) / rate)).toISOString();
    const id = `${prefix}-${i}`;
    const g = Math.floor(random() * groups);
    const namespace = `ns${g % 10}`;
    const node = `node-${g % 50}`;
    let signal: Signal;
    if (i === notReadyAt) {
      signal = Signal.parse({ id, source: 'kubernetes', cluster: 'bench', object: { kind: 'Node', name: 'node-7' }, ownerChain: [], severity: 'critical', status: 'firing', title: 'NodeNotReady', reason: 'NodeNotReady', fingerprint: hex('node-7-notready'), startsAt: at, receivedAt: at });
    } else {
      const problem = Math.floor(random() * 4);
      const resolved = random() < resolvedFraction;
      signal = Signal.parse({
        id,
        source: 'alertmanager',
        cluster: 'bench',
        namespace,
        node,
        object: { kind: 'Pod', name: `app${g}-5c6b-${problem}` },
        ownerChain: [
          { kind: 'ReplicaSet', name: `app${g}-5c6b` },
          { kind: 'Deployment', name: `app${g}` },
        ],
        severity: 'warning',
        status: resolved ? 'resolved' : 'firing',
        title: `app${g} problem ${problem}`,
        fingerprint: hex(`app${g}-problem-${problem}`),
        labels: { alertname: `Problem${problem}`, service: `app${g}` },
        startsAt: at,
        receivedAt: at,
      });
    }
    ids.push(id);
    bodies.push(encode(signal));
    subjects.push(`${signal.cluster}.${signal.namespace ?? '_cluster'}`);
  }
  return { ids, bodies, subjects };
}

/** `count` critical signals, each of its own Deployment: each opens an incident and starts a workflow. */
export function incidentOpeners(prefix: string, count: number, t0: number): Workload {
  const ids: string[] = [];
  const bodies: Buffer[] = [];
  const subjects: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = new Date(t0 + i).toISOString();
    const id = `${prefix}-${i}`;
    const signal = Signal.parse({
      id,
      source: 'alertmanager',
      cluster: 'bench',
      namespace: 'starts',
      object: { kind: 'Pod', name: `${prefix}-${i}-0` },
      ownerChain: [{ kind: 'Deployment', name: `${prefix}-${i}` }],
      severity: 'critical',
      status: 'firing',
      title: `crash looping ${i}`,
      fingerprint: hex(`${prefix}-${i}-crash`),
      startsAt: at,
      receivedAt: at,
    });
    ids.push(id);
    bodies.push(encode(signal));
    subjects.push('bench.starts');
  }
  return { ids, bodies, subjects };
}

/** Percentile of sorted values (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
