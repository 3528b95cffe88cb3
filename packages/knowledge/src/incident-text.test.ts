import { describe, expect, it } from 'vitest';
import { MAX_EMBED_CHARS } from './embedder.js';
import { MAX_INCIDENT_LINES, embedIncidents, incidentLines, incidentText, withoutVolatileIds } from './incident-text.js';
import type { Embedder } from './embedder.js';

describe('incident text — what is embedded', () => {
  it('volatile ids out: pod hash suffixes, UIDs, IPs with ports, timestamps, long numbers; names and reasons stay', () => {
    expect(withoutVolatileIds('pod/cart-6f9c8d7b5-m4kzp in pod cart-6f9c8d7b5-m4kzp_shop(5b1f2c7e-8a1d-4c55-9d0b-7f1e2a3b4c5d)')).toBe('pod/cart in pod cart_shop()');
    expect(withoutVolatileIds('dial tcp 10.1.4.9:6379: connect: connection refused')).toBe('dial tcp : connect: connection refused');
    expect(withoutVolatileIds('since 2026-11-04T03:12:44Z killed process 48213')).toBe('since killed process ');
    expect(withoutVolatileIds('statefulset session-store-0 on kwok-node-1, deployment api-gateway')).toBe('statefulset session-store-0 on kwok-node-1, deployment api-gateway');
  });

  it('reasons read as words: CamelCase and acronyms split', () => {
    expect(withoutVolatileIds('ImagePullBackOff OOMKilled KubePodCrashLooping')).toBe('Image Pull Back Off OOM Killed Kube Pod Crash Looping');
  });

  it('lines — title, signals, diagnosis; empty lines dropped; at most 12 lines, each bounded', () => {
    expect(incidentLines({ title: 'BackOff', signals: ['  ', 'event one'], diagnosis: 'rule crash-loop' })).toEqual(['Back Off', 'event one', 'rule crash-loop']);
    const hostile = incidentLines({ title: 'x'.repeat(100_000), signals: Array.from({ length: 50 }, (_, i) => `signal ${i}`) });
    expect(hostile).toHaveLength(MAX_INCIDENT_LINES);
    expect(incidentText({ title: 'x'.repeat(100_000), signals: ['y'.repeat(100_000)] }).length).toBeLessThanOrEqual(MAX_EMBED_CHARS);
  });

  it('embedIncidents — one embed call for every line, the mean per incident at unit length, in order', async () => {
    const calls: string[][] = [];
    // A real Embedder over a fixed vocabulary: one dimension per word it knows.
    const words = ['oom', 'disk', 'node'];
    const embedder: Embedder = {
      id: 'words',
      dimension: 3,
      embed: async (texts) => {
        calls.push([...texts]);
        return texts.map((t) => Float32Array.from(words.map((w) => (t.toLowerCase().includes(w) ? 1 : 0.001))));
      },
      close: async () => {},
    };
    const [a, b] = await embedIncidents(embedder, [
      { title: 'oom', signals: ['disk'] },
      { title: '', signals: [] },
    ]);
    expect(calls).toEqual([['oom', 'disk', '(no text)']]);
    expect(a?.[0]).toBeCloseTo(a?.[1] ?? 0, 5);
    expect(Math.hypot(...(a ?? []))).toBeCloseTo(1, 5);
    expect(Math.hypot(...(b ?? []))).toBeCloseTo(1, 5);
  });
});
