import {
  type ActionReceipt,
  type AuditQuery,
  type AuditRecord,
  type Incident,
  type IncidentStatus,
  ActionReceipt as ActionReceiptContract,
  Action as ActionContract,
  AuditQuery as AuditQueryContract,
  Incident as IncidentContract,
  PolicyDecision as PolicyDecisionContract,
  defineContract,
  incidentSchema,
  type Action,
  type PolicyDecision,
} from '@cortexops/contracts';
import { type DependencyCheck, type Logger, postgresCheck } from '@cortexops/observability';
import pg from 'pg';
import { withClient } from './client.js';
import { AuditConflictError, AuditInputError, AuditNotFoundError, AuditSchemaMissingError } from './errors.js';
import { type ChainedFields, canonicalJson, hashRow } from './hash.js';
import { type AuditEventInput, type PreparedEvent, canonicalTimestamp, prepareEvent, prepareJson, storableStringProblem } from './input.js';
import { applicationRoleOf, migrate } from './migrate.js';
import { AUDIT_COLUMNS, type AuditRow, chainedFieldsOf, recordOf, recordOfRow } from './rows.js';
import { type VerifyOptions, type VerifyResult, verifyChain } from './verify.js';

/** Most events one `appendMany` takes (one transaction, one multi-row insert). */
export const MAX_BATCH = 5000;

export interface AuditStoreOptions {
  readonly databaseUrl: string;
  readonly logger?: Logger;
  /** Run the migrations on open (default). `verify` opens without, so that it never changes the schema. */
  readonly migrate?: boolean;
  /**
   * The owner role's URL. The migrations then run through it (one connection of their own, closed afterwards) and
   * the role of `databaseUrl` is given the application role's rights; the store itself uses `databaseUrl` only.
   * Without it, the migrations run as `databaseUrl`'s role (an application role passes when nothing is pending).
   */
  readonly migrationUrl?: string | undefined;
  /** Connections in the pool (default 10). */
  readonly poolSize?: number;
}

export interface AuditPage {
  readonly records: AuditRecord[];
  /** Pass as `afterSequence` to read the next page; absent on the last page. */
  readonly nextAfterSequence?: number;
}

/** A policy denial, written as a `policy.violation` audit event. */
export interface PolicyViolationInput {
  readonly idempotencyKey: string;
  readonly incidentId: string;
  readonly workflowId?: string;
  readonly actor: string;
  readonly occurredAt: string;
  readonly action: Action;
  readonly decision: PolicyDecision;
}

export interface IncidentListFilter {
  readonly status?: IncidentStatus;
  readonly cluster?: string;
  readonly limit?: number;
}

/** What the remediation workflow's activities need from the store. */
export interface AuditWriter {
  append(event: AuditEventInput): Promise<AuditRecord>;
  appendMany(events: readonly AuditEventInput[]): Promise<AuditRecord[]>;
  recordPolicyViolation(input: PolicyViolationInput): Promise<AuditRecord>;
  upsertIncident(incident: Incident): Promise<Incident>;
  setIncidentStatus(id: string, status: IncidentStatus, at: string): Promise<Incident>;
  recordActionReceipt(receipt: ActionReceipt): Promise<ActionReceipt>;
  getActionReceipt(remediationId: string): Promise<ActionReceipt | undefined>;
  markActionReverted(remediationId: string, at: string): Promise<ActionReceipt>;
}

const UNDEFINED_TABLE = '42P01';
const statusChange = defineContract('IncidentStatusChange', incidentSchema.pick({ id: true, status: true, updatedAt: true }));
const incidentFilter = defineContract(
  'IncidentListFilter',
  incidentSchema.pick({ status: true, cluster: true }).partial().extend({ limit: AuditQueryContract.schema.shape.limit }),
);
const receiptRef = defineContract('ActionReceiptRef', ActionReceiptContract.schema.pick({ remediationId: true }));
const receiptRevert = defineContract('ActionReceiptRevert', ActionReceiptContract.schema.pick({ remediationId: true, revertedAt: true }).required());
const incidentIdOnly = defineContract('IncidentRef', incidentSchema.pick({ id: true }));

function isUndefinedTable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === UNDEFINED_TABLE;
}

