import { type Incident, type IncidentList, type IncidentSummary, incidentListQuerySchema, incidentWorkflowId, type WorkflowState } from '@cortexops/contracts';
import type pg from 'pg';
import type { z } from 'zod';
import { API_ERROR_CODES, ApiError } from './errors.js';

export type IncidentListFilter = z.output<typeof incidentListQuerySchema>;

/** Keyset position of the last incident of a page: its `updated_at` as PostgreSQL prints it (microseconds) and its id. */
interface Cursor {
  readonly updatedAt: string;
  readonly id: string;
}

const CANONICAL_TS = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.updatedAt, cursor.id])).toString('base64url');
}

export function decodeCursor(value: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string' && !Number.isNaN(Date.parse(parsed[0]))) {
    return { updatedAt: parsed[0], id: parsed[1] };
  }
  throw new ApiError(API_ERROR_CODES.invalid, 'invalid cursor: must be a nextCursor this api returned', { details: [{ field: 'querystring.cursor', problem: 'must be a nextCursor this api returned' }] });
}

interface Row {
  record: Incident;
  state: WorkflowState | null;
  state_at: Date | null;
  cursor_at: string;
}

const CURSOR_AT = `to_char(i.updated_at AT TIME ZONE 'UTC', ${CANONICAL_TS}) AS cursor_at`;

/** The latest `workflow.state` of incident `i` (one index look-up on `audit_events (incident_id, sequence)`). */
const LATEST_STATE = `LEFT JOIN LATERAL (
  SELECT e.payload->>'to' AS state, e.occurred_at AS at FROM audit_events e
  WHERE e.incident_id = i.id AND e.kind = 'workflow.state' ORDER BY e.sequence DESC LIMIT 1
) s ON true`;

const ORDER = 'ORDER BY i.updated_at DESC, i.id';

/**
 * The incidents, most recently updated first, filtered, one keyset page at a time, each with its workflow's latest
 * state from the audit trail. Without a state filter the page is cut first and only its rows look their state up;
 * filtering by state needs every candidate's state.
 */
function listSql(where: readonly string[], byState: boolean, limitParam: string): string {
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  if (byState) return `SELECT i.record, s.state, s.at AS state_at, ${CURSOR_AT} FROM incidents i ${LATEST_STATE} ${filter} ${ORDER} LIMIT ${limitParam}`;
  return `SELECT i.record, s.state, s.at AS state_at, ${CURSOR_AT}
FROM (SELECT * FROM incidents i ${filter} ${ORDER} LIMIT ${limitParam}) i ${LATEST_STATE} ${ORDER}`;
}

function summaryOf(row: Row): IncidentSummary {
  const r = row.record;
  return {
    id: r.id,
    cluster: r.cluster,
    title: r.title,
    severity: r.severity,
    status: r.status,
    target: r.target,
    ...(r.rootCause ? { rootCause: r.rootCause } : {}),
    openedAt: r.openedAt,
    updatedAt: r.updatedAt,
    workflowId: incidentWorkflowId(r.id),
    state: row.state,
    stateAt: row.state_at ? row.state_at.toISOString() : null,
  };
}

/** Read-only queries over the audit store's `incidents` and `audit_events` tables that the store's own API does not offer. */
export class IncidentQueries {
  constructor(private readonly pool: Pick<pg.Pool, 'query'>) {}

  async list(filter: IncidentListFilter): Promise<IncidentList> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: (param: string) => string, value: unknown) => {
      values.push(value);
      where.push(sql(`$${values.length}`));
    };
    if (filter.status !== undefined) add((p) => `i.status = ${p}`, filter.status);
    if (filter.cluster !== undefined) add((p) => `i.cluster = ${p}`, filter.cluster);
    if (filter.namespace !== undefined) add((p) => `i.record->'target'->>'namespace' = ${p}`, filter.namespace);
    if (filter.target !== undefined) add((p) => `i.record->'target'->>'name' = ${p}`, filter.target);
    if (filter.kind !== undefined) add((p) => `i.record->'target'->>'kind' = ${p}`, filter.kind);
    if (filter.from !== undefined) add((p) => `i.opened_at >= ${p}::timestamptz`, filter.from);
    if (filter.to !== undefined) add((p) => `i.opened_at < ${p}::timestamptz`, filter.to);
    if (filter.state !== undefined) add((p) => `s.state = ${p}`, filter.state);
    if (filter.cursor !== undefined) {
      const cursor = decodeCursor(filter.cursor);
      values.push(cursor.updatedAt, cursor.id);
      const [at, id] = [`$${values.length - 1}::timestamptz`, `$${values.length}`];
      where.push(`(i.updated_at < ${at} OR (i.updated_at = ${at} AND i.id > ${id}))`);
    }
    values.push(filter.limit + 1);
    const result = await this.pool.query<Row>(listSql(where, filter.state !== undefined, `$${values.length}`), values);
    const rows = result.rows.slice(0, filter.limit);
    const last = rows[rows.length - 1];
    return {
      incidents: rows.map(summaryOf),
      ...(result.rows.length > filter.limit && last ? { nextCursor: encodeCursor({ updatedAt: last.cursor_at, id: last.record.id }) } : {}),
    };
  }

  async summary(id: string): Promise<IncidentSummary | undefined> {
    const result = await this.pool.query<Row>(`SELECT i.record, s.state, s.at AS state_at, ${CURSOR_AT} FROM incidents i ${LATEST_STATE} WHERE i.id = $1`, [id]);
    const row = result.rows[0];
    return row ? summaryOf(row) : undefined;
  }
}

/** The filter as the contract reads a query string (defaults applied), for callers outside HTTP (the bench). */
export function incidentFilter(query: Record<string, unknown> = {}): IncidentListFilter {
  return incidentListQuerySchema.parse(query);
}
