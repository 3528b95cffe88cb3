import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_HOST } from '@cortexops/config';
import { SEARCH_ATTRIBUTES } from '@cortexops/contracts';
import { stackPorts } from '../context.js';
import { installPythonPackage } from '../install.js';
import { commandOk } from '../probes.js';
import type { ServerDefinition, StackContext } from '../types.js';
import { VERSIONS } from '../versions.js';

const { package: pkg, version } = VERSIONS.temporalCli;
export const temporalCli = (ctx: StackContext) => join(ctx.toolsDir, `${pkg}-${version}`, 'bin', 'temporal');
/** The development server's store: one SQLite file (`--db-filename`). */
export const temporalDbFile = (ctx: StackContext) => join(ctx.dataDir, 'temporal', 'temporal.db');
const address = (ctx: StackContext) => `${LOCAL_HOST}:${stackPorts(ctx).temporalPort}`;

export const temporal: ServerDefinition = {
  name: 'temporal',
  description: `Temporal development server and Web UI (CLI ${version})`,
  group: 'stack',
  ports: (ctx) => {
    const p = stackPorts(ctx);
    return [
      { variable: 'CORTEXOPS_TEMPORAL_PORT', port: p.temporalPort },
      { variable: 'CORTEXOPS_TEMPORAL_UI_PORT', port: p.temporalUiPort },
    ];
  },
  install: async (ctx) => {
    await installPythonPackage(ctx, pkg, version);
  },
  prepare: async (ctx) => {
    mkdirSync(join(ctx.dataDir, 'temporal'), { recursive: true });
  },
  command: (ctx) => {
    const p = stackPorts(ctx);
    // The dev server registers these on every start; re-registering an existing one is a no-op.
    const searchAttributes = Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]);
    return {
      command: temporalCli(ctx),
      args: [
        'server', 'start-dev',
        '--ip', LOCAL_HOST,
        '--port', String(p.temporalPort),
        '--ui-ip', LOCAL_HOST,
        '--ui-port', String(p.temporalUiPort),
        '--db-filename', temporalDbFile(ctx),
        '--log-level', 'warn',
        ...searchAttributes,
      ],
    };
  },
  probe: async (ctx) => {
    const out = await commandOk(temporalCli(ctx), ['operator', 'cluster', 'health', '--address', address(ctx)]);
    if (!out.includes('SERVING')) throw new Error(`temporal health: ${out.trim()}`);
  },
  startTimeoutMs: 90_000,
  endpoints: (ctx) => ({ frontend: address(ctx), ui: `http://${LOCAL_HOST}:${stackPorts(ctx).temporalUiPort}` }),
};
