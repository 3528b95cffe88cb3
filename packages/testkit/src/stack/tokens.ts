import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackContext } from './types.js';

/** Bytes of a generated token (hex: twice as many characters; the services ask for at least 32). */
const TOKEN_BYTES = 32;

/** A token file generated once per cache (`<cache>/data/services/<file>`, mode 0600), never printed or committed. */
export function generatedTokenFile(ctx: StackContext, file: string): string {
  const dir = join(ctx.dataDir, 'services');
  const path = join(dir, file);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, `${randomBytes(TOKEN_BYTES).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process of the same cache wrote it first: theirs stands.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return path;
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
