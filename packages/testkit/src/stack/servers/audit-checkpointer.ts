import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileCheckpointStore, openCheckpoint } from '@cortexops/audit';
import { auditSpec, loadConfig } from '@cortexops/config';
import type { ServerDefinition, StackContext } from '../types.js';
import { postgresRoleUrl } from './postgres.js';

/** Bytes of the generated checkpoint key (hex: twice as many characters; the configuration asks for at least 32). */
const KEY_BYTES = 32;

const auditDir = (ctx: StackContext) => join(ctx.dataDir, 'audit');

/** Where the local stack keeps the signed checkpoint of the audit chain (outside PostgreSQL's data). */
export function auditCheckpointFile(ctx: StackContext): string {
  return ctx.env.CORTEXOPS_AUDIT_CHECKPOINT_FILE ?? join(auditDir(ctx), 'checkpoint.json');
}

/**
 * The HMAC key the checkpoint is signed with: generated once per cache (`<cache>/data/audit/checkpoint.key`, mode
 * 0600, never printed); `CORTEXOPS_AUDIT_CHECKPOINT_KEY` in the stack's environment takes precedence.
 */
export function auditCheckpointKey(ctx: StackContext): string {
  const configured = ctx.env.CORTEXOPS_AUDIT_CHECKPOINT_KEY;
  if (configured) return configured;
  const file = join(auditDir(ctx), 'checkpoint.key');
  if (!existsSync(file)) {
    mkdirSync(auditDir(ctx), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(KEY_BYTES).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return readFileSync(file, 'utf8').trim();
}

/** What `cortexops-audit verify` needs to check the stack's chain against its checkpoint. */
export function auditCheckpointEnv(ctx: StackContext): Record<string, string> {
  return { CORTEXOPS_AUDIT_CHECKPOINT_FILE: auditCheckpointFile(ctx), CORTEXOPS_AUDIT_CHECKPOINT_KEY: auditCheckpointKey(ctx) };
}

/**
 * Signs the audit chain's head into the checkpoint file now and every CORTEXOPS_AUDIT_CHECKPOINT_INTERVAL_MS
 * (default a minute), connected as the application role: it only reads. Healthy while the last checkpoint is
 * signed with the key and younger than three intervals (a broken chain is never signed: the checkpoint then ages).
 */
export const auditCheckpointer: ServerDefinition = {
  name: 'audit-checkpointer',
  description: 'CortexOps audit checkpoints (signed chain head, outside PostgreSQL)',
  group: 'services',
  dependsOn: ['postgres'],
  ports: () => [],
  install: async () => {},
  command: (ctx) => ({
    command: process.execPath,
    args: ['--import', 'tsx', join(ctx.repoRoot, 'packages', 'audit', 'src', 'cli.ts'), 'checkpoint', '--every'],
    cwd: ctx.repoRoot,
    env: { CORTEXOPS_DATABASE_URL: ctx.env.CORTEXOPS_DATABASE_URL ?? postgresRoleUrl(ctx, 'app'), ...auditCheckpointEnv(ctx) },
  }),
  probe: async (ctx) => {
    const raw = await new FileCheckpointStore(auditCheckpointFile(ctx)).read();
    if (raw === undefined) throw new Error(`no checkpoint in ${auditCheckpointFile(ctx)} yet`);
    const checkpoint = openCheckpoint(raw, { current: auditCheckpointKey(ctx) });
    const ageMs = Date.now() - Date.parse(checkpoint.at);
    const limitMs = 3 * loadConfig(auditSpec, ctx.env).checkpointIntervalMs;
    if (ageMs > limitMs) throw new Error(`the last checkpoint is ${Math.round(ageMs / 1000)} s old (the chain may be broken: run cortexops-audit verify)`);
  },
  endpoints: (ctx) => ({ checkpoint: auditCheckpointFile(ctx) }),
};
