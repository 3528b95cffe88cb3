import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_HOST } from '@cortexops/config';
import { stackPorts } from '../../context.js';
import { httpOk } from '../../probes.js';
import type { ServerDefinition, StackContext } from '../../types.js';
import { VERSIONS } from '../../versions.js';
import { buildGoTools, toolsModuleDir } from './build.js';
import { ETCD_VERSION, etcdToolsDir, etcdUrl, kubernetesDataDir } from './paths.js';

const dataDir = (ctx: StackContext) => join(kubernetesDataDir(ctx), 'etcd');

/** etcd, the store of the local Kubernetes control plane: one member, plain HTTP on loopback. */
export const etcd: ServerDefinition = {
  name: 'etcd',
  description: `etcd ${ETCD_VERSION} (store of the local Kubernetes control plane)`,
  group: 'stack',
  ports: (ctx) => {
    const p = stackPorts(ctx);
    return [
      { variable: 'CORTEXOPS_ETCD_PORT', port: p.etcdPort },
      { variable: 'CORTEXOPS_ETCD_PEER_PORT', port: p.etcdPeerPort },
    ];
  },
  install: async (ctx) => {
    await buildGoTools(ctx, {
      name: 'etcd',
      version: ETCD_VERSION,
      moduleDir: toolsModuleDir(ctx, 'etcd'),
      requires: { module: VERSIONS.etcd.module, version: ETCD_VERSION },
      binaries: [{ name: 'etcd', pkg: VERSIONS.etcd.module }],
    });
  },
  prepare: async (ctx) => {
    mkdirSync(dataDir(ctx), { recursive: true, mode: 0o700 });
  },
  command: (ctx) => {
    const p = stackPorts(ctx);
    const client = etcdUrl(ctx);
    const peer = `http://${LOCAL_HOST}:${p.etcdPeerPort}`;
    return {
      command: join(etcdToolsDir(ctx), 'bin', 'etcd'),
      args: [
        '--name', 'cortexops-local',
        '--data-dir', dataDir(ctx),
        '--listen-client-urls', client,
        '--advertise-client-urls', client,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `cortexops-local=${peer}`,
        // A development store: compact hourly history, keep the database small.
        '--auto-compaction-mode', 'periodic',
        '--auto-compaction-retention', '1h',
        '--quota-backend-bytes', String(2 * 1024 * 1024 * 1024),
        '--log-level', 'warn',
      ],
    };
  },
  probe: (ctx) => httpOk(`${etcdUrl(ctx)}/health`),
  endpoints: (ctx) => ({ client: etcdUrl(ctx) }),
};