function parseOrThrow<T>(result: { ok: true; value: T } | { ok: false; error: Parameters<typeof AuditInputError.fromContract>[0] }): T {
  if (!result.ok) throw AuditInputError.fromContract(result.error);
  return result.value;
}

const INSERT_EVENTS = `
WITH inserted AS (
  INSERT INTO audit_events (sequence, idempotency_key, incident_id, workflow_id, kind, actor, occurred_at, recorded_at, payload, prev_hash, hash)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::jsonb[], $10::text[], $11::text[])
  RETURNING 1
)
UPDATE audit_chain_head SET last_sequence = $12, last_hash = $13
WHERE id AND (SELECT count(*) FROM inserted) = $14`;

interface StoredEvent {
  readonly fields: ChainedFields;
  readonly record: AuditRecord;
}

/** The caller-given fields of `event` that differ from the row stored under its key (the chain fields are the store's own). */
function contentDifferences(event: PreparedEvent, stored: ChainedFields): string[] {
  const same: Record<string, boolean> = {
    incidentId: event.incidentId === stored.incidentId,
    workflowId: event.workflowId === stored.workflowId,
    kind: event.kind === stored.kind,
    actor: event.actor === stored.actor,
    occurredAt: event.occurredAt === stored.occurredAt,
    payload: canonicalJson(event.payload) === canonicalJson(stored.payload),
  };
  return Object.keys(same).filter((field) => !same[field]);
}

interface IncidentRow {
  record: Incident;
}

interface ReceiptRow {
  remediation_id: string;
  incident_id: string;
  workflow_id: string | null;
  action: Action;
  prior_spec: Record<string, unknown> | null;
  receipt: Record<string, unknown>;
  applied_at: Date;
  reverted_at: Date | null;
}

function receiptOf(row: ReceiptRow): ActionReceipt {
  return {
    remediationId: row.remediation_id,
    incidentId: row.incident_id,
    ...(row.workflow_id === null ? {} : { workflowId: row.workflow_id }),
    action: row.action,
    ...(row.prior_spec === null ? {} : { priorSpec: row.prior_spec }),
    receipt: row.receipt,
    appliedAt: row.applied_at.toISOString(),
    ...(row.reverted_at === null ? {} : { revertedAt: row.reverted_at.toISOString() }),
  };
}

async function migrateAsOwner(migrationUrl: string, databaseUrl: string, logger: Logger | undefined): Promise<void> {
  const owner = new pg.Pool({ connectionString: migrationUrl, max: 1, application_name: 'cortexops-audit-migrate' });
  owner.on('error', () => {});
  try {
    await migrate(owner, { logger, appRole: applicationRoleOf(databaseUrl, migrationUrl) });
  } finally {
    await owner.end();
  }
}

/**
 * The PostgreSQL audit store: an append-only, hash-chained audit trail (the database refuses
 * UPDATE, DELETE and TRUNCATE of its rows), incident records and action receipts.
 */
