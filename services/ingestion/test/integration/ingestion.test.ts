import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_TELEMETRY_BYTES, METRICS } from '@cortexops/contracts';
import { ensureServers, natsConnectOptions, natsEnv } from '@cortexops/testkit';
import { connect, DiscardPolicy, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubePrometheusAlerts, webhookBody } from '../../bench/alerts.js';
import { counterValue, deadLetters, deleteStreams, isolatedNames, signals, startInProcess, streamCount, waitFor, type InProcessIngestion } from './support.js';

const names = isolatedNames('ing');
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let ingestion: InProcessIngestion;
/** The stack's NATS as admin (the tests' own stream names): URL, and its credentials and CA once it has accounts. */
let natsVars: Record<string, string>;

const subject = (source: string) => `${names.subjectPrefixes.telemetry}.${source}`;
const publishRaw = (subj: string, body: string | Uint8Array, msgID?: string) => js.publish(subj, typeof body === 'string' ? Buffer.from(body) : body, msgID ? { msgID } : {});

function customEnvelope(overrides: Record<string, unknown> = {}, payload: Record<string, unknown> = {}) {
  return JSON.stringify({
    source: 'custom',
    payload: { title: 'checkout latency high', severity: 'warning', namespace: 'demo', object: { kind: 'Deployment', name: 'checkout' }, key: `k-${Math.random()}`, ...payload },
    ...overrides,
  });
}

async function metricsText(): Promise<string> {
  return (await fetch(`${ingestion.baseUrl}/metrics`)).text();
}


beforeAll(async () => {
  const ctx = await ensureServers(['nats']);
  natsVars = natsEnv(ctx);
  nc = await connect(natsConnectOptions(ctx));
  js = nc.jetstream();
  jsm = await nc.jetstreamManager();
  ingestion = await startInProcess({ ...natsVars, CORTEXOPS_INGESTION_FINGERPRINT_WINDOW_MS: '60000' }, { layout: names, durable: names.durable });
});

afterAll(async () => {
  await ingestion?.handle.shutdown('test done');
  if (jsm) await deleteStreams(jsm, names.streams);
  await nc?.close();
});

