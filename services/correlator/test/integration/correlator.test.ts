import { REMEDIATION_NOTICE_TOKEN, type RemediationNotice, STREAMS } from '@cortexops/contracts';
import { decodeDeadLetter, publishWithId } from '@cortexops/messaging';
import type { Client } from '@temporalio/client';
import type { JetStreamClient, NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupingOf, incidentIdOf } from '../../src/engine.js';
import type { GroupStore } from '../../src/store.js';
import { type CorrelatorHarness, incidentOf, type InProcessCorrelator, isolatedNames, makeSignal, publishSignal, startHarness, T0, waitFor, workflowRecord } from './support.js';

const names = isolatedNames('corrules');
const MINUTE = 60_000;
let nc: NatsConnection;
let js: JetStreamClient;
let client: Client;
let correlator: InProcessCorrelator;
let store: GroupStore;
let harness: CorrelatorHarness | undefined;

beforeAll(async () => {
  harness = await startHarness(names, {
    CORTEXOPS_CORRELATOR_WINDOW_MS: String(5 * MINUTE),
    CORTEXOPS_CORRELATOR_MIN_SIGNALS: '3',
    CORTEXOPS_CORRELATOR_FLAP_WINDOW_MS: String(10 * MINUTE),
    CORTEXOPS_CORRELATOR_COOLDOWN_MS: String(30 * MINUTE),
    CORTEXOPS_CORRELATOR_RECURRENCE_WINDOW_MS: String(24 * 60 * MINUTE),
    // Only Kubernetes-event incidents resolve by quiet (the tick then runs every second); no other test sends events.
    CORTEXOPS_CORRELATOR_EVENT_QUIET_MS: '1000',
  });
  ({ nc, js, client, correlator, store } = harness);
}, 120_000);

afterAll(async () => {
  await harness?.close();
});

/** Publishes signals one after another and waits until the correlator has decided on each. */
const feed = (...signals: ReturnType<typeof makeSignal>[]) => harness!.feed(...signals);

async function workflowExists(incidentId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(`incident-${incidentId}`).describe();
    return true;
  } catch {
    return false;
  }
}

describe('correlator — an incident whose workflow ended (real NATS and Temporal)', () => {
  it('ended workflow — the problem going on after its workflow closed is held, then opens a new incident with a new workflow', async () => {
    const pay = (key: string, atMs: number) =>
      makeSignal(key, { namespace: 'ended', severity: 'critical', object: { kind: 'Pod', name: 'pay-7f-1' }, ownerChain: [{ kind: 'ReplicaSet', name: 'pay-7f' }, { kind: 'Deployment', name: 'pay' }], atMs });
    const [opened] = await feed(pay('ended-a', T0));
    expect(opened?.kind).toBe('open');
    const first = incidentOf(opened!)!;
    await waitFor('the first workflow', async () => ((await workflowExists(first.id)) ? true : undefined));
    // The workflow closes without the problem resolving (an approval that expired, a rejection, a denial).
    await client.workflow.getHandle(`incident-${first.id}`).terminate('test: nobody decided in time');

    const [late] = await feed(pay('ended-b', T0 + MINUTE));
    expect(late?.kind).toBe('attach');
    expect((await store.read(groupingOf(pay('any', T0)).key)).state).toMatchObject({ status: 'ended', endedAtMs: T0 + MINUTE });
    expect(correlator.logs()).toContain("incident's workflow has ended while the problem goes on");

    const [held] = await feed(pay('ended-c', T0 + 2 * MINUTE));
    expect(held).toEqual({ kind: 'held', reopensAtMs: T0 + MINUTE + 10 * MINUTE });
    const [again] = await feed(pay('ended-d', T0 + 12 * MINUTE));
    expect(again?.kind).toBe('open');
    const second = incidentOf(again!)!;
    expect(second.id).not.toBe(first.id);
    await waitFor('the new incident’s workflow', async () => ((await workflowExists(second.id)) ? true : undefined));
    expect((await workflowRecord(client, second.id)).input.incident.target).toEqual({ kind: 'Deployment', namespace: 'ended', name: 'pay' });
  });
});

