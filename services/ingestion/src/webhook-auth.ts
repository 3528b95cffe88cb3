import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/** Shortest token accepted in the file: a shorter one authenticates nobody (a placeholder left in a Secret). */
export const MIN_WEBHOOK_TOKEN_LENGTH = 32;

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The bearer token Alertmanager presents (`http_config.authorization.credentials_file`), read from the same kind of
 * file: re-read when the file changes, so rotating the Secret needs no restart. A missing, unreadable or too short
 * file authenticates nobody — the webhook then refuses every call rather than taking them all.
 */
export class WebhookToken {
  private loaded: { readonly mtimeMs: number; readonly size: number; readonly digest: Buffer | undefined } | undefined;

  constructor(private readonly path: string) {}

  /** True when `authorization` is `Bearer <the file's token>` (compared in constant time). */
  accepts(authorization: string | undefined): boolean {
    const expected = this.current();
    if (expected === undefined || authorization === undefined) return false;
    const match = /^Bearer +(\S+)\s*$/i.exec(authorization);
    if (match?.[1] === undefined) return false;
    return timingSafeEqual(digest(match[1]), expected);
  }

  /** Why nobody can authenticate now (for the start-up log), or undefined when the file holds a usable token. */
  problem(): string | undefined {
    try {
      const token = readFileSync(this.path, 'utf8').trim();
      return token.length < MIN_WEBHOOK_TOKEN_LENGTH ? `${this.path} holds a token shorter than ${MIN_WEBHOOK_TOKEN_LENGTH} characters` : undefined;
    } catch (error) {
      return `${this.path} cannot be read: ${(error as Error).message}`;
    }
  }

  private current(): Buffer | undefined {
    let stat;
    try {
      stat = statSync(this.path);
    } catch {
      this.loaded = undefined;
      return undefined;
    }
    if (this.loaded?.mtimeMs !== stat.mtimeMs || this.loaded.size !== stat.size) {
      let token = '';
      try {
        token = readFileSync(this.path, 'utf8').trim();
      } catch {
        token = '';
      }
      this.loaded = { mtimeMs: stat.mtimeMs, size: stat.size, digest: token.length >= MIN_WEBHOOK_TOKEN_LENGTH ? digest(token) : undefined };
    }
    return this.loaded.digest;
  }
}
