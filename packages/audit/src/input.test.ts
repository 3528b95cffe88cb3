import { describe, expect, it } from 'vitest';
import { AUDIT_ERROR_CODES, AuditInputError } from './errors.js';
import { MAX_PAYLOAD_BYTES, canonicalTimestamp, contractTimestamp, prepareEvent } from './input.js';

const good = {
  idempotencyKey: 'wf-1/state/1',
  incidentId: 'inc-1',
  kind: 'workflow.state',
  actor: 'worker',
  occurredAt: '2025-01-02T04:04:05.678+01:00',
  payload: { state: 'PLANNING' },
};

function refusal(input: unknown): AuditInputError {
  try {
    prepareEvent(input, '[2]');
  } catch (error) {
    if (error instanceof AuditInputError) return error;
    throw error;
  }
  throw new Error('expected the input to be refused');
}

describe('audit input', () => {
  it('timestamps — one canonical UTC form with microsecond digits, and back to the contract form', () => {
    expect(canonicalTimestamp('2025-01-02T04:04:05.678+01:00')).toBe('2025-01-02T03:04:05.678000Z');
    expect(canonicalTimestamp('2025-01-02T03:04:05Z')).toBe('2025-01-02T03:04:05.000000Z');
    expect(canonicalTimestamp('2025-01-02T03:04:05.678999Z')).toBe('2025-01-02T03:04:05.678000Z');
    expect(contractTimestamp('2025-01-02T03:04:05.678000Z')).toBe('2025-01-02T03:04:05.678Z');
  });

  it('prepare — normalises a good event to its stored form', () => {
    const prepared = prepareEvent({ ...good, payload: { state: 'PLANNING', note: undefined } });
    expect(prepared).toEqual({
      idempotencyKey: 'wf-1/state/1',
      incidentId: 'inc-1',
      workflowId: null,
      kind: 'workflow.state',
      actor: 'worker',
      occurredAt: '2025-01-02T03:04:05.678000Z',
      payload: { state: 'PLANNING' },
      payloadJson: '{"state":"PLANNING"}',
    });
    expect(prepareEvent({ ...good, payload: undefined }).payload).toEqual({});
  });

  const bad: [string, unknown, string][] = [
    ['not an object', 'hello', '[2]'],
    ['missing idempotency key', { ...good, idempotencyKey: undefined }, '[2].idempotencyKey'],
    ['empty idempotency key', { ...good, idempotencyKey: '' }, '[2].idempotencyKey'],
    ['unknown kind', { ...good, kind: 'incident.deleted' }, '[2].kind'],
    ['empty actor', { ...good, actor: '' }, '[2].actor'],
    ['bad timestamp', { ...good, occurredAt: 'yesterday' }, '[2].occurredAt'],
    ['bad incident id', { ...good, incidentId: 'Not An Id' }, '[2].incidentId'],
    ['payload not an object', { ...good, payload: [1, 2] }, '[2].payload'],
    ['NUL in actor', { ...good, actor: 'a\u0000b' }, '[2].actor'],
    ['unpaired surrogate in idempotency key', { ...good, idempotencyKey: 'k\uD800' }, '[2].idempotencyKey'],
    ['NUL in a payload string', { ...good, payload: { deep: { list: ['ok', 'x\u0000'] } } }, '[2].payload.deep.list[1]'],
    ['NUL in a payload key', { ...good, payload: { 'a\u0000': 1 } }, '[2].payload."a\\u0000"'],
    ['non-finite number', { ...good, payload: { n: Number.NaN } }, '[2].payload.n'],
    ['bigint', { ...good, payload: { n: 10n } }, '[2].payload.n'],
    ['function', { ...good, payload: { f: () => 1 } }, '[2].payload.f'],
    ['Date object', { ...good, payload: { at: new Date() } }, '[2].payload.at'],
    ['Map', { ...good, payload: { m: new Map() } }, '[2].payload.m'],
    ['undefined in an array', { ...good, payload: { list: [1, undefined] } }, '[2].payload.list[1]'],
    ['too large', { ...good, payload: { blob: 'x'.repeat(MAX_PAYLOAD_BYTES) } }, '[2].payload'],
  ];
  for (const [name, input, field] of bad) {
    it(`bad values — ${name} is refused naming ${field}`, () => {
      const error = refusal(input);
      expect(error.code).toBe(AUDIT_ERROR_CODES.invalidInput);
      expect(error.field).toBe(field);
      expect(error.message).toContain(field);
    });
  }

  it('bad values — a payload nested deeper than the limit is refused', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 40; i++) deep = { deep };
    expect(refusal({ ...good, payload: deep }).field).toMatch(/^\[2\]\.payload(\.deep)+$/);
  });
});