describe('correlator — liveness of a deduplicated incident’s workflow (real NATS and Temporal)', () => {
  it('liveness — repeats of a firing problem reach its closed workflow within a tenth of REOPEN_AFTER: the group goes the ended way (held), not deduplicated forever', async () => {
    const cart = (atMs: number) => makeSignal('liveness-a', { namespace: 'liveness', severity: 'critical', object: { kind: 'Pod', name: 'cart-9c-1' }, ownerChain: [{ kind: 'Deployment', name: 'cart' }], atMs });
    const key = groupingOf(cart(T0)).key;
    const [opened] = await feed(cart(T0));
    expect(opened?.kind).toBe('open');
    const incident = incidentOf(opened!)!;
    await waitFor('the workflow', async () => ((await workflowExists(incident.id)) ? true : undefined));
    await client.workflow.getHandle(`incident-${incident.id}`).terminate('test: the approval expired');

    // Inside the liveness interval (REOPEN_AFTER 10 min → 60 s) a repeat is only recorded: nothing written, no call.
    const [quiet] = await feed(cart(T0 + 30_000));
    expect(quiet).toMatchObject({ kind: 'deduplicated', incident: { id: incident.id } });
    expect(quiet).not.toHaveProperty('probe');
    expect((await store.read(key)).state?.status).toBe('open');
    // Past it the repeat is delivered, finds the workflow closed, and the group is ended.
    const [probe] = await feed(cart(T0 + 2 * MINUTE));
    expect(probe).toMatchObject({ kind: 'deduplicated', probe: true, incident: { id: incident.id } });
    expect((await store.read(key)).state).toMatchObject({ status: 'ended', endedAtMs: T0 + 2 * MINUTE });
    const [held] = await feed(cart(T0 + 3 * MINUTE));
    expect(held).toEqual({ kind: 'held', reopensAtMs: T0 + 12 * MINUTE });
    const counted = (await correlator.handle.context.metrics.correlatorDecisions.get()).values.find((v) => v.labels.decision === 'deduplicated' && v.labels.workflow === 'already_closed');
    expect(counted?.value).toBeGreaterThanOrEqual(1);
  });
});

describe('correlator — grouping does not depend on the owner lookup (real NATS and Temporal)', () => {
  it('owner lookup race — a firing alert grouped as its Pod (lookup timed out) is closed by its resolved alert naming the Deployment; a repeat naming the Deployment opens nothing', async () => {
    const alert = (status: 'firing' | 'resolved', ownerChain: { kind: 'ReplicaSet' | 'Deployment'; name: string }[], atMs: number) =>
      makeSignal('race-crashloop', { source: 'alertmanager', namespace: 'race', reason: 'KubePodCrashLooping', status, object: { kind: 'Pod', name: 'search-6f-1' }, ownerChain, atMs });
    const owners = [
      { kind: 'ReplicaSet' as const, name: 'search-6f' },
      { kind: 'Deployment' as const, name: 'search' },
    ];
    const [opened] = await feed(alert('firing', [], T0));
    expect(opened).toMatchObject({ kind: 'open', incident: { target: { kind: 'Pod', namespace: 'race', name: 'search-6f-1' } } });
    const incident = incidentOf(opened!)!;
    const [repeat, resolved] = await feed(alert('firing', owners, T0 + 1000), alert('resolved', owners, T0 + 2000));
    expect(repeat).toMatchObject({ kind: 'deduplicated', incident: { id: incident.id } });
    expect(resolved).toMatchObject({ kind: 'resolve', incident: { id: incident.id, status: 'resolved' } });
    const record = await waitFor('the resolved signal on the Pod incident’s workflow', async () => {
      const r = await workflowRecord(client, incident.id);
      return r.signals.some((s) => s.status === 'resolved') ? r : undefined;
    });
    expect(record.runs).toBe(1);
    // Nothing was opened or stored for the Deployment.
    const deployment = groupingOf(alert('firing', owners, T0)).key;
    expect(deployment).not.toBe(groupingOf(alert('firing', [], T0)).key);
    expect((await store.read(deployment)).state).toBeUndefined();
  });
});

