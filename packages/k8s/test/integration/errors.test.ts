import {
  ClusterGateway,
  ClusterResources,
  InvalidGatewayInputError,
  KubernetesForbiddenError,
  KubernetesInvalidError,
  KubernetesTransientError,
  KubernetesUnauthorizedError,
  type RequestObserver,
} from '@cortexops/k8s';
import { apiserverUrl, freePort, kubeconfigPaths, WORKER_NAMESPACE, WORKER_SERVICE_ACCOUNT } from '@cortexops/testkit';
import { AuthorizationV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployment, kubeConfigOf, REMEDIATION_ROLE, settledDeployment, startCluster, testNamespace, type Cluster, remediationId } from './fixtures.js';

const id = remediationId;
const WORKER = `system:serviceaccount:${WORKER_NAMESPACE}:${WORKER_SERVICE_ACCOUNT}`;

function kubeConfigFor(server: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('k8s gateway — errors, RBAC and input validation', () => {
  let cluster: Cluster;
  let ns: string;
  /** Not enrolled: no RoleBinding for the worker. */
  let outside: string;
  /** Enrolled read-only: the worker is bound to the built-in `view` ClusterRole only. */
  let readOnly: string;

  beforeAll(async () => {
    cluster = await startCluster('k8s-err');
    ns = cluster.namespace;
    outside = testNamespace('k8s-outside');
    readOnly = testNamespace('k8s-view');
    for (const namespace of [outside, readOnly]) {
      await cluster.admin.core.createNamespace({ body: { metadata: { name: namespace } } });
      await cluster.admin.apps.createNamespacedDeployment({ namespace, body: deployment(namespace, 'web', { replicas: 1 }) });
    }
    await cluster.admin.rbac.createNamespacedRoleBinding({
      namespace: readOnly,
      body: {
        metadata: { name: 'worker-view', namespace: readOnly },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'ServiceAccount', name: WORKER_SERVICE_ACCOUNT, namespace: WORKER_NAMESPACE }],
      },
    });
    await cluster.admin.apps.createNamespacedDeployment({ namespace: ns, body: deployment(ns, 'web', { replicas: 1 }) });
  });

  afterAll(async () => {
    for (const namespace of [outside, readOnly]) await cluster?.admin.core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await cluster?.dispose();
  });

  it('forbidden — in kube-system the worker may not even read: Forbidden names the verb, resource and namespace, no retry', async () => {
    cluster.requests.length = 0;
    const error = await cluster.gateway.apply({ type: 'scale', kind: 'Deployment', namespace: 'kube-system', name: 'coredns', replicas: 2 }, id('ks')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesForbiddenError);
    expect(error).toMatchObject({ code: 'K8S_FORBIDDEN', retryable: false, status: 403, user: WORKER, missing: { verb: 'get', group: 'apps', resource: 'deployments', namespace: 'kube-system' } });
    expect((error as Error).message).toMatch(/missing RBAC verb "get" on resource "deployments\.apps" in namespace "kube-system"/);
    expect(cluster.requests).toHaveLength(1);
  });

  it('forbidden — a namespace not enrolled: every action fails on its first call, naming what is missing', async () => {
    const cases = [
      { action: { type: 'rollout-restart', kind: 'Deployment', namespace: outside, name: 'web' }, missing: /verb "get" on resource "deployments\.apps" in namespace "k8s-outside-/ },
      { action: { type: 'rollout-restart', kind: 'StatefulSet', namespace: outside, name: 'web' }, missing: /verb "get" on resource "statefulsets\.apps" in namespace "k8s-outside-/ },
      { action: { type: 'delete-pod', kind: 'Pod', namespace: outside, name: 'web-1' }, missing: /verb "get" on resource "pods" in namespace "k8s-outside-/ },
      { action: { type: 'raise-memory-limit', kind: 'Deployment', namespace: outside, name: 'web', container: 'app', memory: '1Gi' }, missing: /verb "get" on resource "deployments\.apps"/ },
    ];
    for (const { action, missing } of cases) {
      for (const call of [() => cluster.gateway.dryRun(action, id('out')), () => cluster.gateway.apply(action, id('out'))]) {
        await expect(call()).rejects.toMatchObject({ code: 'K8S_FORBIDDEN', message: expect.stringMatching(missing) as unknown });
      }
    }
  });

  it('forbidden — read-only in a namespace: the read passes and the patch is refused, naming "patch"; nothing changes', async () => {
    const before = await settledDeployment(cluster.admin, readOnly, 'web');
    const error = await cluster.gateway.apply({ type: 'scale', kind: 'Deployment', namespace: readOnly, name: 'web', replicas: 2 }, id('ro')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'K8S_FORBIDDEN', missing: { verb: 'patch', resource: 'deployments', namespace: readOnly } });
    expect((error as Error).message).toContain(`${WORKER} lacks permission to patch deployments.apps in namespace "${readOnly}"`);
    // The dry run needs the same verb as the real call, and says so.
    await expect(cluster.gateway.dryRun({ type: 'scale', kind: 'Deployment', namespace: readOnly, name: 'web', replicas: 2 }, id('ro'))).rejects.toMatchObject({
      code: 'K8S_FORBIDDEN',
      message: expect.stringMatching(/patch \(dry run\)|missing RBAC verb "patch"/) as unknown,
    });
    expect((await cluster.admin.apps.readNamespacedDeployment({ name: 'web', namespace: readOnly })).metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('RBAC — SelfSubjectAccessReview: the worker has each catalogue verb and the diagnosis reads where enrolled, and no Secrets, no kube-system, no node deletion', async () => {
    const authz = kubeConfigOf(kubeconfigPaths(cluster.ctx).worker).makeApiClient(AuthorizationV1Api);
    const can = async (verb: string, resource: string, namespace?: string, group = '', subresource?: string) => {
      const review = await authz.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { verb, resource, group, ...(namespace === undefined ? {} : { namespace }), ...(subresource === undefined ? {} : { subresource }) } } },
      });
      return review.status?.allowed === true;
    };
    const allowed = [
      ['get', 'deployments', ns, 'apps'],
      ['patch', 'deployments', ns, 'apps'],
      ['patch', 'statefulsets', ns, 'apps'],
      ['list', 'replicasets', ns, 'apps'],
      ['get', 'pods', ns],
      ['delete', 'pods', ns],
      ['list', 'pods', ns],
      ['get', 'nodes'],
      ['patch', 'nodes'],
      ['patch', 'deployments', 'demo', 'apps'],
      // inspect and rollout status
      ['list', 'events', ns],
      ['list', 'replicasets', ns, 'apps'],
      ['get', 'daemonsets', ns, 'apps'],
      ['get', 'jobs', ns, 'batch'],
      ['list', 'nodes'],
    ] as const;
    const denied = [
      ['get', 'secrets', ns],
      ['list', 'secrets', ns],
      ['get', 'secrets', 'kube-system'],
      ['get', 'pods', 'kube-system'],
      ['patch', 'deployments', 'kube-system', 'apps'],
      ['delete', 'pods', 'kube-system'],
      ['patch', 'deployments', outside, 'apps'],
      ['create', 'deployments', ns, 'apps'],
      ['update', 'deployments', ns, 'apps'],
      ['delete', 'deployments', ns, 'apps'],
      ['patch', 'replicasets', ns, 'apps'],
      ['get', 'configmaps', ns],
      ['delete', 'nodes'],
      ['create', 'rolebindings', ns, 'rbac.authorization.k8s.io'],
      // the diagnosis reads are reads only, in enrolled namespaces only
      ['watch', 'events', ns],
      ['create', 'events', ns],
      ['list', 'events', 'kube-system'],
      ['list', 'events', outside],
      ['list', 'pods'],
      ['patch', 'daemonsets', ns, 'apps'],
      ['patch', 'jobs', ns, 'batch'],
      ['delete', 'jobs', ns, 'batch'],
    ] as const;
    for (const [verb, resource, namespace, group] of allowed) expect(await can(verb, resource, namespace, group), `${verb} ${resource} ${namespace ?? ''}`).toBe(true);
    for (const [verb, resource, namespace, group] of denied) expect(await can(verb, resource, namespace, group), `${verb} ${resource} ${namespace ?? ''}`).toBe(false);
    expect(await can('patch', 'deployments', ns, 'apps', 'scale')).toBe(false);
  });

  it('bad names — each bad field is named and nothing is sent to the cluster', async () => {
    const base = { type: 'scale', kind: 'Deployment', namespace: ns, name: 'web', replicas: 2 };
    const cases: [unknown, string, RegExp][] = [
      [{ ...base, namespace: 'Bad_NS' }, 'namespace', /DNS-1123 label/],
      [{ ...base, namespace: 'a'.repeat(64) }, 'namespace', /at most 63/],
      [{ ...base, namespace: '-leading' }, 'namespace', /DNS-1123 label/],
      [{ ...base, name: 'Web' }, 'name', /DNS-1123 subdomain/],
      [{ ...base, name: 'web/../../secrets' }, 'name', /DNS-1123 subdomain/],
      [{ ...base, name: `${'a'.repeat(254)}` }, 'name', /at most 253/],
      [{ ...base, name: '' }, 'name', /DNS-1123 subdomain/],
      [{ type: 'cordon-node', kind: 'Node', name: 'kwok node 1' }, 'name', /DNS-1123 subdomain/],
      [{ type: 'raise-memory-limit', kind: 'Deployment', namespace: ns, name: 'web', container: 'App_1', memory: '1Gi' }, 'container', /DNS-1123 label/],
      [{ type: 'raise-memory-limit', kind: 'Deployment', namespace: ns, name: 'web', container: 'app', memory: 'lots' }, 'memory', /memory quantity/],
      [{ ...base, replicas: -1 }, 'replicas', /.+/],
      [{ ...base, type: 'drain-node' }, 'type', /.+/],
      [{ type: 'delete-pod', kind: 'Deployment', namespace: ns, name: 'web' }, 'kind', /.+/],
      ['scale web', '(root)', /.+/],
    ];
    for (const [action, field, problem] of cases) {
      for (const call of [() => cluster.gateway.dryRun(action, id('bad')), () => cluster.gateway.apply(action, id('bad'))]) {
        cluster.requests.length = 0;
        const error = await call().catch((e: unknown) => e);
        expect(error, JSON.stringify(action)).toBeInstanceOf(InvalidGatewayInputError);
        expect((error as InvalidGatewayInputError).issues.find((i) => i.field === field)?.problem, `${field} of ${JSON.stringify(action).slice(0, 80)}`).toMatch(problem);
        expect((error as Error).message).toContain('nothing was sent to the cluster');
        expect(cluster.requests).toEqual([]);
      }
    }
    cluster.requests.length = 0;
    for (const rid of ['Has Space', '', 'a'.repeat(200), '../x']) {
      await expect(cluster.gateway.apply(base, rid)).rejects.toMatchObject({ code: 'K8S_INVALID_INPUT', field: 'remediationId' });
    }
    for (const receipt of [{}, { remediationId: 'x' }, null, 'receipt']) {
      await expect(cluster.gateway.revert(receipt)).rejects.toMatchObject({ code: 'K8S_INVALID_INPUT' });
    }
    expect(cluster.requests).toEqual([]);
  });

  it('not found — an action on a Deployment that does not exist is NotFound, not retried', async () => {
    cluster.requests.length = 0;
    const error = await cluster.gateway.apply({ type: 'scale', kind: 'Deployment', namespace: ns, name: 'missing', replicas: 2 }, id('nf')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'K8S_NOT_FOUND', retryable: false, status: 404, request: { verb: 'get', resource: 'deployments', namespace: ns, name: 'missing' } });
    expect((error as Error).message).toMatch(new RegExp(`not found: get deployments\\.apps "missing" in namespace "${ns}"`));
    expect(cluster.requests).toHaveLength(1);
  });

  it('invalid — a change the API server rejects (422) is KubernetesInvalidError with the field it named', async () => {
    const resources = new ClusterResources(kubeConfigOf(kubeconfigPaths(cluster.ctx).worker));
    const error = await resources.patch({ kind: 'Deployment', namespace: ns, name: 'web' }, [{ op: 'replace', path: '/spec/replicas', value: -1 }], true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesInvalidError);
    expect(error).toMatchObject({ code: 'K8S_INVALID', status: 422, retryable: false });
    expect((error as KubernetesInvalidError).causes.map((c) => c.field)).toContain('spec.replicas');
  });

  it('unauthorized — a token the API server does not accept is Unauthorized, not retried', async () => {
    const gateway = ClusterGateway.create({ kubeConfig: kubeConfigFor(apiserverUrl(cluster.ctx), 'not-a-token') });
    await expect(gateway.apply({ type: 'cordon-node', kind: 'Node', name: 'kwok-node-0' }, id('unauth'))).rejects.toBeInstanceOf(KubernetesUnauthorizedError);
  });

  it('transient — a refused connection is a retryable KubernetesTransientError, retried within the budget', async () => {
    const port = await freePort();
    const retries: number[] = [];
    const requests: Parameters<RequestObserver>[0][] = [];
    const gateway = ClusterGateway.create({
      kubeConfig: kubeConfigFor(`https://127.0.0.1:${port}`, 'token'),
      retry: { retries: 2, minTimeoutMs: 10, onRetry: (_error, attempt) => retries.push(attempt) },
      onRequest: (r) => requests.push(r),
    });
    const error = await gateway.apply({ type: 'cordon-node', kind: 'Node', name: 'kwok-node-0' }, id('net')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesTransientError);
    expect(error).toMatchObject({ code: 'K8S_TRANSIENT', retryable: true, message: expect.stringMatching(/ECONNREFUSED/) as unknown });
    expect(retries).toEqual([1, 2]);
    expect(requests).toHaveLength(3);
  });

  it('enrollment — the worker RoleBinding in this namespace is the one of deploy/k8s/worker-rbac.yaml', async () => {
    const binding = await cluster.admin.rbac.readNamespacedRoleBinding({ name: REMEDIATION_ROLE, namespace: ns });
    expect(binding.roleRef.name).toBe(REMEDIATION_ROLE);
    const role = await cluster.admin.rbac.readClusterRole({ name: REMEDIATION_ROLE });
    const resources = (role.rules ?? []).flatMap((r) => r.resources ?? []);
    expect(resources).not.toContain('secrets');
    expect(resources.some((r) => r.endsWith('/scale'))).toBe(false);
  });
});
