import { AlertmanagerGroupTelemetry, MAX_TELEMETRY_BYTES, TelemetryEnvelope } from '@cortexops/contracts';
import { describe, expect, it } from 'vitest';
import { sliceAlerts, type SlicedAlert } from './alert-slices.js';

const group = { groupKey: '{}:{namespace="shop"}', receiver: 'cortexops' };

/** The i-th alert, its JSON padded to about `size` bytes. */
function alert(i: number, size = 200): SlicedAlert {
  const base = { alert: { status: 'firing', labels: { alertname: 'KubePodCrashLooping', pod: `cart-${i}` }, annotations: { description: '' }, startsAt: '2026-11-30T10:00:00Z' } };
  const padding = Math.max(0, size - JSON.stringify(base).length);
  const json = JSON.stringify({ ...base, alert: { ...base.alert, annotations: { description: 'x'.repeat(padding) } } });
  return { index: i, json, identity: JSON.stringify([`fp-${i}`, 'firing', '2026-11-30T10:00:00Z', '']) };
}

/** The alerts of a message, as the consumer reads them. */
function alertsOf(data: Uint8Array): Record<string, unknown>[] {
  const envelope = TelemetryEnvelope.parse(JSON.parse(Buffer.from(data).toString('utf8')));
  expect(envelope).toMatchObject({ source: 'alertmanager', cluster: 'prod-eu' });
  const payload = AlertmanagerGroupTelemetry.parse(envelope.payload);
  expect(payload).toMatchObject(group);
  return payload.alerts;
}

describe('webhook — a group’s alerts packed into bounded TELEMETRY messages', () => {
  it('slices — every alert once, in order, each message within the byte and alert limits and a valid group envelope', () => {
    const alerts = Array.from({ length: 2_500 }, (_, i) => alert(i, 100 + (i % 7) * 300));
    const { messages, tooLarge } = sliceAlerts(group, 'prod-eu', 'telemetry.alertmanager', alerts, { maxBytes: 64 * 1024, maxAlerts: 150 });
    expect(tooLarge).toEqual([]);
    expect(messages.length).toBeGreaterThan(2_500 / 150);
    const read = messages.flatMap((m) => {
      expect(m.data.length).toBeLessThanOrEqual(64 * 1024);
      expect(m.subject).toBe('telemetry.alertmanager');
      const inMessage = alertsOf(m.data);
      expect(inMessage.length).toBeLessThanOrEqual(150);
      return inMessage;
    });
    expect(read).toEqual(alerts.map((a) => JSON.parse(a.json) as unknown));
  });

  it('slices — the default limits: 100 alerts of 800 bytes are one message, 10,000 are messages of at most MAX_TELEMETRY_BYTES', () => {
    expect(sliceAlerts(group, 'prod-eu', 's', Array.from({ length: 100 }, (_, i) => alert(i, 800))).messages).toHaveLength(1);
    const large = sliceAlerts(group, 'prod-eu', 's', Array.from({ length: 10_000 }, (_, i) => alert(i, 800)));
    expect(large.messages.every((m) => m.data.length <= MAX_TELEMETRY_BYTES)).toBe(true);
    expect(large.messages.reduce((n, m) => n + alertsOf(m.data).length, 0)).toBe(10_000);
    expect(large.messages.length).toBeLessThan(40);
  });

  it('slices — the same call packed again gives the same message ids; another group or another alert, other ids', () => {
    const alerts = Array.from({ length: 300 }, (_, i) => alert(i, 500));
    const ids = (g = group, a = alerts) => sliceAlerts(g, 'prod-eu', 's', a, { maxBytes: 32 * 1024, maxAlerts: 1000 }).messages.map((m) => m.msgId);
    const first = ids();
    expect(new Set(first).size).toBe(first.length);
    expect(ids()).toEqual(first);
    expect(ids({ ...group, groupKey: '{}:{namespace="other"}' }).some((id) => first.includes(id))).toBe(false);
    expect(ids(group, [alert(999, 500), ...alerts.slice(1)])[0]).not.toBe(first[0]);
  });

  it('slices — an alert too large even alone is reported with its size, never packed; its neighbours are', () => {
    const alerts = [alert(0), alert(1, 5_000), alert(2)];
    const { messages, tooLarge } = sliceAlerts(group, 'prod-eu', 's', alerts, { maxBytes: 4_096, maxAlerts: 1000 });
    expect(tooLarge.map((t) => t.alert.index)).toEqual([1]);
    expect(tooLarge[0]?.bytes).toBeGreaterThan(4_096);
    expect(tooLarge[0]?.limit).toBe(4_096);
    expect(messages.flatMap((m) => alertsOf(m.data))).toEqual([JSON.parse(alerts[0]!.json) as unknown, JSON.parse(alerts[2]!.json) as unknown]);
  });

  it('slices — hostile group keys, receivers and cluster names stay JSON strings; no alerts, no messages', () => {
    const hostile = { groupKey: '"},"source":"custom","x":{"', receiver: '\u2028</script>\\' };
    const { messages } = sliceAlerts(hostile, 'a"b', 's', [alert(0)]);
    const envelope: unknown = JSON.parse(Buffer.from(messages[0]!.data).toString('utf8'));
    expect(envelope).toMatchObject({ source: 'alertmanager', cluster: 'a"b', payload: hostile });
    expect(sliceAlerts(group, 'prod-eu', 's', []).messages).toEqual([]);
  });
});
