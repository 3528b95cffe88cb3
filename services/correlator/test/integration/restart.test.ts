import { setTimeout as sleep } from 'node:timers/promises';
import { CONSUMERS, incidentWorkflowId, KV_BUCKETS, STREAMS, type Signal } from '@cortexops/contracts';
import { ensureJetStreamLayout } from '@cortexops/messaging';
import {
  createTestNamespace,
  ensureServers,
  privateStack,
  spawnService,
  temporalAddress,
  type PrivateStack,
  type ServiceProcess,
  natsConnectOptions,
  natsEnv,
} from '@cortexops/testkit';
import { Client, Connection } from '@temporalio/client';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupingOf, incidentIdOf } from '../../src/engine.js';
import { GroupStore } from '../../src/store.js';
import { type InProcessCorrelator, isolatedNames, listWorkflowIds, makeSignal, publishSignal, startInProcess, T0, waitFor, workflowRecord } from './support.js';

/** Its own NATS (the real service with default names can be killed without touching anyone); the shared Temporal. */
let stack: PrivateStack;
let nc: NatsConnection;
let client: Client;
let connection: Connection;
let namespace: string;
let temporal: string;
const running: ServiceProcess[] = [];
const expectedWorkflows = new Set<string>();

beforeAll(async () => {
  const ctx = await ensureServers(['temporal']);
  temporal = temporalAddress(ctx);
  namespace = await createTestNamespace(ctx, 'corkill');
  connection = await Connection.connect({ address: temporal });
  client = new Client({ connection, namespace });
  stack = await privateStack('corkill');
  await stack.launcher.up(['nats']);
  nc = await connect(natsConnectOptions(stack.ctx));
}, 180_000);

afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await connection?.close();
  await nc?.close();
  await stack?.dispose();
});

/** `groups` Deployments with `perGroup` distinct problems each, interleaved so groups are decided concurrently. */
function workload(cluster: string, groups: number, perGroup: number): Signal[][] {
  return Array.from({ length: groups }, (_, g) =>
    Array.from({ length: perGroup }, (_, i) =>
      makeSignal(`${cluster}-g${g}-p${i}`, { cluster, namespace: 'load', object: { kind: 'Pod', name: `app${g}-1` }, ownerChain: [{ kind: 'Deployment', name: `app${g}` }] }),
    ),
  );
}

async function expectExactlyTheseWorkflows(): Promise<void> {
  const ids = await waitFor(
    'every workflow visible',
    async () => {
      const listed = await listWorkflowIds(client);
      return listed.length >= expectedWorkflows.size ? listed : undefined;
    },
    60_000,
  );
  await sleep(1500);
  const settled = await listWorkflowIds(client);
  expect(settled.length).toBe(ids.length);
  expect(new Set(settled).size).toBe(settled.length);
  expect(new Set(settled)).toEqual(expectedWorkflows);
}

/** Every signal of a group is either in the started incident or was delivered to the workflow as a signal. */
async function expectNothingLost(store: GroupStore, groups: Signal[][]): Promise<void> {
  for (const group of groups) {
    const key = groupingOf(group[0]!).key;
    const { state } = await store.read(key);
    expect(state?.status).toBe('open');
    expect(new Set(state?.signalIds)).toEqual(new Set(group.map((s) => s.id)));
    const record = await waitFor(
      `workflow of ${key} has every signal`,
      async () => {
        const r = await workflowRecord(client, incidentIdOf(key, T0));
        const seen = new Set([...r.input.incident.signalIds, ...r.signals.map((s) => s.id)]);
        return group.every((s) => seen.has(s.id)) ? r : undefined;
      },
      30_000,
    );
    expect(record.runs).toBe(1);
  }
}

