import { loadServiceConfig } from '@cortexops/config';
import { incidentWorkflowId } from '@cortexops/contracts';
import { nanos } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesOf } from '../../src/correlator.js';
import { fingerprintStoreKey, groupingOf, stateTtlMs } from '../../src/engine.js';
import { type CorrelatorHarness, incidentOf, isolatedNames, makeSignal, SECOND_RULES_TEN_SECOND_TTL_ENV, startHarness, waitFor, workflowRecord } from './support.js';

/**
 * The correlator's KV state is bounded by a TTL. Every window is a second here and the TTL ten seconds (long enough
 * that a decision whose workflow call is slow on a loaded machine is still stored when the test looks), so the test
 * watches real expiry on the shared NATS (its own buckets) and the shared Temporal (its own namespace).
 */
const names = isolatedNames('corttl');
const FINGERPRINTS = `${names.kvBucket}_fingerprints`;
const RULE_ENV = SECOND_RULES_TEN_SECOND_TTL_ENV;
const TTL_MS = stateTtlMs(rulesOf(loadServiceConfig('correlator', RULE_ENV)));
let harness: CorrelatorHarness | undefined;

beforeAll(async () => {
  // The bucket as a correlator before the bound left it: no TTL, and a group nobody writes any more.
  harness = await startHarness(names, RULE_ENV, async (js) => {
    await (await js.views.kv(names.kvBucket, { history: 1 })).put('g.forgotten', '{}');
  });
}, 120_000);

afterAll(async () => {
  await harness?.close();
});

describe('correlator — bounded state (real NATS KV and Temporal)', () => {
  it('bound — both buckets get the TTL at start-up, a bucket created before the bound too; its old keys expire', async () => {
    const { js, jsm } = harness!;
    expect(TTL_MS).toBe(10_000);
    for (const bucket of [names.kvBucket, FINGERPRINTS]) expect((await jsm.streams.info(`KV_${bucket}`)).config.max_age).toBe(nanos(TTL_MS));
    const kv = await js.views.kv(names.kvBucket);
    await waitFor('the old key expired', async () => ((await kv.get('g.forgotten')) === null ? true : undefined), 30_000);
  });

  it('bound — a group not written for the TTL is gone with its fingerprint’s index entry; the problem firing again is a new incident with its own workflow', async () => {
    const { js, store, client, feed } = harness!;
    const alert = () => makeSignal('ttl-oom', { source: 'alertmanager', namespace: 'ttl', severity: 'critical', reason: 'KubePodOOM', atMs: Date.now() });
    const first = alert();
    const key = groupingOf(first).key;
    const [opened] = await feed(first);
    expect(opened?.kind).toBe('open');
    const earlier = incidentOf(opened!)!;
    const index = await js.views.kv(FINGERPRINTS);
    // The first signal's claim (created if absent) names the group.
    expect(JSON.parse((await index.get(fingerprintStoreKey(first.cluster, first.fingerprint)))?.string() ?? '{}')).toMatchObject({ key });
    expect((await store.read(key)).state?.status).toBe('open');
    // A running workflow's open incident is kept alive (keepalive.test.ts): this one's workflow has ended.
    await client.workflow.getHandle(incidentWorkflowId(earlier.id)).terminate('bounded test: the workflow ended');

    await waitFor('the group and its index entry expired', async () => ((await store.read(key)).state === undefined && (await index.get(fingerprintStoreKey(first.cluster, first.fingerprint))) === null ? true : undefined), 30_000);
    const again = alert();
    const [reopened] = await feed(again);
    expect(reopened?.kind).toBe('open');
    const later = incidentOf(reopened!)!;
    // Not the earlier incident's id: its closed workflow would refuse the new problem (REJECT_DUPLICATE).
    expect(later.id).not.toBe(earlier.id);
    const record = await workflowRecord(client, later.id);
    expect(record.runs).toBe(1);
    expect(record.input.incident.signalIds).toEqual([again.id]);
  });
});
