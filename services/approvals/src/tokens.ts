import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuditStore } from '@cortexops/audit';
import type { Logger } from '@cortexops/observability';
import pg from 'pg';
import { z } from 'zod';
import { migrateApprovals } from './migrate.js';

/** A person's name as their decisions record it: lower case, an e-mail address or a login (never a Slack user id). */
export const approverName = z.string().regex(/^[a-z0-9][a-z0-9._@+-]{0,127}$/, 'must be 1-128 of a-z, 0-9, ".", "_", "@", "+", "-" (an e-mail address or login, lower case)');

/** `cxa_<16 hex id>_<43 base64url secret>`: the id finds the row, the secret (256 bits) is what is checked. */
const TOKEN_FORMAT = /^cxa_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** The database role may only read the approver tokens (the services' application role): tokens are managed as the owner. */
export class ApproverTokensReadOnlyError extends Error {
  readonly code = 'APPROVER_TOKENS_READ_ONLY';
  constructor(
    readonly role: string,
    readonly privilege: string,
  ) {
    super(`the database role ${role} may not ${privilege === 'INSERT' ? 'issue' : 'revoke'} approver tokens (it only reads them): manage tokens as the owner role — set CORTEXOPS_DATABASE_MIGRATION_URL`);
    this.name = 'ApproverTokensReadOnlyError';
  }
}

export interface ApproverToken {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly revokedAt?: string;
  readonly revokedBy?: string;
}

/** The person a valid token belongs to. */
export interface Approver {
  readonly name: string;
  readonly tokenId: string;
}

interface Row {
  id: string;
  name: string;
  token_hash: string;
  created_at: Date;
  created_by: string;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_by: string | null;
}

const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');

function tokenOf(row: Row): ApproverToken {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    expiresAt: row.expires_at.toISOString(),
    ...(row.revoked_at ? { revokedAt: row.revoked_at.toISOString() } : {}),
    ...(row.revoked_by ? { revokedBy: row.revoked_by } : {}),
  };
}

export interface ApproverTokensOptions {
  readonly databaseUrl: string;
  /** Where every change of the approver list is written (kind `approver.changed`). */
  readonly audit: Pick<AuditStore, 'append'>;
  readonly logger?: Logger;
  readonly now?: () => Date;
}

/**
 * Personal approver tokens (PostgreSQL, table `approver_tokens`): issued to a named person with an expiry, shown once,
 * stored as a SHA-256 of their secret, revoked by an administrator. A token names who decides on the HTTP API and the
 * CLI; every issue and revocation is appended to the audit trail.
 */
export class ApproverTokens {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: ApproverTokensOptions,
  ) {}

  static async create(options: ApproverTokensOptions): Promise<ApproverTokens> {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4, application_name: 'cortexops-approver-tokens' });
    pool.on('error', (error) => options.logger?.warn({ err: error }, 'approver tokens: idle PostgreSQL connection failed'));
    try {
      await migrateApprovals(pool, options.logger);
      return new ApproverTokens(pool, options);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  /**
   * Managing tokens needs a role that may write `approver_tokens` (the owner role: `cortexops-approve tokens` with
   * CORTEXOPS_DATABASE_MIGRATION_URL); the services' application role may only read it. Asked before anything is
   * audited, so a refused attempt leaves no `approver.changed` record of a change that never happened.
   */
  private async mayManage(privilege: 'INSERT' | 'UPDATE'): Promise<void> {
    const { rows } = await this.pool.query<{ may: boolean; role: string }>('SELECT has_table_privilege(current_user, $1, $2) AS may, current_user AS role', ['approver_tokens', privilege]);
    if (!rows[0]?.may) throw new ApproverTokensReadOnlyError(rows[0]?.role ?? '?', privilege);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** Issues a token to `name`, valid until `expiresAt`; the token is in the answer only (never stored, never logged). */
  async issue(input: { readonly name: string; readonly expiresAt: Date; readonly by: string }): Promise<{ readonly token: string; readonly record: ApproverToken }> {
    const name = approverName.parse(input.name);
    await this.mayManage('INSERT');
    const now = this.now();
    if (!(input.expiresAt.getTime() > now.getTime())) throw new Error('a token must expire in the future');
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const record: ApproverToken = { id, name, createdAt: now.toISOString(), createdBy: input.by, expiresAt: input.expiresAt.toISOString() };
    // Audited first: a credential must never exist without its trace (a failed insert leaves a trace of nothing).
    await this.changed('issued', record, input.by);
    await this.pool.query('INSERT INTO approver_tokens (id, name, token_hash, created_at, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      id,
      name,
      digest(secret),
      now,
      input.by,
      input.expiresAt,
    ]);
    return { token: `cxa_${id}_${secret}`, record };
  }

  /** Every token, newest first (never their secrets). */
  async list(): Promise<ApproverToken[]> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM approver_tokens ORDER BY created_at DESC, id');
    return rows.map(tokenOf);
  }

  /** Revokes one token (by id) or every live token of a person (by name); answers what was revoked. */
  async revoke(idOrName: string, by: string): Promise<ApproverToken[]> {
    await this.mayManage('UPDATE');
    const { rows } = await this.pool.query<Row>(
      'UPDATE approver_tokens SET revoked_at = $2, revoked_by = $3 WHERE (id = $1 OR name = $1) AND revoked_at IS NULL RETURNING *',
      [idOrName, this.now(), by],
    );
    const revoked = rows.map(tokenOf);
    for (const record of revoked) await this.changed('revoked', record, by);
    return revoked;
  }

  /** The person `presented` belongs to, or `undefined` (malformed, unknown, wrong secret, revoked or expired). */
  async authenticate(presented: string): Promise<Approver | undefined> {
    const match = TOKEN_FORMAT.exec(presented);
    if (!match) return undefined;
    const [, id, secret] = match as unknown as [string, string, string];
    const { rows } = await this.pool.query<Row>('SELECT * FROM approver_tokens WHERE id = $1', [id]);
    const row = rows[0];
    if (!row || !timingSafeEqual(Buffer.from(digest(secret)), Buffer.from(row.token_hash))) return undefined;
    if (row.revoked_at !== null || row.expires_at.getTime() <= this.now().getTime()) return undefined;
    return { name: row.name, tokenId: row.id };
  }

  private async changed(change: 'issued' | 'revoked', record: ApproverToken, by: string): Promise<void> {
    await this.options.audit.append({
      idempotencyKey: `approvals/approver/${record.id}/${change}`,
      kind: 'approver.changed',
      actor: by,
      occurredAt: (change === 'issued' ? record.createdAt : record.revokedAt) ?? this.now().toISOString(),
      payload: { change, approver: record.name, tokenId: record.id, expiresAt: record.expiresAt },
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