describe('ingestion — TELEMETRY to SIGNALS', () => {
  it('ingestion — layout is created idempotently with discard-old limits on TELEMETRY', async () => {
    const info = await jsm.streams.info(names.streams.telemetry);
    expect(info.config.discard).toBe('old');
    expect(info.config.max_msgs).toBe(ingestion.config.telemetryMaxMessages);
    expect(info.config.max_bytes).toBe(ingestion.config.telemetryMaxBytes);
    expect(info.config.subjects).toEqual([`${names.subjectPrefixes.telemetry}.>`]);
    const { ensureJetStreamLayout } = await import('@cortexops/messaging');
    await ensureJetStreamLayout(jsm, { ...names, settings: { telemetryMaxMessages: 777 } });
    expect((await jsm.streams.info(names.streams.telemetry)).config.max_msgs).toBe(777);
  });

  it('ingestion — a custom JSON producer becomes a normalised Signal on SIGNALS', async () => {
    await publishRaw(subject('custom'), customEnvelope({}, { key: 'custom-one', labels: { team: 'payments' }, ownerChain: [{ kind: 'ReplicaSet', name: 'checkout-abc' }] }));
    const found = await waitFor('custom signal', async () => (await signals(nc, names.streams.signals)).find((s) => (s.labels as Record<string, string>).team === 'payments'));
    expect(found).toMatchObject({
      source: 'custom',
      cluster: 'local',
      namespace: 'demo',
      object: { kind: 'Deployment', name: 'checkout' },
      ownerChain: [{ kind: 'ReplicaSet', name: 'checkout-abc' }],
      severity: 'warning',
      status: 'firing',
      title: 'checkout latency high',
    });
    expect(found.fingerprint).toMatch(/^[a-f0-9]{32}$/);
  });

  it('ingestion — equal fingerprints inside the window and equal message ids are published once', async () => {
    const before = await streamCount(jsm, names.streams.signals);
    const body = customEnvelope({}, { key: 'dedup-key', title: 'dedup' });
    // Same Nats-Msg-Id twice: TELEMETRY stores it once.
    const a1 = await publishRaw(subject('custom'), body, 'dup-id-1');
    const a2 = await publishRaw(subject('custom'), body, 'dup-id-1');
    expect(a2.duplicate).toBe(true);
    expect(a2.seq).toBe(a1.seq);
    // Another id, same problem (fingerprint) a moment later: the fingerprint window drops it.
    await publishRaw(subject('custom'), customEnvelope({}, { key: 'dedup-key', title: 'dedup', startsAt: new Date(Date.now() + 1000).toISOString() }), 'dup-id-2');
    await publishRaw(subject('custom'), customEnvelope({}, { key: 'marker', title: 'marker' }));
    await waitFor('marker', async () => (await signals(nc, names.streams.signals)).find((s) => s.title === 'marker'));
    const all = await signals(nc, names.streams.signals);
    expect(all.filter((s) => s.title === 'dedup')).toHaveLength(1);
    expect(await streamCount(jsm, names.streams.signals)).toBe(before + 2);
    expect(counterValue(await metricsText(), METRICS.eventsIngestedTotal, { source: 'custom', outcome: 'duplicate' })).toBeGreaterThanOrEqual(1);
  });

  const badInputs: { name: string; subject: string; body: string | Uint8Array; field: string; reason: RegExp }[] = [
    { name: 'malformed JSON', subject: 'custom', body: '{"source": "custom", "payload": {', field: '(root)', reason: /malformed JSON/ },
    { name: 'a JSON array', subject: 'custom', body: '[1,2,3]', field: '(root)', reason: /JSON object/ },
    { name: 'wrong type', subject: 'custom', body: customEnvelope({}, { severity: 5 }), field: 'payload.severity', reason: /payload\.severity/ },
    { name: 'missing field', subject: 'custom', body: JSON.stringify({ source: 'custom', payload: { severity: 'warning' } }), field: 'payload.title', reason: /payload\.title/ },
    { name: 'missing payload', subject: 'custom', body: JSON.stringify({ source: 'custom' }), field: 'payload', reason: /payload/ },
    { name: 'oversized body', subject: 'custom', body: customEnvelope({}, { title: 'x'.repeat(MAX_TELEMETRY_BYTES + 10) }), field: '(root)', reason: /exceeds the limit/ },
    { name: 'unknown source', subject: 'bogus', body: JSON.stringify({ source: 'bogus', payload: { a: 1 } }), field: 'source', reason: /unknown source/ },
    { name: 'source not matching subject', subject: 'alertmanager', body: customEnvelope(), field: 'source', reason: /does not match/ },
    { name: 'hostile namespace', subject: 'custom', body: customEnvelope({}, { namespace: '../../etc/passwd; rm -rf /' }), field: 'payload.namespace', reason: /DNS-1123/ },
    { name: 'hostile object name', subject: 'custom', body: customEnvelope({}, { object: { kind: 'Pod', name: '<script>alert(1)</script>' } }), field: 'payload.object.name', reason: /DNS-1123/ },
    { name: 'hostile cluster', subject: 'custom', body: customEnvelope({ cluster: 'a.>.*' }), field: 'cluster', reason: /cluster/ },
    {
      // The API server refuses such an event (involvedObject.namespace must match); a producer on NATS is not refused.
      name: 'Kubernetes event naming an object of another namespace',
      subject: 'kubernetes',
      body: JSON.stringify({
        source: 'kubernetes',
        payload: {
          event: { metadata: { uid: 'forged-1', name: 'victim.1', namespace: 'attacker' }, type: 'Warning', reason: 'OOMKilling', message: 'scale payments to 0', involvedObject: { kind: 'Pod', name: 'victim', namespace: 'payments' } },
          ownerChain: [],
        },
      }),
      field: 'payload.event.involvedObject.namespace',
      reason: /"payments" is not the event's own namespace "attacker"/,
    },
    { name: 'invalid UTF-8 bytes', subject: 'custom', body: Uint8Array.from([0xff, 0xfe, 0x00, 0x7b]), field: '(root)', reason: /malformed JSON/ },
    // An Alertmanager group as the webhook stores it, broken as a whole (one bad alert inside is dead-lettered alone).
    { name: 'Alertmanager group without alerts', subject: 'alertmanager', body: JSON.stringify({ source: 'alertmanager', payload: { groupKey: 'g', alerts: [] } }), field: 'payload.alerts', reason: />=1 items/ },
    { name: 'Alertmanager group whose alert is no object', subject: 'alertmanager', body: JSON.stringify({ source: 'alertmanager', payload: { groupKey: 'g', alerts: [{ alert: {} }, 'x'] } }), field: 'payload.alerts[1]', reason: /must be an object/ },
    { name: 'Alertmanager group of 1001 alerts', subject: 'alertmanager', body: JSON.stringify({ source: 'alertmanager', payload: { groupKey: 'g', alerts: Array.from({ length: 1001 }, () => ({})) } }), field: 'payload.alerts', reason: /<=1000 items/ },
  ];

  it.each(badInputs)('ingestion — $name lands in the dead letter with its reason and original bytes', async ({ subject: source, body, field, reason }) => {
    const ack = await publishRaw(subject(source), body);
    const letter = await waitFor('dead letter', async () =>
      (await deadLetters(nc, names.streams.deadLetter)).find((d) => d.subject === subject(source) && Buffer.compare(d.original, Buffer.from(body)) === 0),
    );
    expect(letter.stage).toBe('ingestion');
    expect(letter.field).toBe(field);
    expect(letter.reason).toMatch(reason);
    expect(ack.seq).toBeGreaterThan(0);
  });

  it('ingestion — rejections are counted by source, with hostile subjects under "unknown", and the service stays healthy', async () => {
    const text = await metricsText();
    expect(counterValue(text, METRICS.eventsIngestedTotal, { source: 'custom', outcome: 'rejected' })).toBeGreaterThanOrEqual(9);
    expect(counterValue(text, METRICS.eventsIngestedTotal, { source: 'unknown', outcome: 'rejected' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('bogus');
    const health = await fetch(`${ingestion.baseUrl}/debug/healthz`);
    expect(health.status).toBe(200);
  });

  it('ingestion — control and bidi characters are stripped from accepted text', async () => {
    await publishRaw(subject('custom'), customEnvelope({}, { title: 'evil\u202e\u0007title', key: 'bidi', labels: { note: 'a\u0000b' } }));
    const found = await waitFor('cleaned signal', async () => (await signals(nc, names.streams.signals)).find((s) => s.title === 'eviltitle'));
    expect(found.labels).toMatchObject({ note: 'ab' });
  });

  it('ingestion — the Alertmanager webhook dead-letters a bad body with the reason and answers 400', async () => {
    const rejectedBefore = counterValue(await metricsText(), METRICS.eventsIngestedTotal, { source: 'alertmanager', outcome: 'rejected' });
    const bad = [
      { body: '{not json', field: '(root)' },
      { body: JSON.stringify({ version: '3', groupKey: 'g', status: 'firing', receiver: 'r', alerts: [] }), field: 'version' },
      { body: JSON.stringify({ version: '4', groupKey: 'g', status: 'firing', receiver: 'r', alerts: [] }), field: 'alerts' },
      { body: JSON.stringify({ version: '4', groupKey: 'g', status: 'firing', receiver: 'r', alerts: ['not an alert'] }), field: 'alerts[0]' },
    ];
    for (const { body, field } of bad) {
      const response = await fetch(`${ingestion.baseUrl}/v1/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { field: string }).field).toBe(field);
      const letter = await waitFor('webhook dead letter', async () => (await deadLetters(nc, names.streams.deadLetter)).find((d) => d.stage === 'webhook' && d.original.toString() === body));
      expect(letter.field).toBe(field);
    }
    const empty = await fetch(`${ingestion.baseUrl}/v1/alertmanager`, { method: 'POST' });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { field: string }).field).toBe('(root)');
    expect(counterValue(await metricsText(), METRICS.eventsIngestedTotal, { source: 'alertmanager', outcome: 'rejected' })).toBe(rejectedBefore + 5);
  });

  it('ingestion — each alert of a body is bounded alone: one too large for a TELEMETRY message and one breaking the alert contract are dead-lettered, the others arrive', async () => {
    const startsAt = new Date().toISOString();
    const huge = { status: 'firing', labels: { alertname: 'HugeAlert' }, annotations: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`a${i}`, 'x'.repeat(15_000)])), startsAt };
    const broken = { status: 'firing', labels: { severity: 'critical' }, startsAt: 'yesterday' };
    const good = { status: 'firing', labels: { alertname: 'SplitGoodAlert', namespace: 'demo', deployment: 'checkout' }, startsAt };
    const body = JSON.stringify({ version: '4', groupKey: '{}:{alertname="split"}', status: 'firing', receiver: 'r', alerts: [huge, broken, good] });
    const response = await fetch(`${ingestion.baseUrl}/v1/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 2, messages: 1, deadLettered: 1 });
    await waitFor('the good alert', async () => (await signals(nc, names.streams.signals)).find((s) => s.reason === 'SplitGoodAlert'));
    const letters = await waitFor('two dead letters', async () => {
      const all = await deadLetters(nc, names.streams.deadLetter);
      const hugeLetter = all.find((d) => d.stage === 'webhook' && d.field === 'alerts[0]' && d.reason.includes('per alert'));
      const brokenLetter = all.find((d) => d.stage === 'ingestion' && d.original.toString().includes('"severity":"critical"') && d.original.toString().includes('split'));
      return hugeLetter && brokenLetter ? { hugeLetter, brokenLetter } : undefined;
    });
    expect(letters.hugeLetter.reason).toMatch(/exceeds the limit of \d+ bytes per alert/);
    expect(JSON.parse(letters.hugeLetter.original.toString())).toEqual(huge);
    expect(letters.brokenLetter.field).toBe('payload.alert.labels');
    // Its original is the one-alert TELEMETRY message it stands for: republished, it is read alone.
    expect(JSON.parse(letters.brokenLetter.original.toString())).toMatchObject({ source: 'alertmanager', payload: { groupKey: '{}:{alertname="split"}', alert: broken } });
  });

  it('ingestion — a webhook call that does not fit the bytes in flight is refused unread with 503 (busy) and counted, and the next one is taken', async () => {
    const small = await startInProcess({ ...natsVars, CORTEXOPS_INGESTION_CONSUME: 'false', CORTEXOPS_INGESTION_WEBHOOK_MAX_BYTES: String(64 * 1024), CORTEXOPS_INGESTION_WEBHOOK_BYTES_IN_FLIGHT: String(64 * 1024) }, { layout: names, durable: `${names.durable}_busy` });
    try {
      const post = (body: RequestInit['body']) => fetch(`${small.baseUrl}/v1/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' });
      const alert = JSON.stringify({ version: '4', groupKey: '{}:{alertname="Busy"}', status: 'firing', receiver: 'r', alerts: [{ status: 'firing', labels: { alertname: 'BusyAlert' }, startsAt: new Date().toISOString() }] });
      // A chunked body (no declared length) holds a whole limit's worth of the budget until it ends.
      let finish: () => void = () => undefined;
      const held = post(
        new ReadableStream({
          start: (c) => {
            c.enqueue(Buffer.from(alert.slice(0, 20)));
            finish = () => {
              c.enqueue(Buffer.from(alert.slice(20)));
              c.close();
            };
          },
        }),
      );
      const busy = await waitFor('a busy answer', async () => {
        const response = await post(alert);
        return response.status === 503 ? response : undefined;
      });
      expect(((await busy.json()) as { error: string }).error).toBe('too many webhook bytes in flight');
      finish();
      expect((await held).status).toBe(200);
      expect((await post(alert)).status).toBe(200);
      expect(counterValue(await (await fetch(`${small.baseUrl}/metrics`)).text(), METRICS.webhookRefusedTotal, { reason: 'busy' })).toBeGreaterThanOrEqual(1);
    } finally {
      await small.handle.shutdown('test done');
    }
  });

  it('ingestion — with a token file, a call without the bearer token (or with another) gets 401, is counted and never published or dead-lettered; a rotated file takes over at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cortexops-webhook-token-'));
    const tokenFile = join(dir, 'token');
    const [token, rotated] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const guarded = await startInProcess({ ...natsVars, CORTEXOPS_INGESTION_CONSUME: 'false', CORTEXOPS_INGESTION_WEBHOOK_TOKEN_FILE: tokenFile }, { layout: names, durable: `${names.durable}_guarded` });
    try {
      const alertname = `Forged${randomBytes(4).toString('hex')}`;
      const body = JSON.stringify({ version: '4', groupKey: `{}:{alertname="${alertname}"}`, status: 'firing', receiver: 'r', alerts: [{ status: 'firing', labels: { alertname, severity: 'critical', namespace: 'payments' }, startsAt: new Date().toISOString() }] });
      const post = (authorization?: string) =>
        fetch(`${guarded.baseUrl}/v1/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body });
      const telemetryBefore = await streamCount(jsm, names.streams.telemetry);
      const lettersBefore = (await deadLetters(nc, names.streams.deadLetter)).length;
      const refusals = [await post(), await post(`Bearer ${rotated}`), await post(`Basic ${Buffer.from(`x:${token}`).toString('base64')}`), await post(`Bearer ${token.slice(0, -1)}`)];
      expect(refusals.map((r) => r.status)).toEqual([401, 401, 401, 401]);
      expect(refusals[0]?.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const metrics = await (await fetch(`${guarded.baseUrl}/metrics`)).text();
      expect(counterValue(metrics, METRICS.webhookRefusedTotal, { reason: 'unauthenticated' })).toBe(4);
      expect(await streamCount(jsm, names.streams.telemetry)).toBe(telemetryBefore);
      expect((await deadLetters(nc, names.streams.deadLetter)).length).toBe(lettersBefore);
      expect(guarded.logs()).not.toContain(token);

      expect((await post(`Bearer ${token}`)).status).toBe(200);
      expect(await streamCount(jsm, names.streams.telemetry)).toBe(telemetryBefore + 1);
      // Rotation: the file is rewritten (as a mounted Secret is); the old token stops working without a restart.
      writeFileSync(tokenFile, `${rotated}\n`);
      await waitFor('the rotated token', async () => ((await post(`Bearer ${token}`)).status === 401 ? true : undefined));
      expect((await post(`Bearer ${rotated}`)).status).toBe(200);
    } finally {
      await guarded.handle.shutdown('test done');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ingestion — a webhook-only replica (CORTEXOPS_INGESTION_CONSUME=false) stores alerts on TELEMETRY and consumes nothing', async () => {
    const durable = `${names.durable}_webhook_only`;
    const webhookOnly = await startInProcess({ ...natsVars, CORTEXOPS_INGESTION_CONSUME: 'false' }, { layout: names, durable });
    try {
      const body = JSON.stringify({ version: '4', groupKey: '{}:{alertname="WebhookOnly"}', status: 'firing', receiver: 'r', alerts: [{ status: 'firing', labels: { alertname: 'WebhookOnlyAlert' }, startsAt: new Date().toISOString() }] });
      const response = await fetch(`${webhookOnly.baseUrl}/v1/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(response.status).toBe(200);
      // The test's consuming replica turns it into a signal; the webhook-only one has no consumer of its own.
      await waitFor('the webhook-only replica\'s alert', async () => (await signals(nc, names.streams.signals)).find((s) => s.reason === 'WebhookOnlyAlert'));
      await expect(jsm.consumers.info(names.streams.telemetry, durable)).rejects.toThrow(/consumer not found/);
      expect(webhookOnly.logs()).toContain('webhook-only replica');
    } finally {
      await webhookOnly.handle.shutdown('test done');
    }
  });

  it('ingestion — an Alertmanager body over CORTEXOPS_INGESTION_WEBHOOK_MAX_BYTES is kept whole in the object store and answered 413, with or without a declared length; replayed, its alerts arrive; counted and logged', async () => {
    const limit = 64 * 1024;
    const durable = `${names.durable}_over`;
    const over = await startInProcess(
      { ...natsVars, CORTEXOPS_INGESTION_CONSUME: 'false', CORTEXOPS_INGESTION_WEBHOOK_MAX_BYTES: String(limit) },
      // A small keep cap and store, so that cutting and a full store are shown with bodies of a few hundred KiB.
      { layout: names, durable, oversizedKeepBytes: 256 * 1024, oversizedStoreBytes: 640 * 1024 },
    );
    try {
      const store = await js.views.os(`${durable}_oversized`);
      const post = (body: RequestInit['body'], to = over.baseUrl) => fetch(`${to}/v1/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' });
      const chunked = (text: string) => {
        const parts = [text.slice(0, limit), text.slice(limit, limit + 10_000), text.slice(limit + 10_000)];
        return new ReadableStream({ pull: (c) => (parts.length > 0 ? c.enqueue(Buffer.from(parts.shift() as string)) : c.close()) });
      };
      // Alertmanager's exact webhook body (version 4, max_alerts: 0) for one group of kube-prometheus pod alerts.
      const tag = names.tag.slice(-8);
      const alerts = kubePrometheusAlerts(200, [{ namespace: 'shop', name: 'cart-5d8-x2x' }], tag);
      const body = webhookBody(alerts, `over-${tag}`);
      expect(body.length).toBeGreaterThan(limit);
      expect(body.length).toBeLessThan(256 * 1024);
      const telemetryBefore = await streamCount(jsm, names.streams.telemetry);

      const declared = await post(body);
      expect(declared.status).toBe(413);
      const answer = (await declared.json()) as { error: string; kept: { bucket: string; name: string; bytes: number; truncated: boolean } };
      expect(answer).toMatchObject({ error: `body of ${body.length} bytes exceeds the limit of ${limit} bytes; kept for replay`, kept: { bucket: `${durable}_oversized`, bytes: body.length, truncated: false } });
      // Kept byte for byte; nothing of it published.
      expect(Buffer.from((await store.getBlob(answer.kept.name)) ?? []).toString()).toBe(body);
      expect(await streamCount(jsm, names.streams.telemetry)).toBe(telemetryBefore);
      expect(over.logs()).toContain(`nats object get ${durable}_oversized ${answer.kept.name}`);

      // The same body chunked (no Content-Length: read up to the limit, then streamed on): kept the same way.
      const again = await post(chunked(body));
      expect(again.status).toBe(413);
      const againAnswer = (await again.json()) as typeof answer;
      expect(againAnswer.kept).toMatchObject({ bytes: body.length, truncated: false });
      expect(Buffer.from((await store.getBlob(againAnswer.kept.name)) ?? []).toString()).toBe(body);

      // What the operator does: replay it to a webhook that takes it (here the test's replica, 16 MiB): every alert arrives.
      const replayed = await post(Buffer.from((await store.getBlob(answer.kept.name)) ?? []), ingestion.baseUrl);
      expect(replayed.status).toBe(200);
      await waitFor('the replayed alerts as signals', async () => ((await signals(nc, names.streams.signals)).filter((s) => (s.labels as Record<string, string>).bench === tag).length === 200 ? true : undefined), 60_000);

      // Over the keep cap: its first 256 KiB kept, the rest read and discarded, said so.
      const big = webhookBody(kubePrometheusAlerts(900, [{ namespace: 'shop', name: 'cart-5d8-x2x' }], `${tag}b`), `big-${tag}`);
      const cut = await post(chunked(big));
      expect(cut.status).toBe(413);
      const cutAnswer = (await cut.json()) as typeof answer;
      expect(cutAnswer.kept).toMatchObject({ bytes: 256 * 1024, truncated: true });
      expect(Buffer.from((await store.getBlob(cutAnswer.kept.name)) ?? []).toString()).toBe(big.slice(0, 256 * 1024));

      // The store is full (640 KiB: two bodies of 154 KiB and a cut one): another body is not kept — 503, so Alertmanager retries it.
      const third = await post(webhookBody(kubePrometheusAlerts(600, [{ namespace: 'shop', name: 'cart-5d8-x2x' }], `${tag}c`), `third-${tag}`));
      expect(third.status).toBe(503);
      expect(third.headers.get('retry-after')).toBe('10');
      expect((await store.list()).length).toBe(3);

      const text = await (await fetch(`${over.baseUrl}/metrics`)).text();
      expect(counterValue(text, METRICS.webhookRefusedTotal, { reason: 'too_large' })).toBe(4);
      expect([counterValue(text, METRICS.webhookOversizedTotal, { outcome: 'kept' }), counterValue(text, METRICS.webhookOversizedTotal, { outcome: 'truncated' }), counterValue(text, METRICS.webhookOversizedTotal, { outcome: 'unkept' })]).toEqual([2, 1, 1]);
      expect(over.logs()).toContain('could not be kept');
      expect((await fetch(`${over.baseUrl}/debug/healthz`)).status).toBe(200);
    } finally {
      await over.handle.shutdown('test done');
    }
  });

  it('ingestion — every message is acked once handled (stored, duplicate or dead-lettered); nothing stays pending', async () => {
    await js.publish(subject('custom'), Buffer.from(customEnvelope({}, { key: 'last', title: 'last' })));
    await waitFor('last', async () => (await signals(nc, names.streams.signals)).find((s) => s.title === 'last'));
    const info = await waitFor('all acked', async () => {
      const ci = await jsm.consumers.info(names.streams.telemetry, names.durable);
      return ci.num_ack_pending === 0 && ci.num_pending === 0 ? ci : undefined;
    });
    expect(info.num_redelivered).toBe(0);
  });
});

describe('ingestion — a group of alerts is acked only once SIGNALS stored every one', () => {
  it('ingestion — a group whose signals SIGNALS refuses in part is never acked as handled: redelivered until SIGNALS takes them, then each alert is stored once', async () => {
    const part = isolatedNames('part');
    const replica = await startInProcess({ ...natsVars, CORTEXOPS_JS_NAK_DELAY_MS: '200', CORTEXOPS_JS_MAX_DELIVER: '1000' }, { layout: part, durable: part.durable });
    try {
      // For now SIGNALS takes two signals and refuses more (its limit, discard new): four alerts of six are refused.
      const { config } = await jsm.streams.info(part.streams.signals);
      await jsm.streams.update(part.streams.signals, { ...config, max_msgs: 2, discard: DiscardPolicy.New });
      const startsAt = new Date().toISOString();
      const alerts = [1, 2, 3, 4, 5, 6].map((i) => ({ status: 'firing', labels: { alertname: 'PartAlert', namespace: 'part', deployment: `d${i}` }, startsAt }));
      const body = JSON.stringify({ version: '4', groupKey: '{}:{alertname="PartAlert"}', status: 'firing', receiver: 'r', alerts });
      const response = await fetch(`${replica.baseUrl}/v1/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(await response.json()).toEqual({ accepted: 6, messages: 1, deadLettered: 0 });
      const retried = async () => counterValue(await (await fetch(`${replica.baseUrl}/metrics`)).text(), METRICS.eventsIngestedTotal, { source: 'alertmanager', outcome: 'retried' });
      // Delivered again and again: each time the two stored are duplicates and the four refused are retried.
      await waitFor('the group redelivered twice', async () => ((await retried()) >= 8 ? true : undefined));
      expect(await streamCount(jsm, part.streams.signals)).toBe(2);
      // Never acked meanwhile (a handler that settled for what it stored would have acked it at the first delivery).
      expect((await jsm.consumers.info(part.streams.telemetry, part.durable)).ack_floor.stream_seq).toBe(0);

      // SIGNALS takes them again: the next delivery stores the four, and the message is acked.
      await jsm.streams.update(part.streams.signals, config);
      const stored = await waitFor('six signals', async () => {
        const all = await signals(nc, part.streams.signals);
        return all.length >= 6 ? all : undefined;
      });
      expect(stored).toHaveLength(6);
      expect(new Set(stored.map((s) => s.fingerprint)).size).toBe(6);
      await waitFor('the group acked', async () => ((await jsm.consumers.info(part.streams.telemetry, part.durable)).ack_floor.stream_seq === 1 ? true : undefined));
      expect(await deadLetters(nc, part.streams.deadLetter)).toEqual([]);
    } finally {
      await replica.handle.shutdown('test done');
      await deleteStreams(jsm, part.streams);
    }
  });
});

describe('ingestion — TELEMETRY limits', () => {
  it('ingestion — under its message limit TELEMETRY drops the oldest telemetry and the drops are counted', async () => {
    const small = isolatedNames('drop');
    const jsmLocal = jsm;
    const { ensureJetStreamLayout } = await import('@cortexops/messaging');
    await ensureJetStreamLayout(jsmLocal, { ...small, settings: { telemetryMaxMessages: 5 } });
    for (let i = 0; i < 20; i++) {
      await js.publish(`${small.subjectPrefixes.telemetry}.custom`, Buffer.from(customEnvelope({}, { key: `drop-${i}`, title: `drop ${i}` })));
    }
    const tinfo = await jsmLocal.streams.info(small.streams.telemetry);
    expect(tinfo.state.messages).toBe(5);
    expect(tinfo.state.first_seq).toBe(16);
    const second = await startInProcess({ ...natsVars, CORTEXOPS_TELEMETRY_MAX_MESSAGES: '5' }, { layout: small, durable: small.durable });
    try {
      const got = await waitFor('five signals', async () => {
        const s = await signals(nc, small.streams.signals);
        return s.length >= 5 ? s : undefined;
      });
      expect(got.map((s) => s.title).sort()).toEqual(['drop 15', 'drop 16', 'drop 17', 'drop 18', 'drop 19']);
      const text = await (await fetch(`${second.baseUrl}/metrics`)).text();
      expect(text).toMatch(new RegExp(`^${METRICS.telemetryDroppedTotal}\\{[^}]*\\} 15$`, 'm'));
    } finally {
      await second.handle.shutdown('test done');
      await deleteStreams(jsmLocal, small.streams);
    }
  });

  it('ingestion — two replicas on one durable consumer count what TELEMETRY discarded unread once between them, never each other\'s messages', async () => {
    const shared = isolatedNames('two');
    const { ensureJetStreamLayout } = await import('@cortexops/messaging');
    // One message per pull: the two replicas take turns, so each sees gaps in the stream sequence that the other filled.
    const env = { ...natsVars, CORTEXOPS_JS_BATCH_SIZE: '1', CORTEXOPS_JS_CONCURRENCY: '1' };
    const startBoth = async (extra: Record<string, string> = {}) => [await startInProcess({ ...env, ...extra }, { layout: shared, durable: shared.durable }), await startInProcess({ ...env, ...extra }, { layout: shared, durable: shared.durable })];
    const metricOf = async (replica: InProcessIngestion, name: string, labels: Record<string, string> = {}) => counterValue(await (await fetch(`${replica.baseUrl}/metrics`)).text(), name, labels);
    const droppedSum = async (replicas: InProcessIngestion[]) => (await Promise.all(replicas.map((r) => metricOf(r, METRICS.telemetryDroppedTotal)))).reduce((a, b) => a + b, 0);
    let replicas = await startBoth();
    try {
      for (let i = 0; i < 60; i++) await js.publish(`${shared.subjectPrefixes.telemetry}.custom`, Buffer.from(customEnvelope({}, { key: `two-${i}`, title: `two ${i}` })));
      const accepted = await waitFor('60 signals accepted', async () => {
        const counts = await Promise.all(replicas.map((r) => metricOf(r, METRICS.eventsIngestedTotal, { source: 'custom', outcome: 'accepted' })));
        return counts.reduce((a, b) => a + b, 0) >= 60 ? counts : undefined;
      });
      // Both replicas took part (else this would test one replica only).
      expect(accepted.every((n) => n > 0)).toBe(true);
      expect(await streamCount(jsm, shared.streams.signals)).toBe(60);
      expect(await droppedSum(replicas)).toBe(0);

      // Both stop; TELEMETRY keeps only 5 of the next 20: 15 are discarded unread.
      for (const r of replicas) await r.handle.shutdown('test: stop both');
      await ensureJetStreamLayout(jsm, { ...shared, settings: { telemetryMaxMessages: 5 } });
      for (let i = 0; i < 20; i++) await js.publish(`${shared.subjectPrefixes.telemetry}.custom`, Buffer.from(customEnvelope({}, { key: `gone-${i}`, title: `gone ${i}` })));
      replicas = await startBoth({ CORTEXOPS_TELEMETRY_MAX_MESSAGES: '5' });
      await waitFor('65 signals', async () => ((await streamCount(jsm, shared.streams.signals)) >= 65 ? true : undefined));
      await waitFor('15 drops counted', async () => ((await droppedSum(replicas)) >= 15 ? true : undefined));
      expect(await droppedSum(replicas)).toBe(15);
    } finally {
      for (const r of replicas) await r.handle.shutdown('test done');
      await deleteStreams(jsm, shared.streams);
    }
  });
});