describe('correlator — grouping and thresholds (real NATS and Temporal)', () => {
  it('ownership — pods of one Deployment open one incident at the threshold; the workflow starts then, later signals arrive as signals', async () => {
    const ns = 'own';
    const pod = (i: number, key: string) => makeSignal(key, { namespace: ns, object: { kind: 'Pod', name: `api-5c6b-${i}` }, ownerChain: [{ kind: 'ReplicaSet', name: 'api-5c6b' }, { kind: 'Deployment', name: 'api' }] });
    const [d1, d2] = await feed(pod(1, 'own-a'), pod(2, 'own-b'));
    expect([d1!.kind, d2!.kind]).toEqual(['pending', 'pending']);
    const key = groupingOf(pod(0, 'x')).key;
    expect(await workflowExists(incidentIdOf(key, T0))).toBe(false);

    const [d3, d4] = await feed(pod(3, 'own-c'), pod(4, 'own-d'));
    expect(d3!.kind).toBe('open');
    const incident = incidentOf(d3!)!;
    expect(incident.id).toBe(incidentIdOf(key, T0));
    expect(incident.target).toEqual({ kind: 'Deployment', namespace: ns, name: 'api' });
    expect(d4).toMatchObject({ kind: 'attach', incident: { id: incident.id } });
    const record = await waitFor('two signals on the workflow', async () => {
      const r = await workflowRecord(client, incident.id);
      return r.signals.length === 2 ? r : undefined;
    });
    expect(record.input.incident.signalIds).toHaveLength(3);
    expect(record.runs).toBe(1);
  });

  it('service — signals without an object group by their service label; one critical opens at once', async () => {
    const svc = (key: string, severity: 'warning' | 'critical') => makeSignal(key, { namespace: 'svc', object: undefined, ownerChain: [], labels: { service: 'checkout' }, severity });
    const [a, b] = await feed(svc('svc-a', 'warning'), svc('svc-b', 'critical'));
    expect(a!.kind).toBe('pending');
    expect(b).toMatchObject({ kind: 'open', incident: { target: { kind: 'Service', namespace: 'svc', name: 'checkout' }, signalIds: expect.any(Array) as unknown } });
    expect((await workflowRecord(client, incidentOf(b!)!.id)).input.incident.signalIds).toHaveLength(2);
  });

  it('alerts — one warning alert from Alertmanager opens an incident and starts its workflow; an alert naming no object opens on its alert group, not the dead letter', async () => {
    const [warning] = await feed(makeSignal('am-warning', { source: 'alertmanager', namespace: 'am', severity: 'warning', reason: 'KubePodCrashLooping', object: { kind: 'Pod', name: 'cart-5d8-x2x' }, ownerChain: [{ kind: 'Deployment', name: 'cart' }] }));
    expect(warning).toMatchObject({ kind: 'open', incident: { severity: 'warning', target: { kind: 'Deployment', namespace: 'am', name: 'cart' } } });
    expect((await workflowRecord(client, incidentOf(warning!)!.id)).runs).toBe(1);
    const quota = makeSignal('am-quota', { source: 'alertmanager', namespace: 'am', severity: 'warning', reason: 'KubeQuotaExceeded', object: undefined, ownerChain: [], labels: { alertname: 'KubeQuotaExceeded', job: 'kube-state-metrics' } });
    const [grouped] = await feed(quota);
    expect(grouped).toMatchObject({ kind: 'open', incident: { target: { kind: 'Service', namespace: 'am', name: 'alert-kube-quota-exceeded' } } });
    // Decisions are counted as decisions; cortexops_workflows_total is the worker's (workflows that ended).
    const { metrics } = correlator.handle.context;
    const opened = (await metrics.correlatorDecisions.get()).values.find((v) => v.labels.decision === 'open' && v.labels.workflow === 'delivered');
    expect(opened?.value).toBeGreaterThanOrEqual(2);
    expect((await metrics.workflows.get()).values).toEqual([]);
  });

  it('topology — a NotReady node is the root cause; its pods of different Deployments join its incident, none opens its own', async () => {
    const nodeSignal = makeSignal('node-1-notready', { namespace: undefined, object: { kind: 'Node', name: 'node-1' }, ownerChain: [], severity: 'critical', reason: 'NodeNotReady' });
    const [opened] = await feed(nodeSignal);
    expect(opened).toMatchObject({ kind: 'open', incident: { target: { kind: 'Node', name: 'node-1' }, rootCause: { kind: 'Node', name: 'node-1' } } });
    const pods = ['cart', 'search', 'auth'].map((d) =>
      makeSignal(`topo-${d}`, { namespace: 'topo', node: 'node-1', severity: 'critical', object: { kind: 'Pod', name: `${d}-1` }, ownerChain: [{ kind: 'ReplicaSet', name: `${d}-rs` }, { kind: 'Deployment', name: d }] }),
    );
    const attached = await feed(...pods);
    const nodeIncident = incidentOf(opened!)!;
    for (const d of attached) expect(d).toMatchObject({ kind: 'attach', incident: { id: nodeIncident.id, rootCause: { kind: 'Node', name: 'node-1' } } });
    for (const d of ['cart', 'search', 'auth']) {
      expect(await workflowExists(incidentIdOf(`workload/test/topo/Deployment/${d}`, T0))).toBe(false);
    }
    const record = await waitFor('pod signals on the node workflow', async () => {
      const r = await workflowRecord(client, nodeIncident.id);
      return r.signals.length === 4 ? r : undefined;
    });
    expect(record.signals.slice(1).map((s) => s.object?.name)).toEqual(['cart-1', 'search-1', 'auth-1']);
  });
});

