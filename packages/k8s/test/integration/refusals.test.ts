import { fromActionReceipt, ReceiptMismatchError, SupersededRemediationError, TargetChangedError, toActionReceipt } from '@cortexops/k8s';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSettledDeployment, readDeployment, remediationId, settledDeployment, startCluster, writesIn, type Cluster } from './fixtures.js';

const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const id = remediationId;

describe('k8s gateway — refusals that keep other people’s changes (worker credentials)', () => {
  let cluster: Cluster;
  let ns: string;

  beforeAll(async () => {
    cluster = await startCluster('k8s-refuse');
    ns = cluster.namespace;
  });

  afterAll(async () => {
    await cluster?.dispose();
  });

  /** A write by someone other than CortexOps (the admin credentials), as a JSON Patch. */
  const edit = (name: string, body: unknown[]) => cluster.admin.apps.patchNamespacedDeployment({ name, namespace: ns, body }, JSON_PATCH);

  it('superseded — an older remediation id retried after a newer one was applied is refused, naming the newer id; nothing is written', async () => {
    await createSettledDeployment(cluster, 'older', { replicas: 2 });
    const older = id('older');
    const newer = id('newer');
    const action = { type: 'scale', kind: 'Deployment', namespace: ns, name: 'older', replicas: 3 };
    await cluster.gateway.apply(action, older);
    await cluster.gateway.apply({ ...action, replicas: 4 }, newer);
    const before = await settledDeployment(cluster.admin, ns, 'older');
    expect(before.metadata?.annotations?.['cortexops.io/remediation-history']).toBe(`${older},${newer}`);

    cluster.requests.length = 0;
    const error = await cluster.gateway.apply(action, older).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SupersededRemediationError);
    expect(error).toMatchObject({ code: 'K8S_SUPERSEDED', retryable: false, remediationId: older, newerId: newer });
    expect((error as Error).message).toContain(`remediation ${older} was applied to Deployment ${ns}/older before ${newer}`);
    expect(writesIn(cluster.requests)).toEqual([]);
    const after = await readDeployment(cluster.admin, ns, 'older');
    expect({ replicas: after.spec?.replicas, resourceVersion: after.metadata?.resourceVersion }).toEqual({ replicas: 4, resourceVersion: before.metadata?.resourceVersion });
    // The newer id itself is still the current one: retrying it returns its receipt.
    await expect(cluster.gateway.apply({ ...action, replicas: 4 }, newer)).resolves.toMatchObject({ remediationId: newer });
  });

  it('planted receipt — a receipt naming another object (uid) under the requested id is refused, not returned, and nothing is written', async () => {
    await createSettledDeployment(cluster, 'donor');
    const planted = await createSettledDeployment(cluster, 'planted');
    // A real receipt, of another Deployment, for the same kind of action.
    const donorId = id('donor');
    const donor = await cluster.gateway.apply({ type: 'rollout-restart', kind: 'Deployment', namespace: ns, name: 'donor' }, donorId);
    // Someone who may edit `planted` copies it there, retargeted by name but not by uid, under the id CortexOps will use.
    const plantedId = id('planted');
    const action = { type: 'rollout-restart', kind: 'Deployment', namespace: ns, name: 'planted' } as const;
    const forged = { ...donor, remediationId: plantedId, action, target: { ...donor.target, name: 'planted' } };
    await edit('planted', [
      { op: 'add', path: '/metadata/annotations/cortexops.io~1remediation-id', value: plantedId },
      { op: 'add', path: '/metadata/annotations/cortexops.io~1remediation-receipt', value: JSON.stringify(forged) },
    ]);
    const before = await settledDeployment(cluster.admin, ns, 'planted');

    cluster.requests.length = 0;
    const error = await cluster.gateway.apply(action, plantedId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReceiptMismatchError);
    expect(error).toMatchObject({ code: 'K8S_RECEIPT_MISMATCH', retryable: false });
    expect((error as Error).message).toContain(`uid ${donor.target.uid}, but the object is Deployment ${ns}/planted uid ${planted.metadata?.uid}`);
    expect(writesIn(cluster.requests)).toEqual([]);
    expect((await readDeployment(cluster.admin, ns, 'planted')).metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);

    // A receipt that is not one at all is refused the same way.
    await edit('planted', [{ op: 'replace', path: '/metadata/annotations/cortexops.io~1remediation-receipt', value: '{"remediationId":' }]);
    await expect(cluster.gateway.apply(action, plantedId)).rejects.toMatchObject({ code: 'K8S_RECEIPT_MISMATCH', message: expect.stringMatching(/missing or not a valid receipt/) as unknown });
    await settledDeployment(cluster.admin, ns, 'donor');
  });

  it('target changed — revert after someone else changed the pod template is refused with a diff, and their change is kept (receipt from the audit form)', async () => {
    await createSettledDeployment(cluster, 'changed', { image: 'registry.cortexops.local/changed:1' });
    const rid = id('changed');
    const receipt = await cluster.gateway.apply({ type: 'rollout-restart', kind: 'Deployment', namespace: ns, name: 'changed' }, rid);
    expect(receipt.applied?.sha256).toMatch(/^[0-9a-f]{64}$/);
    await settledDeployment(cluster.admin, ns, 'changed');
    await edit('changed', [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.cortexops.local/changed:2' }]);
    await settledDeployment(cluster.admin, ns, 'changed');
    const before = await readDeployment(cluster.admin, ns, 'changed');

    // As the workflow will: the receipt comes back from the audit store's form.
    const stored = fromActionReceipt(toActionReceipt(receipt, 'inc-1', 'incident-inc-1'));
    expect(stored).toEqual(receipt);
    cluster.requests.length = 0;
    const error = await cluster.gateway.revert(stored).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetChangedError);
    expect(error).toMatchObject({ code: 'K8S_TARGET_CHANGED', retryable: false, remediationId: rid, field: 'spec.template' });
    const message = (error as Error).message;
    expect(message).toContain(`spec.template of Deployment ${ns}/changed changed since ${rid} was applied`);
    expect(message).toMatch(/^-\s+- image: registry\.cortexops\.local\/changed:1$/m);
    expect(message).toMatch(/^\+\s+- image: registry\.cortexops\.local\/changed:2$/m);
    expect(writesIn(cluster.requests)).toEqual([]);
    const after = await readDeployment(cluster.admin, ns, 'changed');
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(after.spec?.template?.spec?.containers[0]?.image).toBe('registry.cortexops.local/changed:2');
    expect(after.metadata?.annotations?.['cortexops.io/remediation-id']).toBe(rid);
  });

  it('target changed — replicas changed by someone else (an autoscaler) since a scale are not overwritten either', async () => {
    await createSettledDeployment(cluster, 'scaled', { replicas: 2 });
    const receipt = await cluster.gateway.apply({ type: 'scale', kind: 'Deployment', namespace: ns, name: 'scaled', replicas: 3 }, id('scaled'));
    await edit('scaled', [{ op: 'replace', path: '/spec/replicas', value: 5 }]);
    await expect(cluster.gateway.revert(receipt)).rejects.toMatchObject({ code: 'K8S_TARGET_CHANGED', message: expect.stringMatching(/^\+\s*replicas: 5$/m) as unknown });
    expect((await readDeployment(cluster.admin, ns, 'scaled')).spec?.replicas).toBe(5);
    await settledDeployment(cluster.admin, ns, 'scaled');
  });
});
