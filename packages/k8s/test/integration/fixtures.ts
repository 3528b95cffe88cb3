import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { ClusterGateway, type GatewayOptions, type RequestObserver } from '@cortexops/k8s';
import { ensureServers, kubeconfigPaths, kubectl, REMEDIATION_ROLE, uniqueName, WORKER_NAMESPACE, WORKER_SERVICE_ACCOUNT, type StackContext } from '@cortexops/testkit';
import { expect } from 'vitest';

/** What the k8s integration tests share: the real local control plane, a namespace per file, the worker's credentials. */

export const SETTLE = { timeout: 90_000, interval: 250 };
export const WORKER_RBAC = join('deploy', 'k8s', 'worker-rbac.yaml');
/** The admission policy that narrows the worker's node rights to cordon and uncordon. */
export const WORKER_ADMISSION = join('deploy', 'k8s', 'worker-admission.yaml');
export { REMEDIATION_ROLE };

export interface Admin {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly rbac: RbacAuthorizationV1Api;
}

export function kubeConfigOf(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export function adminClients(ctx: StackContext): Admin {
  const kc = kubeConfigOf(kubeconfigPaths(ctx).admin);
  return { kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), rbac: kc.makeApiClient(RbacAuthorizationV1Api) };
}

export interface Cluster {
  readonly ctx: StackContext;
  readonly admin: Admin;
  /** A namespace of this test file, enrolled for the worker (RoleBinding), deleted afterwards. */
  readonly namespace: string;
  /** Every request the worker gateway sent, in order (cleared by the tests that count them). */
  readonly requests: Parameters<RequestObserver>[0][];
  /** The gateway acting with the worker ServiceAccount's own token (deploy/k8s/worker-rbac.yaml). */
  readonly gateway: ClusterGateway;
  workerGateway(options?: Omit<GatewayOptions, 'kubeconfigPath' | 'kubeConfig'>): ClusterGateway;
  dispose(): Promise<void>;
}

/** A unique DNS-1123 name (namespaces, nodes, remediation ids). */
export function testNamespace(prefix: string): string {
  return uniqueName(prefix).replace(/_/g, '-');
}
export const remediationId = testNamespace;

/** Creates `namespace` and enrolls it for remediation as an operator would: a RoleBinding to the worker's ClusterRole. */
export async function enrolledNamespace(admin: Admin, namespace: string): Promise<void> {
  await admin.core.createNamespace({ body: { metadata: { name: namespace } } });
  await admin.rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: REMEDIATION_ROLE, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: REMEDIATION_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: WORKER_SERVICE_ACCOUNT, namespace: WORKER_NAMESPACE }],
    },
  });
}

export async function startCluster(prefix: string): Promise<Cluster> {
  const ctx = await ensureServers(['kwok']);
  // The stack applies the worker RBAC and admission policy when the controller manager starts; apply this
  // checkout's versions too, so the rules under test are the ones in the repository.
  for (const manifest of [WORKER_RBAC, WORKER_ADMISSION]) {
    await kubectl(ctx, ['apply', '--server-side', '--field-manager=cortexops-stack', '-f', join(ctx.repoRoot, manifest)]);
  }
  const admin = adminClients(ctx);
  const namespace = testNamespace(prefix);
  await enrolledNamespace(admin, namespace);
  const requests: Parameters<RequestObserver>[0][] = [];
  const workerGateway = (options: Omit<GatewayOptions, 'kubeconfigPath' | 'kubeConfig'> = {}) =>
    ClusterGateway.create({ kubeconfigPath: kubeconfigPaths(ctx).worker, ...options });
  return {
    ctx,
    admin,
    namespace,
    requests,
    gateway: workerGateway({ onRequest: (r) => requests.push(r), retry: { minTimeoutMs: 20 } }),
    workerGateway,
    dispose: async () => {
      await admin.core.deleteNamespace({ name: namespace });
    },
  };
}

