import type pg from 'pg';
import type { ChainHead } from './checkpoint.js';
import { GENESIS_HASH, hashRow } from './hash.js';
import { AUDIT_COLUMNS, type AuditRow, chainedFieldsOf } from './rows.js';

export const VERIFY_FAILURES = {
  /** The row's contents do not hash to its stored hash: the row (or its hash) was changed. */
  hashMismatch: 'hash-mismatch',
  /** The row's prev_hash is not the previous row's hash: the previous row was rewritten with a matching hash, or rows were spliced. */
  prevHashMismatch: 'prev-hash-mismatch',
  /** A sequence number is missing: a row was removed. */
  sequenceGap: 'sequence-gap',
  /** The last row is not the one the chain head records: rows were removed from the end. */
  headMismatch: 'head-mismatch',
  /** The row at the signed checkpoint's sequence has another hash: the chain up to it was rewritten (hashes recomputed). */
  checkpointMismatch: 'checkpoint-mismatch',
  /** The chain ends before the signed checkpoint's sequence: rows it covered were removed (and the head moved back). */
  checkpointBeyondChain: 'checkpoint-beyond-chain',
} as const;
export type VerifyFailure = (typeof VERIFY_FAILURES)[keyof typeof VERIFY_FAILURES];

export interface VerifyOptions {
  /** A checkpoint whose signature was checked: the row at its sequence must carry its hash. */
  readonly checkpoint?: ChainHead;
  /**
   * Walk from this checkpoint's row instead of the genesis: its row must still hash to it, the rows after it are
   * checked; the rows before it are not (a full verify covers them). What a new checkpoint is signed after.
   */
  readonly from?: ChainHead;
}

export type VerifyResult =
  | {
      readonly ok: true;
      /** Rows checked (from the genesis, or after `from`). */
      readonly rows: number;
      readonly headSequence: number;
      readonly headHash: string;
      /** The checkpoint the chain was checked against, when one was given. */
      readonly checkpointSequence?: number;
    }
  | {
      readonly ok: false;
      /** The first row at which the chain breaks (for a removed row: the missing sequence number). */
      readonly firstBadSequence: number;
      readonly reason: VerifyFailure;
      readonly detail: string;
      /** Rows found intact before the break. */
      readonly rows: number;
      /** The offending row as stored, when there is one. */
      readonly row?: AuditRow;
    };

const PAGE = 2000;

/**
 * Walks the whole chain in one consistent snapshot (appends may go on meanwhile) and stops at the
 * first row that does not hold: wrong hash, wrong link, missing sequence, or a head that points elsewhere.
 */
export async function verifyChain(client: pg.ClientBase, options: VerifyOptions = {}): Promise<VerifyResult> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const result = await walk(client, options);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

type Failure = Extract<VerifyResult, { ok: false }>;

function checkpointMismatch(checkpoint: ChainHead, found: string, rows: number, row?: AuditRow): Failure {
  return {
    ok: false,
    firstBadSequence: checkpoint.sequence,
    reason: VERIFY_FAILURES.checkpointMismatch,
    detail: `row ${checkpoint.sequence} has hash ${found} but the signed checkpoint recorded ${checkpoint.hash}: the chain up to row ${checkpoint.sequence} was rewritten`,
    rows,
    ...(row ? { row } : {}),
  };
}

