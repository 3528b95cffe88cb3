import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Env, LOCAL_HOST, loadConfig, optionalStringVar, portVar } from '@cortexops/config';
import { REPO_ROOT } from '../context.js';
import { httpOk } from '../probes.js';
import type { ServerDefinition, StackContext } from '../types.js';
import { VERSIONS } from '../versions.js';

const { version } = VERSIONS.qdrant;

/** The binary built from Qdrant's source that lies beside the project (read-only; data never goes there). */
export const QDRANT_DEFAULT_BIN = resolve(REPO_ROOT, '..', 'shared', 'tools', 'qdrant', 'qdrant');

const qdrantSpec = {
  bin: optionalStringVar('CORTEXOPS_QDRANT_BIN', `Qdrant ${version} server binary (default ${QDRANT_DEFAULT_BIN} when it exists)`),
  httpPort: portVar('CORTEXOPS_QDRANT_PORT', 6333, 'Qdrant REST port'),
  grpcPort: portVar('CORTEXOPS_QDRANT_GRPC_PORT', 6334, 'Qdrant gRPC port'),
} as const;

function qdrantConfig(env: Env) {
  return loadConfig(qdrantSpec, env);
}

/** The Qdrant binary the stack runs: CORTEXOPS_QDRANT_BIN, else the one beside the project if it exists, else none. */
export function qdrantBinary(env: Env): string | undefined {
  const { bin } = qdrantConfig(env);
  if (bin !== undefined) return bin;
  return existsSync(QDRANT_DEFAULT_BIN) ? QDRANT_DEFAULT_BIN : undefined;
}

/** The REST URL of the stack's Qdrant. */
export function qdrantUrl(ctx: StackContext): string {
  return `http://${LOCAL_HOST}:${qdrantConfig(ctx.env).httpPort}`;
}

const storageDir = (ctx: StackContext) => join(ctx.dataDir, 'qdrant', 'storage');
const snapshotsDir = (ctx: StackContext) => join(ctx.dataDir, 'qdrant', 'snapshots');

function requireBinary(ctx: StackContext): string {
  const bin = qdrantBinary(ctx.env);
  if (bin === undefined || !existsSync(bin)) {
    throw new Error(`no Qdrant binary: ${bin ?? QDRANT_DEFAULT_BIN} does not exist (set CORTEXOPS_QDRANT_BIN, or use your own server or docker-compose's)`);
  }
  return bin;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

export const qdrant: ServerDefinition = {
  name: 'qdrant',
  description: `Qdrant ${version} (incident memory; optional: the embedded store in PostgreSQL needs none)`,
  group: 'stack',
  ports: (ctx) => {
    const c = qdrantConfig(ctx.env);
    return [
      { variable: 'CORTEXOPS_QDRANT_PORT', port: c.httpPort },
      { variable: 'CORTEXOPS_QDRANT_GRPC_PORT', port: c.grpcPort },
    ];
  },
  // Nothing to install: the binary is used where it lies. When a SHA256SUMS file lies beside it, it must match.
  install: async (ctx) => {
    const bin = requireBinary(ctx);
    const sums = join(dirname(bin), 'SHA256SUMS');
    if (!existsSync(sums)) return;
    const expected = /^([0-9a-f]{64})\s+\*?qdrant$/m.exec(readFileSync(sums, 'utf8'))?.[1];
    const actual = await sha256Of(bin);
    if (expected !== undefined && expected !== actual) throw new Error(`${bin} has sha256 ${actual}, ${sums} says ${expected}`);
  },
  prepare: async (ctx) => {
    mkdirSync(storageDir(ctx), { recursive: true });
    mkdirSync(snapshotsDir(ctx), { recursive: true });
  },
  command: (ctx) => {
    const c = qdrantConfig(ctx.env);
    return {
      command: requireBinary(ctx),
      args: [],
      cwd: join(ctx.dataDir, 'qdrant'),
      env: {
        QDRANT__SERVICE__HOST: LOCAL_HOST,
        QDRANT__SERVICE__HTTP_PORT: String(c.httpPort),
        QDRANT__SERVICE__GRPC_PORT: String(c.grpcPort),
        QDRANT__STORAGE__STORAGE_PATH: storageDir(ctx),
        QDRANT__STORAGE__SNAPSHOTS_PATH: snapshotsDir(ctx),
        QDRANT__TELEMETRY_DISABLED: 'true',
        QDRANT__LOG_LEVEL: 'WARN',
      },
    };
  },
  probe: (ctx) => httpOk(`${qdrantUrl(ctx)}/readyz`),
  startTimeoutMs: 60_000,
  endpoints: (ctx) => ({ rest: qdrantUrl(ctx) }),
};
