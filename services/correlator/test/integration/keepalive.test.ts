import { setTimeout as sleep } from 'node:timers/promises';
import { loadServiceConfig } from '@cortexops/config';
import { incidentWorkflowId } from '@cortexops/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesOf } from '../../src/correlator.js';
import { fingerprintStoreKey, groupingOf, stateTtlMs } from '../../src/engine.js';
import { type CorrelatorHarness, incidentOf, isolatedNames, listWorkflowIds, makeSignal, SECOND_RULES_TEN_SECOND_TTL_ENV, startHarness, waitFor, workflowRecord } from './support.js';

/**
 * Open incidents are never forgotten while their workflow runs (the KV TTL bounds the correlator's state): every window
 * a second and the TTL ten seconds, so real expiry on the shared NATS (the test's own buckets) and the shared Temporal
 * (its own namespace; no worker, so a started workflow stays running until the test terminates it).
 */
const names = isolatedNames('corkeep');
const RULE_ENV = SECOND_RULES_TEN_SECOND_TTL_ENV;
const TTL_MS = stateTtlMs(rulesOf(loadServiceConfig('correlator', RULE_ENV)));
let harness: CorrelatorHarness | undefined;

beforeAll(async () => {
  harness = await startHarness(names, RULE_ENV);
}, 120_000);

afterAll(async () => {
  await harness?.close();
});

const alert = (key: string) => makeSignal(key, { source: 'alertmanager', namespace: 'keep', object: { kind: 'Pod', name: `${key}-7d9f-abcde` }, ownerChain: [{ kind: 'Deployment', name: key }], severity: 'warning', reason: 'KubePodNotReady', atMs: Date.now() });

describe('correlator — open incidents outlive the state TTL while their workflow runs (real NATS KV and Temporal)', () => {
  it('keep-alive — an open incident nothing is heard of for twice the TTL keeps its state while its workflow runs: a repeat is the same incident, no second incident or workflow', async () => {
    const { store, client, feed } = harness!;
    expect(TTL_MS).toBe(10_000);
    const first = alert('quiet-api');
    const key = groupingOf(first).key;
    const [opened] = await feed(first);
    expect(opened?.kind).toBe('open');
    const incident = incidentOf(opened!)!;
    const storedAt = (await store.read(key)).storedAtMs!;

    // No signal for twice the TTL (an approval waiting, Alertmanager's repeat interval): without the keep-alive KV forgets it.
    await sleep(2 * TTL_MS);
    const kept = await store.read(key);
    expect(kept.state?.status).toBe('open');
    expect(kept.storedAtMs).toBeGreaterThan(storedAt);
    // Its fingerprint's index entry is kept with it (the problem's signals keep finding the incident).
    const index = await harness!.js.views.kv(`${names.kvBucket}_fingerprints`);
    expect((await index.get(fingerprintStoreKey(first.cluster, first.fingerprint)))?.string()).toBe(key);

    const repeat = alert('quiet-api');
    expect(repeat.fingerprint).toBe(first.fingerprint);
    const [decided] = await feed(repeat);
    expect(decided?.kind).toBe('deduplicated');
    expect(incidentOf(decided!)?.id).toBe(incident.id);
    expect((await listWorkflowIds(client)).filter((id) => id === incidentWorkflowId(incident.id))).toHaveLength(1);
    expect((await workflowRecord(client, incident.id)).runs).toBe(1);
  }, 60_000);

  it('keep-alive — the liveness check: an incident whose workflow has closed is not kept, its state expires', async () => {
    const { store, client, feed } = harness!;
    const first = alert('closed-api');
    const key = groupingOf(first).key;
    const [opened] = await feed(first);
    expect(opened?.kind).toBe('open');
    const incident = incidentOf(opened!)!;
    await client.workflow.getHandle(incidentWorkflowId(incident.id)).terminate('keep-alive test: the workflow ended');
    await waitFor('the closed incident\'s group expired', async () => ((await store.read(key)).state === undefined ? true : undefined), 3 * TTL_MS);
  }, 60_000);
});
