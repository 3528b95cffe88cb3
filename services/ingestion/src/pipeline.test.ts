import { PermanentMessageError, resolveJetStreamLayout } from '@cortexops/messaging';
import { describe, expect, it } from 'vitest';
import { toSignals } from './pipeline.js';

const layout = resolveJetStreamLayout();
const RECEIVED = '2026-03-01T00:00:00.000Z';
const envelope = (extra: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ source: 'custom', payload: { title: 'probe failed', reason: 'Probe', severity: 'warning', namespace: 'shop', object: { kind: 'Pod', name: 'cart-1' } }, ...extra }));

/** The one signal of a single-signal message. */
function toSignal(...args: Parameters<typeof toSignals>) {
  const { signals, refused } = toSignals(...args);
  expect(refused).toEqual([]);
  expect(signals).toHaveLength(1);
  return signals[0] as (typeof signals)[number];
}

function refusal(data: Uint8Array): PermanentMessageError {
  try {
    toSignal(layout, 'telemetry.custom', data, 'prod-eu', RECEIVED);
  } catch (error) {
    if (error instanceof PermanentMessageError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('ingestion — the cluster comes from configuration, not from the producer', () => {
  it('cluster — an envelope without one gets the configured cluster; its signal subject is that cluster’s', () => {
    const signal = toSignal(layout, 'telemetry.custom', envelope({}), 'prod-eu', RECEIVED);
    expect(signal.cluster).toBe('prod-eu');
    expect(layout.signalSubject(signal.cluster, signal.namespace)).toBe('signals.prod-eu.shop');
  });

  it('cluster — naming the configured cluster is accepted as is', () => {
    expect(toSignal(layout, 'telemetry.custom', envelope({ cluster: 'prod-eu' }), 'prod-eu', RECEIVED).cluster).toBe('prod-eu');
  });

  it.each([
    ['another cluster', 'prod-us'],
    ['a value that would widen a subject', 'a.>'],
    ['an empty string', ''],
    ['a number', 7],
    ['null', null],
  ])('cluster — %s is refused (dead letter, field cluster) and never overrides the configured one', (_what, value) => {
    const error = refusal(envelope({ cluster: value }));
    expect(error.field).toBe('cluster');
    expect(error.reason).toContain('"prod-eu"');
  });
});
