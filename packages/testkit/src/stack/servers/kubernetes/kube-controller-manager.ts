import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_HOST } from '@cortexops/config';
import { stackPorts } from '../../context.js';
import type { ServerDefinition, StackContext } from '../../types.js';
import { createIfMissing, httpsOk, kubectl, waitFor } from './kubectl.js';
import { installKubernetes } from './kube-apiserver.js';
import { CLUSTER_NAME, componentArgs, KUBERNETES_VERSION, kubeconfigPaths, kubernetesBinary, pkiFile, WORKER_NAMESPACE, WORKER_SERVICE_ACCOUNT } from './paths.js';
import { writeKubeconfig } from './pki.js';

const TOKEN_TIMEOUT_MS = 30_000;
/** The worker's RBAC, written beside the other manifests; applied when present. */
export const WORKER_RBAC_MANIFEST = join('deploy', 'k8s', 'worker-rbac.yaml');
const TOKEN_SECRET = `${WORKER_SERVICE_ACCOUNT}-token`;

const url = (ctx: StackContext) => `https://${LOCAL_HOST}:${stackPorts(ctx).kubeControllerManagerPort}`;

/**
 * The worker's identity: ServiceAccount `cortexops-system/cortexops-worker` with a long-lived token
 * Secret (filled in by the controller manager's token controller), written as worker.kubeconfig.
 */
async function ensureWorkerIdentity(ctx: StackContext): Promise<void> {
  await createIfMissing(ctx, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: WORKER_NAMESPACE } });
  await createIfMissing(ctx, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: WORKER_SERVICE_ACCOUNT, namespace: WORKER_NAMESPACE } });
  await createIfMissing(ctx, {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/service-account-token',
    metadata: { name: TOKEN_SECRET, namespace: WORKER_NAMESPACE, annotations: { 'kubernetes.io/service-account.name': WORKER_SERVICE_ACCOUNT } },
  });
  const token = await waitFor(`token of ${WORKER_NAMESPACE}/${TOKEN_SECRET}`, TOKEN_TIMEOUT_MS, async () => {
    const data = await kubectl(ctx, ['get', 'secret', TOKEN_SECRET, '--namespace', WORKER_NAMESPACE, '-o', 'jsonpath={.data.token}']);
    return data.trim() === '' ? undefined : Buffer.from(data.trim(), 'base64').toString('utf8');
  });
  writeKubeconfig(ctx, kubeconfigPaths(ctx).worker, `system:serviceaccount:${WORKER_NAMESPACE}:${WORKER_SERVICE_ACCOUNT}`, { token });
  const rbac = join(ctx.repoRoot, WORKER_RBAC_MANIFEST);
  if (existsSync(rbac)) await kubectl(ctx, ['apply', '--server-side', '--field-manager=cortexops-stack', '-f', rbac]);
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
      // Signs the tokens of legacy token Secrets (the worker's kubeconfig uses one).
      `--service-account-private-key-file=${pkiFile(ctx, 'sa.key')}`,
      '--use-service-account-credentials=true',
      `--cluster-name=${CLUSTER_NAME}`,
    ],
  }),
  probe: (ctx) => httpsOk(ctx, `${url(ctx)}/healthz`),
  afterStart: ensureWorkerIdentity,
  endpoints: (ctx) => ({ health: `${url(ctx)}/healthz`, workerKubeconfig: kubeconfigPaths(ctx).worker }),
};
