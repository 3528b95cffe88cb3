import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1Node } from '@kubernetes/client-node';
import { kubeconfigPaths } from '@cortexops/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeConfigOf, remediationId, startCluster, type Cluster } from './fixtures.js';

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const TEST_TAINT = { key: 'cortexops.io/test', value: 'k8s-admission', effect: 'NoSchedule' };

/**
 * RBAC lets the worker patch any node (deploy/k8s/worker-rbac.yaml; its access reviews are in testkit's
 * deploy-manifests test); the admission policy (deploy/k8s/worker-admission.yaml) narrows that to cordon and
 * uncordon. Real requests made with the worker's own token.
 */
describe('k8s — what the worker may change on a node (admission policy, worker credentials)', () => {
  let cluster: Cluster;
  let worker: CoreV1Api;
  const node = remediationId('k8s-admission');

  beforeAll(async () => {
    cluster = await startCluster('k8s-admission');
    worker = kubeConfigOf(kubeconfigPaths(cluster.ctx).worker).makeApiClient(CoreV1Api);
    await cluster.admin.core.createNode({
      body: {
        metadata: { name: node, labels: { 'cortexops.io/test': 'k8s-admission' }, annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'example.com/owner': 'platform' } },
        spec: { taints: [TEST_TAINT] },
      },
    });
  });

  afterAll(async () => {
    await cluster?.admin.core.deleteNode({ name: node });
    await cluster?.dispose();
  });

  const refusal = async (body: object) => {
    const error = await worker.patchNode({ name: node, body }, MERGE_PATCH).catch((e: unknown) => e);
    return { code: (error as { code?: number }).code, body: String((error as { body?: unknown }).body ?? error) };
  };

  it('admission — the worker adding a taint, a label or a foreign annotation is refused; the node is unchanged', async () => {
    const attempts: [object, RegExp][] = [
      [{ spec: { taints: [TEST_TAINT, { key: 'evil', effect: 'NoExecute' }] } }, /may not change a node's taints/],
      [{ spec: { taints: [] } }, /may not change a node's taints/],
      [{ metadata: { labels: { 'node-role.kubernetes.io/control-plane': '' } } }, /may not change a node's labels/],
      [{ metadata: { annotations: { 'example.com/owner': 'someone-else' } } }, /only its own cortexops\.io\/ annotations/],
      [{ metadata: { annotations: { 'cortexops.io/anything': 'x' } } }, /only its own cortexops\.io\/ annotations/],
      [{ spec: { providerID: 'kwok://elsewhere' } }, /only spec\.unschedulable/],
    ];
    for (const [body, message] of attempts) {
      const refused = await refusal(body);
      expect(refused.code, JSON.stringify(body)).toBe(403);
      expect(refused.body, JSON.stringify(body)).toMatch(message);
    }
    const after: V1Node = await cluster.admin.core.readNode({ name: node });
    expect(after.spec?.taints).toEqual([TEST_TAINT]);
    expect(after.metadata?.labels).toEqual({ 'cortexops.io/test': 'k8s-admission' });
    expect(after.metadata?.annotations?.['example.com/owner']).toBe('platform');
    expect(after.spec?.providerID).toBeUndefined();
  });

  it('admission — what the catalogue does still passes: the gateway cordons and uncordons with its receipt annotations', async () => {
    const cordon = { type: 'cordon-node', kind: 'Node', name: node };
    const receipt = await cluster.gateway.apply(cordon, remediationId('adm-cordon'));
    expect((await cluster.admin.core.readNode({ name: node })).spec?.unschedulable).toBe(true);
    await expect(cluster.gateway.revert(receipt)).resolves.toMatchObject({ outcome: 'reverted' });
    expect((await cluster.admin.core.readNode({ name: node })).spec?.unschedulable ?? false).toBe(false);
  });

  it('admission — other users are not matched: the admin still sets a taint', async () => {
    const extra = { key: 'cortexops.io/admin', effect: 'NoSchedule' };
    await cluster.admin.core.patchNode({ name: node, body: { spec: { taints: [TEST_TAINT, extra] } } }, MERGE_PATCH);
    expect((await cluster.admin.core.readNode({ name: node })).spec?.taints).toEqual([TEST_TAINT, extra]);
  });
});
