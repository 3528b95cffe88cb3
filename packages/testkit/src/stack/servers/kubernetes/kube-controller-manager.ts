import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_HOST } from '@cortexops/config';
import { stackPorts } from '../../context.js';
import type { ServerDefinition, StackContext } from '../../types.js';
import { createIfMissing, httpsOk, kubectl, waitFor } from './kubectl.js';
import { installKubernetes } from './kube-apiserver.js';
import {
  CLUSTER_NAME,
  componentArgs,
  INGESTION_SERVICE_ACCOUNT,
  KUBE_STATE_METRICS_SERVICE_ACCOUNT,
  KUBERNETES_VERSION,
  kubeconfigPaths,
  kubernetesBinary,
  pkiFile,
  WORKER_NAMESPACE,
  WORKER_SERVICE_ACCOUNT,
} from './paths.js';
import { writeKubeconfig } from './pki.js';

const TOKEN_TIMEOUT_MS = 30_000;
/** The worker's RBAC, written beside the other manifests; applied when present. */
export const WORKER_RBAC_MANIFEST = join('deploy', 'k8s', 'worker-rbac.yaml');
/** The admission policy that narrows the worker's node rights to cordon and uncordon. */
export const WORKER_ADMISSION_MANIFEST = join('deploy', 'k8s', 'worker-admission.yaml');
/** The local stack's own enrolment of the `demo` namespace (never part of the production manifests). */
export const DEMO_ENROLMENT_MANIFEST = join('deploy', 'local', 'demo-enrolment.yaml');
/** The ingestion watcher's RBAC (read events, pods, replicasets). */
export const INGESTION_RBAC_MANIFEST = join('deploy', 'k8s', 'ingestion-rbac.yaml');
/**
 * The local kube-state-metrics' RBAC (list and watch of the resources it exports). It belongs to the local
 * stack, not to CortexOps' own manifests: a real cluster runs its own kube-state-metrics.
 */
export const KUBE_STATE_METRICS_RBAC_MANIFEST = join('packages', 'testkit', 'src', 'stack', 'servers', 'kubernetes', 'kube-state-metrics-rbac.yaml');

const url = (ctx: StackContext) => `https://${LOCAL_HOST}:${stackPorts(ctx).kubeControllerManagerPort}`;

/** A service's identity in the local cluster: a ServiceAccount, its RBAC manifest, and the kubeconfig written for it. */
interface ServiceIdentity {
  readonly serviceAccount: string;
  /** Its RBAC and admission manifests, applied in order. */
  readonly manifests: readonly string[];
  readonly kubeconfig: (ctx: StackContext) => string;
}

const IDENTITIES: readonly ServiceIdentity[] = [
  { serviceAccount: WORKER_SERVICE_ACCOUNT, manifests: [WORKER_RBAC_MANIFEST, WORKER_ADMISSION_MANIFEST, DEMO_ENROLMENT_MANIFEST], kubeconfig: (ctx) => kubeconfigPaths(ctx).worker },
  { serviceAccount: INGESTION_SERVICE_ACCOUNT, manifests: [INGESTION_RBAC_MANIFEST], kubeconfig: (ctx) => kubeconfigPaths(ctx).ingestion },
  { serviceAccount: KUBE_STATE_METRICS_SERVICE_ACCOUNT, manifests: [KUBE_STATE_METRICS_RBAC_MANIFEST], kubeconfig: (ctx) => kubeconfigPaths(ctx).kubeStateMetrics },
];

/**
 * One service's identity: ServiceAccount `cortexops-system/<name>` with a long-lived token Secret (filled in by
 * the controller manager's token controller), written as its kubeconfig, and its RBAC (and admission policy) from deploy/.
 */
async function ensureServiceIdentity(ctx: StackContext, identity: ServiceIdentity): Promise<void> {
  const tokenSecret = `${identity.serviceAccount}-token`;
  await createIfMissing(ctx, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: identity.serviceAccount, namespace: WORKER_NAMESPACE } });
  await createIfMissing(ctx, {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/service-account-token',
    metadata: { name: tokenSecret, namespace: WORKER_NAMESPACE, annotations: { 'kubernetes.io/service-account.name': identity.serviceAccount } },
  });
  const token = await waitFor(`token of ${WORKER_NAMESPACE}/${tokenSecret}`, TOKEN_TIMEOUT_MS, async () => {
    const data = await kubectl(ctx, ['get', 'secret', tokenSecret, '--namespace', WORKER_NAMESPACE, '-o', 'jsonpath={.data.token}']);
    return data.trim() === '' ? undefined : Buffer.from(data.trim(), 'base64').toString('utf8');
  });
  writeKubeconfig(ctx, identity.kubeconfig(ctx), `system:serviceaccount:${WORKER_NAMESPACE}:${identity.serviceAccount}`, { token });
  for (const manifest of identity.manifests) {
    const path = join(ctx.repoRoot, manifest);
    if (existsSync(path)) await kubectl(ctx, ['apply', '--server-side', '--field-manager=cortexops-stack', '-f', path]);
  }
}

/** The identities of the services that talk to the cluster (the worker, the ingestion watcher, kube-state-metrics). */
async function ensureServiceIdentities(ctx: StackContext): Promise<void> {
  await createIfMissing(ctx, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: WORKER_NAMESPACE } });
  for (const identity of IDENTITIES) await ensureServiceIdentity(ctx, identity);
}

export const kubeControllerManager: ServerDefinition = {
  name: 'kube-controller-manager',
  description: `Kubernetes controller manager ${KUBERNETES_VERSION}`,
  group: 'stack',
  dependsOn: ['kube-apiserver'],
  ports: (ctx) => [{ variable: 'CORTEXOPS_KUBE_CONTROLLER_MANAGER_PORT', port: stackPorts(ctx).kubeControllerManagerPort }],
  install: async (ctx) => {
    await installKubernetes(ctx);
  },
  command: (ctx) => ({
    command: kubernetesBinary(ctx, 'kube-controller-manager'),
    args: [
      ...componentArgs(ctx, kubeconfigPaths(ctx).controllerManager, stackPorts(ctx).kubeControllerManagerPort),
      `--root-ca-file=${pkiFile(ctx, 'ca.crt')}`,
      // Signs the tokens of legacy token Secrets (the worker's and ingestion's kubeconfigs use them).
      `--service-account-private-key-file=${pkiFile(ctx, 'sa.key')}`,
      '--use-service-account-credentials=true',
      `--cluster-name=${CLUSTER_NAME}`,
    ],
  }),
  probe: (ctx) => httpsOk(ctx, `${url(ctx)}/healthz`),
  afterStart: ensureServiceIdentities,
  endpoints: (ctx) => ({ health: `${url(ctx)}/healthz`, workerKubeconfig: kubeconfigPaths(ctx).worker, ingestionKubeconfig: kubeconfigPaths(ctx).ingestion }),
};
