import type pg from 'pg';
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
} as const;
export type VerifyFailure = (typeof VERIFY_FAILURES)[keyof typeof VERIFY_FAILURES];

export type VerifyResult =
  | { readonly ok: true; readonly rows: number; readonly headSequence: number; readonly headHash: string }
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
export async function verifyChain(client: pg.ClientBase): Promise<VerifyResult> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const result = await walk(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function walk(client: pg.ClientBase): Promise<VerifyResult> {
  const headResult = await client.query<{ last_sequence: string; last_hash: string }>(
    'SELECT last_sequence::text AS last_sequence, last_hash FROM audit_chain_head WHERE id',
  );
  const head = headResult.rows[0];
  let lastSequence = 0;
  let lastHash = GENESIS_HASH;
  let rows = 0;
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
      lastSequence = fields.sequence;
      lastHash = row.hash;
      rows++;
    }
    if (page.rows.length < PAGE) break;
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
  return { ok: true, rows, headSequence: lastSequence, headHash: lastHash };
}
