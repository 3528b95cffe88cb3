import type { AuditKind, AuditRecord } from '@cortexops/contracts';
import type { ChainedFields } from './hash.js';
import { contractTimestamp } from './input.js';

const CANONICAL_TS = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/**
 * Every audit column, in the exact text form the hash covers: timestamps printed in UTC with
 * microseconds (so a changed sub-millisecond digit is seen too), the sequence as text (bigint).
 */
export const AUDIT_COLUMNS = `sequence::text AS sequence, idempotency_key, incident_id, workflow_id, kind, actor,
  to_char(occurred_at AT TIME ZONE 'UTC', ${CANONICAL_TS}) AS occurred_at,
  to_char(recorded_at AT TIME ZONE 'UTC', ${CANONICAL_TS}) AS recorded_at,
  payload, prev_hash, hash`;

/** One `audit_events` row as selected with {@link AUDIT_COLUMNS}. Order by `audit_events.sequence`: a bare `sequence` would sort the text alias. */
export interface AuditRow {
  readonly sequence: string;
  readonly idempotency_key: string;
  readonly incident_id: string | null;
  readonly workflow_id: string | null;
  readonly kind: string;
  readonly actor: string;
  readonly occurred_at: string;
  readonly recorded_at: string;
  readonly payload: Record<string, unknown>;
  readonly prev_hash: string;
  readonly hash: string;
}

export function chainedFieldsOf(row: AuditRow): ChainedFields {
  return {
    sequence: Number(row.sequence),
    idempotencyKey: row.idempotency_key,
    incidentId: row.incident_id,
    workflowId: row.workflow_id,
    kind: row.kind,
    actor: row.actor,
    occurredAt: row.occurred_at,
    recordedAt: row.recorded_at,
    payload: row.payload,
    prevHash: row.prev_hash,
  };
}

/** The contract form of a stored row (timestamps with milliseconds, absent optionals left out). */
export function recordOf(fields: ChainedFields, hash: string): AuditRecord {
  return {
    sequence: fields.sequence,
    idempotencyKey: fields.idempotencyKey,
    ...(fields.incidentId === null ? {} : { incidentId: fields.incidentId }),
    ...(fields.workflowId === null ? {} : { workflowId: fields.workflowId }),
    kind: fields.kind as AuditKind,
    actor: fields.actor,
    occurredAt: contractTimestamp(fields.occurredAt),
    recordedAt: contractTimestamp(fields.recordedAt),
    payload: { ...fields.payload },
    prevHash: fields.prevHash,
    hash,
  };
}

export function recordOfRow(row: AuditRow): AuditRecord {
  return recordOf(chainedFieldsOf(row), row.hash);
}