export class AuditStore implements AuditWriter {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger | undefined,
  ) {}

  /** Connects, runs the migrations (unless `migrate: false`) and returns a ready store. */
  static async create(options: AuditStoreOptions): Promise<AuditStore> {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10, application_name: 'cortexops-audit' });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', (error) => options.logger?.warn({ err: error }, 'audit: idle PostgreSQL connection failed'));
    try {
      if (options.migrate ?? true) {
        if (options.migrationUrl === undefined) await migrate(pool, { logger: options.logger });
        else await migrateAsOwner(options.migrationUrl, options.databaseUrl, options.logger);
      }
      return new AuditStore(pool, options.logger);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** `SELECT 1` through the pool, for `/debug/healthz`. */
  dependencyCheck(required = true): DependencyCheck {
    return postgresCheck(this.pool, required);
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return withClient(this.pool, async (client) => {
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw isUndefinedTable(error) ? new AuditSchemaMissingError({ cause: error }) : error;
      }
    });
  }

  private async run<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, values);
    } catch (error) {
      throw isUndefinedTable(error) ? new AuditSchemaMissingError({ cause: error }) : error;
    }
  }

  // ---- audit trail -------------------------------------------------------------------------

  /**
   * Appends one event. Idempotent: an event whose `idempotencyKey` is already stored with the same content is not
   * written again, and the stored record (same sequence and hash) is returned; the same key with other content is
   * an {@link AuditConflictError}.
   */
  async append(event: AuditEventInput): Promise<AuditRecord> {
    const [record] = await this.appendMany([event]);
    if (!record) throw new Error('audit: append returned no record');
    return record;
  }

  /**
   * Appends events in order, in one transaction and one multi-row insert, chaining each to the one
   * before. Already stored keys (and repeats within the batch) return the stored record when their content is the
   * same; otherwise the whole batch is refused with an {@link AuditConflictError}.
   */
  async appendMany(events: readonly AuditEventInput[]): Promise<AuditRecord[]> {
    if (!Array.isArray(events)) throw new AuditInputError('AuditEvent[]', [{ field: '(root)', problem: 'must be an array' }]);
    if (events.length > MAX_BATCH) throw new AuditInputError('AuditEvent[]', [{ field: '(root)', problem: `must hold at most ${MAX_BATCH} events` }]);
    if (events.length === 0) return [];
    const prepared = events.map((event, i) => prepareEvent(event, events.length === 1 ? '' : `[${i}]`));
    return this.transaction((client) => this.chain(client, prepared));
  }

  private async chain(client: pg.PoolClient, events: readonly PreparedEvent[]): Promise<AuditRecord[]> {
    // The head row lock serialises appends: the chain never forks, and no other writer can insert a
    // key between the look-up below and the insert.
    const head = await client.query<{ last_sequence: string; last_hash: string }>(
      'SELECT last_sequence::text AS last_sequence, last_hash FROM audit_chain_head WHERE id FOR UPDATE',
    );
    const headRow = head.rows[0];
    if (!headRow) throw new Error('audit: the chain head row is missing');
    const keys = [...new Set(events.map((e) => e.idempotencyKey))];
    const existing = await client.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE idempotency_key = ANY($1::text[])`, [keys]);
    const byKey = new Map<string, StoredEvent>(existing.rows.map((row) => [row.idempotency_key, { fields: chainedFieldsOf(row), record: recordOfRow(row) }]));

    let sequence = Number(headRow.last_sequence);
    let prevHash = headRow.last_hash;
    const recordedAt = canonicalTimestamp(new Date());
    const columns: unknown[][] = Array.from({ length: 11 }, () => []);
    const out: AuditRecord[] = [];
    for (const event of events) {
      const known = byKey.get(event.idempotencyKey);
      if (known) {
        const differs = contentDifferences(event, known.fields);
        if (differs.length > 0) throw new AuditConflictError(event.idempotencyKey, differs, known.record);
        out.push(known.record);
        continue;
      }
      sequence++;
      const fields: ChainedFields = {
        sequence,
        idempotencyKey: event.idempotencyKey,
        incidentId: event.incidentId,
        workflowId: event.workflowId,
        kind: event.kind,
        actor: event.actor,
        occurredAt: event.occurredAt,
        recordedAt,
        payload: event.payload,
        prevHash,
      };
      const hash = hashRow(fields);
      const row = [sequence, event.idempotencyKey, event.incidentId, event.workflowId, event.kind, event.actor, event.occurredAt, recordedAt, event.payloadJson, prevHash, hash];
      row.forEach((value, i) => columns[i]?.push(value));
      const record = recordOf(fields, hash);
      byKey.set(event.idempotencyKey, { fields, record });
      out.push(record);
      prevHash = hash;
    }
    const inserted = columns[0]?.length ?? 0;
    if (inserted > 0) {
      const result = await client.query(INSERT_EVENTS, [...columns, sequence, prevHash, inserted]);
      if (result.rowCount !== 1) throw new Error(`audit: chain head did not move to ${sequence}`);
      this.logger?.debug({ inserted, lastSequence: sequence }, 'audit events appended');
    }
    return out;
  }

  /** Writes a policy denial as a `policy.violation` event carrying the action and the decision. */
  async recordPolicyViolation(input: PolicyViolationInput): Promise<AuditRecord> {
    const action = ActionContract.validate(input?.action);
    if (!action.ok) throw AuditInputError.fromContract(action.error, 'action');
    const decision = PolicyDecisionContract.validate(input?.decision);
    if (!decision.ok) throw AuditInputError.fromContract(decision.error, 'decision');
    if (decision.value.allow) throw new AuditInputError('PolicyViolation', [{ field: 'decision.allow', problem: 'must be false: only a denial is a violation' }]);
    return this.append({
      idempotencyKey: input.idempotencyKey,
      incidentId: input.incidentId,
      ...(input.workflowId === undefined ? {} : { workflowId: input.workflowId }),
      kind: 'policy.violation',
      actor: input.actor,
      occurredAt: input.occurredAt,
      payload: { action: action.value, decision: decision.value },
    });
  }

  /** Audit events matching every given filter, oldest first, one page at a time. */
  async query(filter: AuditQuery = {}): Promise<AuditPage> {
    const q = parseOrThrow(AuditQueryContract.validate(filter));
    if (q.actor !== undefined) {
      const problem = storableStringProblem(q.actor);
      if (problem) throw new AuditInputError('AuditQuery', [{ field: 'actor', problem }]);
    }
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: (param: string) => string, value: unknown) => {
      values.push(value);
      where.push(sql(`$${values.length}`));
    };
    if (q.incidentId !== undefined) add((p) => `incident_id = ${p}`, q.incidentId);
    if (q.actor !== undefined) add((p) => `actor = ${p}`, q.actor);
    if (q.kinds !== undefined) add((p) => `kind = ANY(${p}::text[])`, q.kinds);
    if (q.from !== undefined) add((p) => `occurred_at >= ${p}`, canonicalTimestamp(q.from));
    if (q.to !== undefined) add((p) => `occurred_at < ${p}`, canonicalTimestamp(q.to));
    if (q.afterSequence !== undefined) add((p) => `sequence > ${p}`, q.afterSequence);
    values.push(q.limit + 1);
    const sql = `SELECT ${AUDIT_COLUMNS} FROM audit_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY audit_events.sequence LIMIT $${values.length}`;
    const result = await this.run<AuditRow>(sql, values);
    const records = result.rows.slice(0, q.limit).map(recordOfRow);
    const last = records[records.length - 1];
    return result.rows.length > q.limit && last ? { records, nextAfterSequence: last.sequence } : { records };
  }

  /** Re-checks the chain (against a checkpoint, when given); see {@link verifyChain}. */
  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    return withClient(this.pool, async (client) => {
      try {
        return await verifyChain(client, options);
      } catch (error) {
        throw isUndefinedTable(error) ? new AuditSchemaMissingError({ cause: error }) : error;
      }
    });
  }

  // ---- incidents ---------------------------------------------------------------------------

  /** Inserts or replaces an incident by id; a write older than the stored one (`updatedAt`) leaves it as is. Returns the stored incident. */
  async upsertIncident(incident: Incident): Promise<Incident> {
    const value = parseOrThrow(IncidentContract.validate(incident));
    const record = prepareJson(value, '(root)', 'Incident');
    const result = await this.run<IncidentRow>(
      `INSERT INTO incidents (id, cluster, status, severity, opened_at, updated_at, record)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
       ON CONFLICT (id) DO UPDATE SET cluster = EXCLUDED.cluster, status = EXCLUDED.status, severity = EXCLUDED.severity,
         opened_at = EXCLUDED.opened_at, updated_at = EXCLUDED.updated_at, record = EXCLUDED.record
       WHERE incidents.updated_at <= EXCLUDED.updated_at
       RETURNING record`,
      [value.id, value.cluster, value.status, value.severity, value.openedAt, value.updatedAt, record.json],
    );
    const stored = result.rows[0]?.record ?? (await this.getIncident(value.id));
    if (!stored) throw new AuditNotFoundError('incident', value.id);
    return stored;
  }

  /** Sets an incident's status (and `updatedAt`, never backwards). */
  async setIncidentStatus(id: string, status: IncidentStatus, at: string): Promise<Incident> {
    const change = parseOrThrow(statusChange.validate({ id, status, updatedAt: at }));
    const result = await this.run<IncidentRow>(
      `UPDATE incidents SET status = $2, updated_at = GREATEST(updated_at, $3::timestamptz),
         record = record || jsonb_build_object('status', $2::text, 'updatedAt',
           to_char(GREATEST(updated_at, $3::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
       WHERE id = $1 RETURNING record`,
      [change.id, change.status, new Date(change.updatedAt).toISOString()],
    );
    const stored = result.rows[0]?.record;
    if (!stored) throw new AuditNotFoundError('incident', change.id);
    return stored;
  }

  async getIncident(id: string): Promise<Incident | undefined> {
    const ref = parseOrThrow(incidentIdOnly.validate({ id }));
    const result = await this.run<IncidentRow>('SELECT record FROM incidents WHERE id = $1', [ref.id]);
    return result.rows[0]?.record;
  }

  /** Incidents, most recently updated first. */
  async listIncidents(filter: IncidentListFilter = {}): Promise<Incident[]> {
    const f = parseOrThrow(incidentFilter.validate(filter));
    const result = await this.run<IncidentRow>(
      `SELECT record FROM incidents WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR cluster = $2)
       ORDER BY updated_at DESC, id LIMIT $3`,
      [f.status ?? null, f.cluster ?? null, f.limit],
    );
    return result.rows.map((r) => r.record);
  }

  // ---- action receipts ---------------------------------------------------------------------

  /** Writes a receipt once per remediation id; a retry returns the receipt already stored. */
  async recordActionReceipt(receipt: ActionReceipt): Promise<ActionReceipt> {
    const value = parseOrThrow(ActionReceiptContract.validate(receipt));
    const priorSpec = value.priorSpec === undefined ? undefined : prepareJson(value.priorSpec, 'priorSpec', 'ActionReceipt');
    const answer = prepareJson(value.receipt, 'receipt', 'ActionReceipt');
    const workflowProblem = value.workflowId === undefined ? undefined : storableStringProblem(value.workflowId);
    if (workflowProblem) throw new AuditInputError('ActionReceipt', [{ field: 'workflowId', problem: workflowProblem }]);
    const result = await this.run<ReceiptRow>(
      `INSERT INTO action_receipts (remediation_id, incident_id, workflow_id, action, prior_spec, receipt, applied_at, reverted_at)
       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7, $8)
       ON CONFLICT (remediation_id) DO NOTHING
       RETURNING *`,
      [value.remediationId, value.incidentId, value.workflowId ?? null, JSON.stringify(value.action), priorSpec?.json ?? null, answer.json, value.appliedAt, value.revertedAt ?? null],
    );
    const row = result.rows[0];
    if (row) return receiptOf(row);
    const stored = await this.getActionReceipt(value.remediationId);
    if (!stored) throw new AuditNotFoundError('action receipt', value.remediationId);
    return stored;
  }

  async getActionReceipt(remediationId: string): Promise<ActionReceipt | undefined> {
    const ref = parseOrThrow(receiptRef.validate({ remediationId }));
    const result = await this.run<ReceiptRow>('SELECT * FROM action_receipts WHERE remediation_id = $1', [ref.remediationId]);
    const row = result.rows[0];
    return row ? receiptOf(row) : undefined;
  }

  /** Receipts of an incident, in the order they were applied. */
  async listActionReceipts(incidentId: string): Promise<ActionReceipt[]> {
    const ref = parseOrThrow(incidentIdOnly.validate({ id: incidentId }));
    const result = await this.run<ReceiptRow>('SELECT * FROM action_receipts WHERE incident_id = $1 ORDER BY applied_at, remediation_id', [ref.id]);
    return result.rows.map(receiptOf);
  }

  /** Marks a receipt's action as reverted; the first time recorded is kept. */
  async markActionReverted(remediationId: string, at: string): Promise<ActionReceipt> {
    const ref = parseOrThrow(receiptRevert.validate({ remediationId, revertedAt: at }));
    const result = await this.run<ReceiptRow>(
      'UPDATE action_receipts SET reverted_at = COALESCE(reverted_at, $2) WHERE remediation_id = $1 RETURNING *',
      [ref.remediationId, ref.revertedAt],
    );
    const row = result.rows[0];
    if (!row) throw new AuditNotFoundError('action receipt', ref.remediationId);
    return receiptOf(row);
  }
}