describe('correlator — flapping, resolve and replays', () => {
  it('flapping — an alert firing and resolving repeatedly stays one incident and one workflow; resolved closes it', async () => {
    const base = { namespace: 'flap', object: { kind: 'Pod' as const, name: 'db-0' }, ownerChain: [{ kind: 'StatefulSet' as const, name: 'db' }], severity: 'critical' as const };
    const sequence = [];
    for (let i = 0; i < 3; i++) {
      sequence.push(makeSignal('flap-db', { ...base, atMs: T0 + i * MINUTE }));
      sequence.push(makeSignal('flap-db', { ...base, status: 'resolved', atMs: T0 + i * MINUTE + 30_000 }));
    }
    const decisions = await feed(...sequence);
    expect(decisions.map((d) => d.kind)).toEqual(['open', 'resolve', 'flap', 'resolve', 'flap', 'resolve']);
    const ids = new Set(decisions.map((d) => incidentOf(d)?.id));
    expect(ids.size).toBe(1);
    const id = [...ids][0]!;
    const record = await waitFor('all six signals on one workflow', async () => {
      const r = await workflowRecord(client, id);
      return r.signals.length === 6 ? r : undefined;
    });
    expect(record.runs).toBe(1);
    const { state } = await store.read(groupingOf(sequence[0]!).key);
    expect(state).toMatchObject({ status: 'resolved', flapCount: 2 });
  });

  it('replay — the same signal published again (a replay, a redelivery) starts no second workflow and changes no state', async () => {
    const s = makeSignal('replay-x', { namespace: 'replay', severity: 'critical' });
    const [first] = await feed(s);
    const before = await store.read(groupingOf(s).key);
    await publishSignal(js, names, s, 'another-msg-id');
    await waitFor('the replay decided', () => (correlator.decisions.filter((d) => d.signal.id === s.id).length === 2 ? true : undefined));
    const replay = correlator.decisions.filter((d) => d.signal.id === s.id)[1]!.decision;
    expect(replay).toMatchObject({ kind: 'duplicate', incident: { id: incidentOf(first!)!.id } });
    expect((await store.read(groupingOf(s).key)).revision).toBe(before.revision);
    expect((await workflowRecord(client, incidentOf(first!)!.id)).runs).toBe(1);
  });
});

