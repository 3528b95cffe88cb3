import { setTimeout as sleep } from 'node:timers/promises';
import { incidentWorkflowId } from '@cortexops/contracts';
import { describe, expect, it } from 'vitest';
import { type CorrelatorHarness, incidentOf, isolatedNames, listWorkflowIds, makeSignal, publishSignal, startHarness, startInProcess, waitFor, type InProcessCorrelator } from './support.js';

/**
 * Two replicas racing the first signals of one problem open one incident and one workflow: the group key is written
 * with compare-and-set (and a new fingerprint's index entry created only if absent: store.test.ts shows replicas that
 * group one fingerprint differently). Two correlators in this process on separate NATS connections, one durable
 * consumer, the shared NATS and Temporal (the test's own streams, buckets and namespace).
 */
describe('correlator — replicas racing the first signals of one problem (real NATS, Temporal)', () => {
  it('race — two correlators on one consumer fed the same burst (the first signals of each problem: its pods\' alerts and its Deployment\'s) open exactly one incident and one workflow per problem', async () => {
    const names = isolatedNames('corrace');
    let harness: CorrelatorHarness | undefined;
    let second: InProcessCorrelator | undefined;
    try {
      harness = await startHarness(names, { CORTEXOPS_JS_CONCURRENCY: '32' });
      second = await startInProcess(harness.env, names);
      const problems = Array.from({ length: 40 }, (_, i) => `burst${i}`);
      const now = Date.now();
      // Each one opens an incident by itself (Alertmanager alerts): the replicas race to open the same one.
      const burst = problems.flatMap((key, i) => [
        ...[1, 2, 3].map((pod) => makeSignal(`${key}-pod${pod}`, { source: 'alertmanager', namespace: 'race', object: { kind: 'Pod', name: `${key}-7d9f-x${pod}` }, ownerChain: [{ kind: 'ReplicaSet', name: `${key}-7d9f` }, { kind: 'Deployment', name: key }], reason: 'KubePodCrashLooping', atMs: now + i })),
        makeSignal(`${key}-replicas`, { source: 'alertmanager', namespace: 'race', object: { kind: 'Deployment', name: key }, ownerChain: [], reason: 'KubeDeploymentReplicasMismatch', atMs: now + i }),
      ]);
      await Promise.all(burst.map((s) => publishSignal(harness!.js, names, s)));
      const decided = () => harness!.correlator.decisions.length + second!.decisions.length;
      await waitFor('every signal decided', () => (decided() >= burst.length ? true : undefined), 120_000);
      const all = [...harness.correlator.decisions, ...second.decisions];
      // Both replicas took part.
      expect(harness.correlator.decisions.length).toBeGreaterThan(0);
      expect(second.decisions.length).toBeGreaterThan(0);
      const opened = all.filter((d) => d.decision.kind === 'open').map((d) => incidentOf(d.decision)!);
      expect(opened).toHaveLength(problems.length);
      expect(new Set(opened.map((i) => `${i.target.kind}/${i.target.name}`))).toEqual(new Set(problems.map((p) => `Deployment/${p}`)));
      const expected = new Set(opened.map((i) => incidentWorkflowId(i.id)));
      // Visibility is eventually consistent: wait for the count to reach the incidents, then for it to stay.
      await waitFor('the workflows listed', async () => ((await listWorkflowIds(harness!.client)).length >= expected.size ? true : undefined), 60_000);
      await sleep(2000);
      const workflows = await listWorkflowIds(harness.client);
      expect(new Set(workflows)).toEqual(expected);
      expect(workflows).toHaveLength(expected.size);
    } finally {
      await second?.handle.shutdown('test over');
      await harness?.close();
    }
  }, 240_000);
});
