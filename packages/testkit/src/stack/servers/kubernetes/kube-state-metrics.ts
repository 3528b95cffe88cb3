import { join } from 'node:path';
import { LOCAL_HOST } from '@cortexops/config';
import { stackPorts } from '../../context.js';
import { httpOk } from '../../probes.js';
import type { ServerDefinition, StackContext } from '../../types.js';
import { VERSIONS } from '../../versions.js';
import { buildGoTools, requiredVersion, toolsModuleDir } from './build.js';
import { KUBE_STATE_METRICS_VERSION, kubeconfigPaths, kubeStateMetricsToolsDir } from './paths.js';

/**
 * The resources whose metrics CortexOps reads (workloads, their pods, nodes, namespaces). The ServiceAccount
 * may list and watch these and nothing else (kube-state-metrics-rbac.yaml); a unit test keeps both equal.
 */
export const KUBE_STATE_METRICS_RESOURCES = ['daemonsets', 'deployments', 'jobs', 'namespaces', 'nodes', 'pods', 'replicasets', 'statefulsets'] as const;

const TOOL = 'kube-state-metrics';
const url = (ctx: StackContext) => `http://${LOCAL_HOST}:${stackPorts(ctx).kubeStateMetricsPort}`;

/** What `kube_state_metrics_build_info` and `--version` report (the upstream Makefile sets the same). */
function versionLdflags(moduleDir: string): string {
  const clientGo = requiredVersion(moduleDir, 'k8s.io/client-go') ?? 'unknown';
  return [
    `-X github.com/prometheus/common/version.Version=${KUBE_STATE_METRICS_VERSION}`,
    `-X ${VERSIONS.kubeStateMetrics.module}/pkg/app.ClientGoVersion=${clientGo}`,
  ].join(' ');
}

/** Builds kube-state-metrics once, from packages/testkit/tools/kube-state-metrics/go.mod. */
export function installKubeStateMetrics(ctx: StackContext): Promise<string> {
  const moduleDir = toolsModuleDir(ctx, TOOL);
  return buildGoTools(ctx, {
    name: TOOL,
    version: KUBE_STATE_METRICS_VERSION,
    moduleDir,
    requires: { module: VERSIONS.kubeStateMetrics.module, version: KUBE_STATE_METRICS_VERSION },
    binaries: [{ name: TOOL, pkg: VERSIONS.kubeStateMetrics.module }],
    ldflags: versionLdflags(moduleDir),
  });
}

/**
 * kube-state-metrics: the local cluster's objects as metrics (`kube_deployment_status_replicas_available`,
 * `kube_pod_container_status_restarts_total`, ...), for Prometheus to scrape. It acts as its own
 * ServiceAccount (list and watch only), written by the controller manager with the services' identities.
 */
export const kubeStateMetrics: ServerDefinition = {
  name: TOOL,
  description: `kube-state-metrics ${KUBE_STATE_METRICS_VERSION}`,
  group: 'stack',
  dependsOn: ['kube-controller-manager'],
  ports: (ctx) => [{ variable: 'CORTEXOPS_KUBE_STATE_METRICS_PORT', port: stackPorts(ctx).kubeStateMetricsPort }],
  install: async (ctx) => {
    await installKubeStateMetrics(ctx);
  },
  command: (ctx) => ({
    command: join(kubeStateMetricsToolsDir(ctx), 'bin', TOOL),
    args: [
      `--kubeconfig=${kubeconfigPaths(ctx).kubeStateMetrics}`,
      `--resources=${KUBE_STATE_METRICS_RESOURCES.join(',')}`,
      `--host=${LOCAL_HOST}`,
      `--port=${stackPorts(ctx).kubeStateMetricsPort}`,
      // Its self-metrics server cannot be turned off: loopback, on a port the kernel picks, so it never
      // takes a port another server of the stack needs (the default, 8081, is ingestion's).
      `--telemetry-host=${LOCAL_HOST}`,
      '--telemetry-port=0',
    ],
  }),
  // /livez answers 200 only when kube-state-metrics reaches the API server with its own credentials.
  probe: (ctx) => httpOk(`${url(ctx)}/livez`),
  endpoints: (ctx) => ({ metrics: `${url(ctx)}/metrics`, kubeconfig: kubeconfigPaths(ctx).kubeStateMetrics }),
};