describe('correlator — no remediation loops', () => {
  it('escalation and cooldown — after a remediation the same fingerprint escalates, another problem of the target waits out the cooldown', async () => {
    const base = { namespace: 'loop', object: { kind: 'Pod' as const, name: 'pay-1' }, ownerChain: [{ kind: 'Deployment' as const, name: 'pay' }], severity: 'critical' as const };
    const [opened] = await feed(makeSignal('loop-oom', { ...base, atMs: T0 }));
    const incident = incidentOf(opened!)!;
    // The worker tells the correlator through SIGNALS once it applied a remediation.
    const notice: RemediationNotice = { incidentId: incident.id, cluster: incident.cluster, target: incident.target, remediatedAt: new Date(T0 + MINUTE).toISOString() };
    await publishWithId(js, `${names.subjectPrefixes.signals}.${incident.cluster}.${REMEDIATION_NOTICE_TOKEN}`, Buffer.from(JSON.stringify(notice)), `notice-${incident.id}`);
    await waitFor('the remediation recorded', async () => ((await store.read(groupingOf(makeSignal('loop-oom', base)).key)).state?.remediation?.incidentId === incident.id ? true : undefined));
    const [resolved] = await feed(makeSignal('loop-oom', { ...base, status: 'resolved', atMs: T0 + 2 * MINUTE }));
    expect(resolved!.kind).toBe('resolve');

    // Outside the flap window, inside the cooldown: another problem of the same target opens nothing.
    const [cooling] = await feed(makeSignal('loop-disk', { ...base, atMs: T0 + 15 * MINUTE }));
    expect(cooling!.kind).toBe('cooldown');
    // The remediated problem returns: escalated to a human, a new incident, not another attempt.
    const [escalated] = await feed(makeSignal('loop-oom', { ...base, atMs: T0 + 20 * MINUTE }));
    expect(escalated).toMatchObject({ kind: 'escalate', incident: { status: 'escalated' } });
    const escalation = incidentOf(escalated!)!;
    expect(escalation.id).not.toBe(incident.id);
    expect((await workflowRecord(client, escalation.id)).input.incident.status).toBe('escalated');
  });

  it('late notice — a remediation notice of an earlier incident of the target is stale: logged, not applied; the current incident’s notice is', async () => {
    const base = { namespace: 'late', object: { kind: 'Pod' as const, name: 'cart-1' }, ownerChain: [{ kind: 'Deployment' as const, name: 'cart' }], severity: 'critical' as const };
    const [first] = await feed(makeSignal('late-a', { ...base, atMs: T0 }), makeSignal('late-a', { ...base, status: 'resolved', atMs: T0 + MINUTE }));
    const [second] = await feed(makeSignal('late-b', { ...base, atMs: T0 + 30 * MINUTE }));
    const earlier = incidentOf(first!)!;
    const current = incidentOf(second!)!;
    expect(second!.kind).toBe('open');
    expect(current.id).not.toBe(earlier.id);
    const subject = `${names.subjectPrefixes.signals}.test.${REMEDIATION_NOTICE_TOKEN}`;
    const notice = (incidentId: string): RemediationNotice => ({ incidentId, cluster: 'test', target: current.target, remediatedAt: new Date(T0 + 31 * MINUTE).toISOString() });
    await publishWithId(js, subject, Buffer.from(JSON.stringify(notice(earlier.id))), `late-notice-${earlier.id}`);
    await waitFor('the stale notice logged', () => (correlator.logs().includes('stale remediation notice') && correlator.logs().includes(earlier.id) ? true : undefined));
    const key = groupingOf(makeSignal('late-b', base)).key;
    expect((await store.read(key)).state?.remediation).toBeUndefined();
    await publishWithId(js, subject, Buffer.from(JSON.stringify(notice(current.id))), `late-notice-${current.id}`);
    await waitFor('the current notice applied', async () => ((await store.read(key)).state?.remediation?.incidentId === current.id ? true : undefined));
    expect((await store.read(key)).state?.remediation?.fingerprints).toEqual([makeSignal('late-b').fingerprint]);
  });
});

