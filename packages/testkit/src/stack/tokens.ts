import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StackContext } from './types.js';

/** Bytes of a generated token (hex: twice as many characters; the services ask for at least 32). */
const TOKEN_BYTES = 32;

/**
 * A random secret written once to `path` (hex of `bytes` random bytes, mode 0600, its directory 0700), never printed or
 * committed; a file already there stands (another process of the same cache may have written it first). Returns `path`.
 */
export function secretFile(path: string, bytes = TOKEN_BYTES): string {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, `${randomBytes(bytes).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return path;
}

/** A token file generated once per cache: `<cache>/data/services/<file>`. */
export function generatedTokenFile(ctx: StackContext, file: string): string {
  return secretFile(join(ctx.dataDir, 'services', file));
}

/** The token of a generated file; `variable` in the stack's environment takes precedence. */
export function generatedToken(ctx: StackContext, variable: string, file: string): string {
  return ctx.env[variable] || readFileSync(generatedTokenFile(ctx, file), 'utf8').trim();
}

/**
 * The file holding the bearer token the stack's Alertmanager sends to the ingestion webhook and the ingestion
 * service checks (both read the same file); `CORTEXOPS_INGESTION_WEBHOOK_TOKEN_FILE` in the environment takes precedence.
 */
export function webhookTokenFile(ctx: StackContext): string {
  return ctx.env.CORTEXOPS_INGESTION_WEBHOOK_TOKEN_FILE || generatedTokenFile(ctx, 'ingestion-webhook-token');
}
