import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** `prev_hash` of the first row of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** Bumped if the hashed fields or their serialisation ever change; part of every hashed document. */
export const HASH_FORMAT_VERSION = 1;

/** The fields of one audit row that its hash covers, in the form they are stored and read back. */
export interface ChainedFields {
  readonly sequence: number;
  readonly idempotencyKey: string;
  readonly incidentId: string | null;
  readonly workflowId: string | null;
  readonly kind: string;
  readonly actor: string;
  /** See `canonicalTimestamp` (input.ts): UTC with microsecond digits. */
  readonly occurredAt: string;
  readonly recordedAt: string;
  /** A JSON value (already round-tripped through JSON, as the database returns it). */
  readonly payload: Readonly<Record<string, unknown>>;
  readonly prevHash: string;
}

/** RFC 8785 (JSON Canonicalization Scheme): sorted keys, fixed number and string forms. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}

/** The exact text that is hashed for one row. */
export function chainDocument(fields: ChainedFields): string {
  return canonicalJson({
    v: HASH_FORMAT_VERSION,
    sequence: fields.sequence,
    idempotencyKey: fields.idempotencyKey,
    incidentId: fields.incidentId,
    workflowId: fields.workflowId,
    kind: fields.kind,
    actor: fields.actor,
    occurredAt: fields.occurredAt,
    recordedAt: fields.recordedAt,
    payload: fields.payload,
    prevHash: fields.prevHash,
  });
}

/** SHA-256 (lowercase hex) of the row's canonical document, which includes the previous row's hash. */
export function hashRow(fields: ChainedFields): string {
  return createHash('sha256').update(chainDocument(fields), 'utf8').digest('hex');
}
