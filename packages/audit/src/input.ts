import { type AuditEvent, type ValidationIssue, AuditEvent as AuditEventContract } from '@cortexops/contracts';
import { AuditInputError, prefixed } from './errors.js';
import type { ChainedFields } from './hash.js';

/** Largest payload accepted, as JSON text. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
const MAX_PAYLOAD_DEPTH = 32;

/** An audit event as callers write it (`payload` may be left out). */
export type AuditEventInput = Omit<AuditEvent, 'payload'> & { payload?: AuditEvent['payload'] };

/** A validated event in exactly the form that is stored and hashed (its chain fields come at append). */
export type PreparedEvent = Omit<ChainedFields, 'sequence' | 'recordedAt' | 'prevHash' | 'payload'> & {
  /** The payload as it reads back from the database (JSON round-trip). */
  readonly payload: Record<string, unknown>;
  readonly payloadJson: string;
};

/**
 * The one text form of a timestamp in the hash chain: UTC, microsecond digits, as PostgreSQL prints a
 * `timestamptz` with `to_char(... 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`. Values are stored with
 * millisecond precision (finer digits of the input are dropped), so the last three digits are zeros
 * unless someone changed the row.
 */
export function canonicalTimestamp(value: string | Date): string {
  const iso = (typeof value === 'string' ? new Date(value) : value).toISOString();
  return `${iso.slice(0, -1)}000Z`;
}

/** ISO-8601 with milliseconds (the contract form) from a canonical timestamp. */
export function contractTimestamp(canonical: string): string {
  return new Date(canonical).toISOString();
}

// PostgreSQL text and jsonb cannot hold U+0000, and lone surrogates do not survive UTF-8: either
// would make the stored row differ from the hashed one, so both are refused up front.
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function storableStringProblem(value: string): string | undefined {
  return UNSTORABLE.test(value) ? 'must not contain NUL characters or unpaired surrogates' : undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object without prototype';
  if (typeof value === 'number') return String(value);
  return typeof value;
}

function child(parent: string, key: string | number): string {
  if (typeof key === 'number') return parent === '(root)' ? `[${key}]` : `${parent}[${key}]`;
  return parent === '(root)' ? key : `${parent}.${key}`;
}

/** Finds the first part of `value` that is not plain, storable JSON. Object keys holding `undefined` are allowed (dropped). */
export function jsonProblem(value: unknown, field: string, depth = 0): ValidationIssue | undefined {
  if (depth > MAX_PAYLOAD_DEPTH) return { field, problem: `must be nested at most ${MAX_PAYLOAD_DEPTH} levels deep` };
  switch (typeof value) {
    case 'string': {
      const problem = storableStringProblem(value);
      return problem ? { field, problem } : undefined;
    }
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { field, problem: `must be a JSON value (got ${describe(value)})` };
    case 'object': {
      if (value === null) return undefined;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined) return { field: child(field, i), problem: 'must be a JSON value (got undefined)' };
          const problem = jsonProblem(item, child(field, i), depth + 1);
          if (problem) return problem;
        }
        return undefined;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return { field, problem: `must be a JSON value (got ${describe(value)})` };
      for (const [key, item] of Object.entries(value)) {
        const keyProblem = storableStringProblem(key);
        if (keyProblem) return { field: child(field, JSON.stringify(key)), problem: `key ${keyProblem}` };
        if (item === undefined) continue;
        const problem = jsonProblem(item, child(field, key), depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    default:
      return { field, problem: `must be a JSON value (got ${describe(value)})` };
  }
}

/** Validates a JSON object for storage and returns it as the database will give it back, with its text. */
export function prepareJson(value: Record<string, unknown>, field: string, what: string): { value: Record<string, unknown>; json: string } {
  const problem = jsonProblem(value, field);
  if (problem) throw new AuditInputError(what, [problem]);
  const json = JSON.stringify(value);
  if (Buffer.byteLength(json, 'utf8') > MAX_PAYLOAD_BYTES) {
    throw new AuditInputError(what, [{ field, problem: `must be at most ${MAX_PAYLOAD_BYTES} bytes as JSON` }]);
  }
  return { value: JSON.parse(json) as Record<string, unknown>, json };
}

/** Validates one audit event against its contract and the store's limits; `prefix` names it in a batch (`[3]`). */
export function prepareEvent(input: unknown, prefix = ''): PreparedEvent {
  const result = AuditEventContract.validate(input);
  if (!result.ok) throw AuditInputError.fromContract(result.error, prefix);
  const event = result.value;
  const strings: [string, string | undefined][] = [
    ['idempotencyKey', event.idempotencyKey],
    ['actor', event.actor],
    ['workflowId', event.workflowId],
  ];
  for (const [field, value] of strings) {
    const problem = value === undefined ? undefined : storableStringProblem(value);
    if (problem) throw new AuditInputError('AuditEvent', [{ field: prefixed(prefix, field), problem }]);
  }
  const payload = prepareJson(event.payload, prefixed(prefix, 'payload'), 'AuditEvent');
  return {
    idempotencyKey: event.idempotencyKey,
    incidentId: event.incidentId ?? null,
    workflowId: event.workflowId ?? null,
    kind: event.kind,
    actor: event.actor,
    occurredAt: canonicalTimestamp(event.occurredAt),
    payload: payload.value,
    payloadJson: payload.json,
  };
}
