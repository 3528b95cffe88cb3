import { LOCAL_HOST } from '@cortexops/config';
import { stackPorts } from '../../context.js';
import type { ServerDefinition, StackContext } from '../../types.js';
import { VERSIONS } from '../../versions.js';
import { buildGoTools, toolsModuleDir } from './build.js';
import { httpsOk } from './kubectl.js';
import { apiserverUrl, etcdUrl, KUBERNETES_VERSION, kubeconfigPaths, kubernetesBinary, pkiFile } from './paths.js';
import { ensurePki, FRONT_PROXY_CLIENT, SERVICE_CLUSTER_IP_RANGE, writeComponentKubeconfigs } from './pki.js';

/** `v1.36.3` → major 1, minor 36: what `kubectl version` and `/version` report. */
function versionLdflags(version: string): string {
  const [major = '', minor = ''] = version.replace(/^v/, '').split('.');
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']
    .flatMap((pkg) => [`-X ${pkg}.gitVersion=${version}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`, `-X ${pkg}.gitTreeState=clean`])
    .join(' ');
}

/**
 * Builds kube-apiserver, kube-controller-manager, kube-scheduler and kubectl once, from
 * packages/testkit/tools/kubernetes/go.mod (k8s.io/kubernetes plus its published staging modules).
 */
export function installKubernetes(ctx: StackContext): Promise<string> {
  return buildGoTools(ctx, {
    name: 'kubernetes',
    version: KUBERNETES_VERSION,
    moduleDir: toolsModuleDir(ctx, 'kubernetes'),
    requires: { module: VERSIONS.kubernetes.module, version: KUBERNETES_VERSION },
    binaries: (['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'] as const).map((name) => ({ name, pkg: `k8s.io/kubernetes/cmd/${name}` })),
    ldflags: versionLdflags(KUBERNETES_VERSION),
  });
}

export const kubeApiserver: ServerDefinition = {
  name: 'kube-apiserver',
  description: `Kubernetes API server ${KUBERNETES_VERSION}`,
  group: 'stack',
  dependsOn: ['etcd'],
  startTimeoutMs: 120_000,
  ports: (ctx) => [{ variable: 'CORTEXOPS_KUBE_APISERVER_PORT', port: stackPorts(ctx).kubeApiserverPort }],
  install: async (ctx) => {
    await installKubernetes(ctx);
  },
  prepare: async (ctx) => {
    await ensurePki(ctx);
    // Rewritten on every start: they carry the API server's port, which a variable may move.
    writeComponentKubeconfigs(ctx);
  },
  command: (ctx) => ({
    command: kubernetesBinary(ctx, 'kube-apiserver'),
    args: [
      `--etcd-servers=${etcdUrl(ctx)}`,
      `--bind-address=${LOCAL_HOST}`,
      `--advertise-address=${LOCAL_HOST}`,
      `--secure-port=${stackPorts(ctx).kubeApiserverPort}`,
      `--tls-cert-file=${pkiFile(ctx, 'serving.crt')}`,
      `--tls-private-key-file=${pkiFile(ctx, 'serving.key')}`,
      `--client-ca-file=${pkiFile(ctx, 'ca.crt')}`,
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${pkiFile(ctx, 'sa.pub')}`,
      `--service-account-signing-key-file=${pkiFile(ctx, 'sa.key')}`,
      `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
      // Request-header authentication for aggregated API servers; without it every component that
      // delegates authentication logs a missing CA bundle.
      `--requestheader-client-ca-file=${pkiFile(ctx, 'ca.crt')}`,
      `--requestheader-allowed-names=${FRONT_PROXY_CLIENT}`,
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${pkiFile(ctx, 'front-proxy-client.crt')}`,
      `--proxy-client-key-file=${pkiFile(ctx, 'front-proxy-client.key')}`,
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      // The `kubernetes` Service cannot point at a loopback address (Endpoints validation rejects it),
      // and nothing in a simulated cluster dials it: leave its endpoints alone.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
    ],
  }),
  probe: (ctx) => httpsOk(ctx, `${apiserverUrl(ctx)}/readyz`),
  endpoints: (ctx) => ({ api: apiserverUrl(ctx), adminKubeconfig: kubeconfigPaths(ctx).admin }),
};