export function deployment(namespace: string, name: string, options: { replicas?: number; image?: string; memory?: string; nodeSelector?: Record<string, string> } = {}) {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas: options.replicas ?? 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          ...(options.nodeSelector === undefined ? {} : { nodeSelector: options.nodeSelector }),
          containers: [
            { name: 'app', image: options.image ?? `registry.cortexops.local/${name}:1`, resources: { limits: { memory: options.memory ?? '256Mi' }, requests: { memory: '128Mi' } } },
            { name: 'sidecar', image: 'registry.cortexops.local/sidecar:1', resources: { limits: { memory: '64Mi' } } },
          ],
        },
      },
    },
  };
}

export function statefulSet(namespace: string, name: string, replicas = 2) {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      serviceName: name,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: `registry.cortexops.local/${name}:1`, resources: { limits: { memory: '256Mi' } } }] } },
    },
  };
}

const isRunning = (pod: V1Pod) => pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp;

export async function runningPods(admin: Admin, namespace: string, app: string): Promise<V1Pod[]> {
  const list = await admin.core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return list.items.filter(isRunning);
}

/**
 * Polls `read` until `done` holds and the object stopped moving: two consecutive reads with the same
 * resourceVersion, so that a later "unchanged" comparison is not disturbed by a controller's late write.
 */
export async function quiet<T extends { metadata?: { resourceVersion?: string } }>(read: () => Promise<T>, done: (obj: T) => boolean): Promise<T> {
  let last: string | undefined;
  let obj: T | undefined;
  await expect
    .poll(async () => {
      obj = await read();
      const rv = obj.metadata?.resourceVersion;
      const stable = done(obj) && rv === last;
      last = rv;
      return stable;
    }, SETTLE)
    .toBe(true);
  return obj as T;
}

/** As `kubectl rollout status`, and quiet: every replica updated, ready and available, nothing terminating. */
export async function settledDeployment(admin: Admin, namespace: string, name: string): Promise<V1Deployment> {
  return quiet(
    () => admin.apps.readNamespacedDeployment({ name, namespace }),
    (d) => {
      const s = d.status;
      const want = d.spec?.replicas ?? 1;
      const progressing = s?.conditions?.find((c) => c.type === 'Progressing');
      return (
        d.metadata?.generation === s?.observedGeneration &&
        s?.updatedReplicas === want &&
        s.readyReplicas === want &&
        s.availableReplicas === want &&
        s.replicas === want &&
        (s.terminatingReplicas ?? 0) === 0 &&
        progressing?.reason === 'NewReplicaSetAvailable'
      );
    },
  );
}

export async function settledStatefulSet(admin: Admin, namespace: string, name: string): Promise<void> {
  await quiet(
    () => admin.apps.readNamespacedStatefulSet({ name, namespace }),
    (s) => {
      const want = s.spec?.replicas ?? 1;
      const st = s.status;
      return (
        s.metadata?.generation === st?.observedGeneration &&
        st?.readyReplicas === want &&
        st.updatedReplicas === want &&
        st.currentReplicas === want &&
        st.replicas === want &&
        st.currentRevision === st.updateRevision
      );
    },
  );
}

/** Creates a Deployment in the cluster's namespace and waits until its rollout is complete and quiet. */
export async function createSettledDeployment(cluster: Cluster, name: string, options: Parameters<typeof deployment>[2] = {}): Promise<V1Deployment> {
  await cluster.admin.apps.createNamespacedDeployment({ namespace: cluster.namespace, body: deployment(cluster.namespace, name, options) });
  return settledDeployment(cluster.admin, cluster.namespace, name);
}

/** The object as the API server has it (plain JSON), for before/after comparisons. */
export async function readDeployment(admin: Admin, namespace: string, name: string) {
  return JSON.parse(JSON.stringify(await admin.apps.readNamespacedDeployment({ name, namespace }))) as V1Deployment;
}

/** One observation of the object an action changes. */
export interface Observed<T> {
  readonly resourceVersion: string;
  readonly annotations: Record<string, string>;
  /** The part of the spec the action changes (what revert restores). */
  readonly value: T;
}