describe('correlator — resolution for every source', () => {
  it('quiet — an incident of Kubernetes events resolves once its events are quiet; the tick tells its workflow with a resolved signal', async () => {
    const [opened] = await feed(makeSignal('quiet-oom', { source: 'kubernetes', namespace: 'quiet', severity: 'critical', reason: 'OOMKilling', atMs: Date.now() }));
    expect(opened?.kind).toBe('open');
    const incident = incidentOf(opened!)!;
    const record = await waitFor('the resolved signal on the workflow', async () => {
      const r = await workflowRecord(client, incident.id);
      return r.signals.some((s) => s.status === 'resolved') ? r : undefined;
    });
    expect(record.signals.at(-1)).toMatchObject({ id: `quiet-${incident.id}-0`, status: 'resolved', object: { kind: 'Deployment', name: 'web' } });
    expect(record.runs).toBe(1);
    expect((await store.read(groupingOf(makeSignal('quiet-oom', { namespace: 'quiet' })).key)).state).toMatchObject({ status: 'resolved' });
    const counted = (await correlator.handle.context.metrics.correlatorDecisions.get()).values.find((v) => v.labels.decision === 'resolve' && v.labels.workflow === 'delivered');
    expect(counted?.value).toBeGreaterThanOrEqual(1);
  });
});

describe('correlator — bad signals', () => {
  it('bad input — not JSON, an invalid field and an ungroupable signal go to the dead letter with the reason; the correlator carries on', async () => {
    const subject = `${names.subjectPrefixes.signals}.test.bad`;
    await publishWithId(js, subject, Buffer.from('{not json'), 'bad-1');
    await publishWithId(js, subject, Buffer.from(JSON.stringify({ ...makeSignal('bad-sev'), severity: 'apocalyptic' })), 'bad-2');
    await publishWithId(js, subject, Buffer.from(JSON.stringify(makeSignal('bad-target', { object: undefined, ownerChain: [], labels: {} }))), 'bad-3');
    const jsm = await nc.jetstreamManager();
    await waitFor('three dead letters', async () => ((await jsm.streams.info(names.streams.deadLetter)).state.messages >= 3 ? true : undefined));
    const records = [];
    for (let seq = 1; seq <= 3; seq++) records.push(decodeDeadLetter((await jsm.streams.getMessage(names.streams.deadLetter, { seq })).data));
    expect(records.map((r) => r.stage)).toEqual(['correlator', 'correlator', 'correlator']);
    expect(records[0]).toMatchObject({ field: '(root)', reason: expect.stringContaining('not JSON') as unknown });
    expect(records[0]!.original.toString()).toBe('{not json');
    expect(records[1]).toMatchObject({ field: 'severity' });
    expect(records[2]!.reason).toContain('no object');
    // Still correlating.
    const [ok] = await feed(makeSignal('after-bad', { namespace: 'after', severity: 'critical' }));
    expect(ok!.kind).toBe('open');
    expect(STREAMS.deadLetter).toBe('DEADLETTER');
  });

  it('bad input — a malformed remediation notice and one for a target the correlator never saw go to the dead letter with the reason', async () => {
    const jsm = await nc.jetstreamManager();
    const before = (await jsm.streams.info(names.streams.deadLetter)).state.last_seq;
    const subject = `${names.subjectPrefixes.signals}.test.${REMEDIATION_NOTICE_TOKEN}`;
    await publishWithId(js, subject, Buffer.from(JSON.stringify({ incidentId: 'inc-1', cluster: 'test', target: { kind: 'Deployment', name: 'x' }, remediatedAt: 'yesterday' })), 'bad-notice-1');
    const stranger: RemediationNotice = { incidentId: 'inc-unknown', cluster: 'test', target: { kind: 'Deployment', namespace: 'nowhere', name: 'ghost' }, remediatedAt: new Date(T0).toISOString() };
    await publishWithId(js, subject, Buffer.from(JSON.stringify(stranger)), 'bad-notice-2');
    await waitFor('two more dead letters', async () => ((await jsm.streams.info(names.streams.deadLetter)).state.last_seq >= before + 2 ? true : undefined));
    const records = [];
    for (const seq of [before + 1, before + 2]) records.push(decodeDeadLetter((await jsm.streams.getMessage(names.streams.deadLetter, { seq })).data));
    expect(records[0]).toMatchObject({ stage: 'correlator', field: 'remediatedAt' });
    expect(records[1]).toMatchObject({ stage: 'correlator', field: 'target', reason: expect.stringContaining('inc-unknown') as unknown });
    expect(JSON.parse(records[1]!.original.toString())).toEqual(stranger);
    // Nothing was created for the unknown target.
    expect((await store.read('workload/test/nowhere/Deployment/ghost')).state).toBeUndefined();
  });
});