describe('correlator — crash safety and replicas', () => {
  it('restart — a correlator killed with SIGKILL mid-stream and restarted loses nothing and starts no duplicate workflow', async () => {
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream();
    await ensureJetStreamLayout(jsm);
    const groups = workload('kill', 60, 8);
    const defaultNames = { ...isolatedNames(), subjectPrefixes: { telemetry: 'telemetry', signals: 'signals', deadLetter: 'deadletter' } };
    for (let i = 0; i < 8; i++) for (const group of groups) await publishSignal(js, defaultNames, group[i]!);
    for (const group of groups) expectedWorkflows.add(incidentWorkflowId(incidentIdOf(groupingOf(group[0]!).key, T0)));

    const env = {
      ...natsEnv(stack.ctx),
      CORTEXOPS_TEMPORAL_ADDRESS: temporal,
      CORTEXOPS_TEMPORAL_NAMESPACE: namespace,
      CORTEXOPS_JS_ACK_WAIT_MS: '2000',
      CORTEXOPS_JS_BATCH_SIZE: '16',
      CORTEXOPS_JS_CONCURRENCY: '16',
      CORTEXOPS_CORRELATOR_MIN_SIGNALS: '3',
    };
    const first = await spawnService('correlator', env);
    running.push(first);
    await first.waitForHealth((status) => status === 200);
    const total = 60 * 8;
    await waitFor('some signals decided before the kill', async () => {
      const ci = await jsm.consumers.info(STREAMS.signals, CONSUMERS.correlator);
      return ci.ack_floor.stream_seq >= 80 ? true : undefined;
    });
    first.child.kill('SIGKILL');
    const atKill = await jsm.consumers.info(STREAMS.signals, CONSUMERS.correlator);
    expect(atKill.ack_floor.stream_seq).toBeLessThan(total);

    const second = await spawnService('correlator', env);
    running.push(second);
    await second.waitForHealth((status) => status === 200);
    await waitFor(
      'every signal decided after the restart',
      async () => {
        const ci = await jsm.consumers.info(STREAMS.signals, CONSUMERS.correlator);
        return ci.num_pending === 0 && ci.num_ack_pending === 0 ? ci : undefined;
      },
      120_000,
    );
    expect(await second.terminate()).toBe(0);
    await expectNothingLost(await GroupStore.create(await js.views.kv(KV_BUCKETS.correlator)), groups);
    await expectExactlyTheseWorkflows();
  }, 240_000);

  it('replicas — two correlators on one consumer share the work with no duplicate incident or workflow', async () => {
    const names = isolatedNames('corpair');
    const env = { ...natsEnv(stack.ctx), CORTEXOPS_TEMPORAL_ADDRESS: temporal, CORTEXOPS_TEMPORAL_NAMESPACE: namespace, CORTEXOPS_JS_CONCURRENCY: '32', CORTEXOPS_CORRELATOR_MIN_SIGNALS: '3' };
    const replicas: InProcessCorrelator[] = [await startInProcess(env, names), await startInProcess(env, names)];
    try {
      const js = nc.jetstream();
      const groups = workload('pair', 40, 10);
      for (const group of groups) expectedWorkflows.add(incidentWorkflowId(incidentIdOf(groupingOf(group[0]!).key, T0)));
      await Promise.all(groups.flat().map((s) => publishSignal(js, names, s)));
      const total = 40 * 10;
      await waitFor('every signal decided', () => (replicas[0]!.decisions.length + replicas[1]!.decisions.length >= total ? true : undefined), 120_000);
      const decided = [...replicas[0]!.decisions, ...replicas[1]!.decisions];
      // Both replicas worked; every signal was decided exactly once (nothing redelivered in a clean run).
      expect(replicas[0]!.decisions.length).toBeGreaterThan(0);
      expect(replicas[1]!.decisions.length).toBeGreaterThan(0);
      expect(new Set(decided.map((d) => d.signal.id)).size).toBe(total);
      // Exactly one "open" per group, whichever replica made it.
      const opens = decided.filter((d) => d.decision.kind === 'open');
      expect(opens).toHaveLength(40);
      expect(new Set(opens.map((d) => 'incident' in d.decision && d.decision.incident?.id)).size).toBe(40);
      await expectNothingLost(await GroupStore.create(await js.views.kv(names.kvBucket)), groups);
      await expectExactlyTheseWorkflows();
    } finally {
      for (const r of replicas) await r.handle.shutdown('test over');
    }
  }, 240_000);
});