export interface RoundTrip<T> {
  readonly cluster: Cluster;
  readonly action: Record<string, unknown>;
  readonly id: string;
  readonly observe: () => Promise<Observed<T>>;
  /** Waits for controllers to finish reacting (rollouts), so resourceVersions are stable. */
  readonly settle?: () => Promise<void>;
  /** What the dry-run diff must show. */
  readonly diffShows: readonly RegExp[];
  /** Checks the applied value against the value before. */
  readonly applied: (after: T, before: T) => void;
}

export interface Timings {
  dryRunMs: number;
  applyMs: number;
  applyAgainMs: number;
  revertMs: number;
}
export const timings: Record<string, Timings> = {};

const WRITES = new Set(['patch', 'delete']);
/** The real writes among `requests` (patches and deletes that were not dry runs), as `verb resource`. */
export const writesIn = (requests: Cluster['requests']) => requests.filter((r) => WRITES.has(r.verb) && r.dryRun !== true).map((r) => `${r.verb} ${r.resource}`);

/**
 * The life of one action through the gateway: dry run (diff shown, object unchanged), apply (the
 * change and the remediation id land), apply again (no write, same resourceVersion, same receipt),
 * revert (the changed part is back to its value before, checked), and applying the reverted id again
 * is refused.
 */
export async function roundTrip<T>(rt: RoundTrip<T>) {
  const { cluster, action, id } = rt;
  const gateway = cluster.gateway;
  await rt.settle?.();
  const before = await rt.observe();

  let t = performance.now();
  const dry = await gateway.dryRun(action, id);
  const dryRunMs = performance.now() - t;
  expect(dry.changed).toBe(true);
  for (const pattern of rt.diffShows) expect(dry.diff).toMatch(pattern);
  expect(dry.diff).toContain(`+    cortexops.io/remediation-id: ${id}`);
  const afterDry = await rt.observe();
  expect(afterDry.resourceVersion).toBe(before.resourceVersion);
  expect(afterDry.value).toEqual(before.value);

  t = performance.now();
  const receipt = await gateway.apply(action, id);
  const applyMs = performance.now() - t;
  expect(receipt).toMatchObject({ remediationId: id, action, priorResourceVersion: before.resourceVersion });
  const applied = await rt.observe();
  expect(applied.annotations['cortexops.io/remediation-id']).toBe(id);
  rt.applied(applied.value, before.value);
  await rt.settle?.();

  const settled = await rt.observe();
  cluster.requests.length = 0;
  t = performance.now();
  const again = await gateway.apply(action, id);
  const applyAgainMs = performance.now() - t;
  expect(again).toEqual(receipt);
  expect(writesIn(cluster.requests)).toEqual([]);
  expect((await rt.observe()).resourceVersion).toBe(settled.resourceVersion);

  t = performance.now();
  const reverted = await gateway.revert(receipt);
  const revertMs = performance.now() - t;
  expect(reverted).toMatchObject({ remediationId: id, outcome: 'reverted', verified: true });
  const back = await rt.observe();
  expect(back.value).toEqual(before.value);
  expect(back.annotations['cortexops.io/remediation-id']).toBeUndefined();
  expect(back.annotations['cortexops.io/reverted-remediation-id']).toBe(id);

  // A second revert finds the prior spec in place and writes nothing; re-applying a reverted id is refused.
  cluster.requests.length = 0;
  await expect(gateway.revert(receipt)).resolves.toMatchObject({ outcome: 'already-reverted' });
  expect(writesIn(cluster.requests)).toEqual([]);
  await expect(gateway.apply(action, id)).rejects.toMatchObject({ code: 'K8S_ALREADY_REVERTED' });
  await rt.settle?.();
  timings[`${String(action.type)} ${String(action.kind)}`] = { dryRunMs, applyMs, applyAgainMs, revertMs };
  return receipt;
}

export function printTimings(): void {
  const rows = Object.entries(timings).map(([name, t]) => `${name.padEnd(34)} ${[t.dryRunMs, t.applyMs, t.applyAgainMs, t.revertMs].map((n) => n.toFixed(0).padStart(8)).join('')}`);
  if (rows.length > 0) console.log([`${'action (ms)'.padEnd(34)}${['dry-run', 'apply', 'again', 'revert'].map((h) => h.padStart(8)).join('')}`, ...rows].join('\n'));
}
