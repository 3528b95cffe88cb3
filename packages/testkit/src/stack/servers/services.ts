import { join } from 'node:path';
import { LOCAL_HOST, loadConfig, servicePortVar } from '@cortexops/config';
import { HTTP_PATHS, type ServiceName } from '@cortexops/contracts';
import { httpOk } from '../probes.js';
import { kubeconfigPaths } from './kubernetes/paths.js';
import type { ServerDefinition, StackContext } from '../types.js';

/** The stack servers each CortexOps service needs before it can report healthy. */
const SERVICE_DEPENDENCIES: Record<ServiceName, readonly string[]> = {
  // The controller manager writes the ingestion watcher's kubeconfig (and starts the API server first).
  ingestion: ['nats', 'kube-controller-manager'],
  correlator: ['nats', 'temporal'],
  worker: ['temporal', 'postgres'],
  approvals: ['temporal', 'postgres'],
  api: ['nats', 'temporal', 'postgres'],
};

/** What a service gets on top of the stack's environment: the local cluster for the ingestion watcher. */
const SERVICE_ENV: Partial<Record<ServiceName, (ctx: StackContext) => Record<string, string>>> = {
  ingestion: (ctx) => ({ CORTEXOPS_KUBECONFIG: ctx.env.CORTEXOPS_KUBECONFIG ?? kubeconfigPaths(ctx).ingestion }),
};

const servicePort = (ctx: StackContext, service: ServiceName) => loadConfig({ port: servicePortVar(service) }, ctx.env).port;

function serviceServer(service: ServiceName): ServerDefinition {
  const variable = servicePortVar(service).name;
  return {
    name: service,
    description: `CortexOps ${service} service`,
    group: 'services',
    dependsOn: SERVICE_DEPENDENCIES[service],
    ports: (ctx) => [{ variable, port: servicePort(ctx, service) }],
    install: async () => {},
    command: (ctx) => ({
      command: process.execPath,
      args: ['--import', 'tsx', join(ctx.repoRoot, 'services', service, 'src', 'main.ts')],
      cwd: ctx.repoRoot,
      env: SERVICE_ENV[service]?.(ctx) ?? {},
    }),
    probe: (ctx) => httpOk(`http://${LOCAL_HOST}:${servicePort(ctx, service)}${HTTP_PATHS.health}`),
    endpoints: (ctx) => {
      const base = `http://${LOCAL_HOST}:${servicePort(ctx, service)}`;
      return { health: `${base}${HTTP_PATHS.health}`, metrics: `${base}${HTTP_PATHS.metrics}` };
    },
  };
}

export const ingestion = serviceServer('ingestion');
export const correlator = serviceServer('correlator');
export const worker = serviceServer('worker');
export const approvals = serviceServer('approvals');
export const api = serviceServer('api');
