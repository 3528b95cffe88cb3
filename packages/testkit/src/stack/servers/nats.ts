import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_HOST } from '@cortexops/config';
import { stackPorts } from '../context.js';
import { installPythonPackage } from '../install.js';
import { httpOk } from '../probes.js';
import type { ServerDefinition, StackContext } from '../types.js';
import { VERSIONS } from '../versions.js';

const { package: pkg, version } = VERSIONS.natsServer;
const binary = (ctx: StackContext) => join(ctx.toolsDir, `${pkg}-${version}`, 'bin', 'nats-server');
const storeDir = (ctx: StackContext) => join(ctx.dataDir, 'nats');

export const nats: ServerDefinition = {
  name: 'nats',
  description: `NATS ${version} with JetStream`,
  group: 'stack',
  ports: (ctx) => {
    const p = stackPorts(ctx);
    return [
      { variable: 'CORTEXOPS_NATS_PORT', port: p.natsPort },
      { variable: 'CORTEXOPS_NATS_MONITOR_PORT', port: p.natsMonitorPort },
    ];
  },
  install: async (ctx) => {
    await installPythonPackage(ctx, pkg, version);
  },
  prepare: async (ctx) => {
    mkdirSync(storeDir(ctx), { recursive: true });
  },
  command: (ctx) => {
    const p = stackPorts(ctx);
    return {
      command: binary(ctx),
      args: ['--addr', LOCAL_HOST, '--port', String(p.natsPort), '--http_port', String(p.natsMonitorPort), '--jetstream', '--store_dir', storeDir(ctx), '--server_name', 'cortexops-local'],
    };
  },
  probe: (ctx) => httpOk(`http://${LOCAL_HOST}:${stackPorts(ctx).natsMonitorPort}/healthz?js-enabled-only=true`),
  endpoints: (ctx) => {
    const p = stackPorts(ctx);
    return { client: `nats://${LOCAL_HOST}:${p.natsPort}`, monitoring: `http://${LOCAL_HOST}:${p.natsMonitorPort}` };
  },
};
