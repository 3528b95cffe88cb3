import { join } from 'node:path';
import { LOCAL_HOST, loadConfig, servicePortVar } from '@cortexops/config';
import { HTTP_PATHS, type ServiceName } from '@cortexops/contracts';
import { httpOk } from '../probes.js';
import type { ServerDefinition, StackContext } from '../types.js';

/** The stack servers each CortexOps service needs before it can report healthy. */
const SERVICE_DEPENDENCIES: Record<ServiceName, readonly string[]> = {
  ingestion: ['nats'],
  correlator: ['nats', 'temporal'],
  worker: ['temporal', 'postgres'],
  approvals: ['temporal'],
  api: ['nats', 'temporal', 'postgres'],
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