/** The row a walk from a checkpoint starts at: present, intact, and still the one the checkpoint signed. */
async function startAt(client: pg.ClientBase, from: ChainHead): Promise<Failure | undefined> {
  if (from.sequence === 0) return from.hash === GENESIS_HASH ? undefined : checkpointMismatch(from, GENESIS_HASH, 0);
  const found = await client.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE sequence = $1`, [from.sequence]);
  const row = found.rows[0];
  if (!row) {
    return { ok: false, firstBadSequence: from.sequence, reason: VERIFY_FAILURES.checkpointBeyondChain, detail: `row ${from.sequence}, which the checkpoint signed, is missing`, rows: 0 };
  }
  if (hashRow(chainedFieldsOf(row)) !== row.hash) {
    return { ok: false, firstBadSequence: from.sequence, reason: VERIFY_FAILURES.hashMismatch, detail: `row ${from.sequence} does not hash to its stored hash: it was changed`, rows: 0, row };
  }
  return row.hash === from.hash ? undefined : checkpointMismatch(from, row.hash, 0, row);
}

async function walk(client: pg.ClientBase, options: VerifyOptions): Promise<VerifyResult> {
  const headResult = await client.query<{ last_sequence: string; last_hash: string }>(
    'SELECT last_sequence::text AS last_sequence, last_hash FROM audit_chain_head WHERE id',
  );
  const head = headResult.rows[0];
  const { checkpoint, from } = options;
  if (from) {
    const refused = await startAt(client, from);
    if (refused) return refused;
  }
  let lastSequence = from?.sequence ?? 0;
  let lastHash = from?.hash ?? GENESIS_HASH;
  let rows = 0;
  if (checkpoint && checkpoint.sequence === lastSequence && checkpoint.hash !== lastHash) return checkpointMismatch(checkpoint, lastHash, rows);
  for (;;) {
    const page = await client.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE sequence > $1 ORDER BY audit_events.sequence LIMIT ${PAGE}`,
      [lastSequence],
    );
    for (const row of page.rows) {
      const fields = chainedFieldsOf(row);
      const expected = lastSequence + 1;
      if (fields.sequence !== expected) {
        return {
          ok: false,
          firstBadSequence: expected,
          reason: VERIFY_FAILURES.sequenceGap,
          detail: `row ${expected} is missing (the next row is ${row.sequence})`,
          rows,
        };
      }
      if (hashRow(fields) !== row.hash) {
        return { ok: false, firstBadSequence: fields.sequence, reason: VERIFY_FAILURES.hashMismatch, detail: `row ${fields.sequence} does not hash to its stored hash: it was changed`, rows, row };
      }
      if (row.prev_hash !== lastHash) {
        return {
          ok: false,
          firstBadSequence: fields.sequence,
          reason: VERIFY_FAILURES.prevHashMismatch,
          detail: `row ${fields.sequence} does not link to ${lastSequence === 0 ? 'the genesis hash' : `row ${lastSequence}`}: ${lastSequence === 0 ? 'it' : `row ${lastSequence} (with its hash)`} was changed`,
          rows,
          row,
        };
      }
      if (checkpoint && fields.sequence === checkpoint.sequence && row.hash !== checkpoint.hash) return checkpointMismatch(checkpoint, row.hash, rows, row);
      lastSequence = fields.sequence;
      lastHash = row.hash;
      rows++;
    }
    if (page.rows.length < PAGE) break;
  }
  if (checkpoint && checkpoint.sequence > lastSequence) {
    return {
      ok: false,
      firstBadSequence: lastSequence + 1,
      reason: VERIFY_FAILURES.checkpointBeyondChain,
      detail: `the chain ends at row ${lastSequence} but a signed checkpoint recorded row ${checkpoint.sequence}: rows were removed`,
      rows,
    };
  }
  if (!head || Number(head.last_sequence) !== lastSequence || head.last_hash !== lastHash) {
    const headSequence = head ? Number(head.last_sequence) : 0;
    return {
      ok: false,
      firstBadSequence: Math.min(lastSequence, headSequence) + 1,
      reason: VERIFY_FAILURES.headMismatch,
      detail: head
        ? `the chain head records row ${headSequence} (hash ${head.last_hash}) but the last row is ${lastSequence} (hash ${lastHash})`
        : 'the chain head row is missing',
      rows,
    };
  }
  return { ok: true, rows, headSequence: lastSequence, headHash: lastHash, ...(checkpoint ? { checkpointSequence: checkpoint.sequence } : {}) };
}
