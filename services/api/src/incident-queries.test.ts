import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { decodeCursor, encodeCursor, incidentFilter } from './incident-queries.js';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('api incident queries — cursors and filters', () => {
  it('a cursor round-trips the keyset position', () => {
    const cursor = { updatedAt: '2026-11-30T04:00:00.123456Z', id: 'inc-1' };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it.each([
    ['not base64 JSON', 'bm90LWEtY3Vyc29y'],
    ['a JSON object', b64({ updatedAt: '2026-11-30T04:00:00Z', id: 'x' })],
    ['one element', b64(['2026-11-30T04:00:00Z'])],
    ['three elements', b64(['2026-11-30T04:00:00Z', 'x', 'y'])],
    ['a number for the id', b64(['2026-11-30T04:00:00Z', 7])],
    ['a bad time', b64(['yesterday', 'x'])],
    ['an empty string', ''],
  ])('refuses a cursor that is %s with INVALID_INPUT naming the field', (_what, value) => {
    try {
      decodeCursor(value);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe('INVALID_INPUT');
      expect((error as ApiError).details).toEqual([expect.objectContaining({ field: 'querystring.cursor' })]);
    }
  });

  it('the filter applies the contract: default limit 100, strings coerced, unknown keys refused', () => {
    expect(incidentFilter({}).limit).toBe(100);
    expect(incidentFilter({ limit: '25', state: 'VERIFYING' })).toMatchObject({ limit: 25, state: 'VERIFYING' });
    expect(() => incidentFilter({ limit: '0' })).toThrow();
    expect(() => incidentFilter({ state: 'verifying' })).toThrow();
    expect(() => incidentFilter({ colour: 'red' })).toThrow();
    expect(() => incidentFilter({ from: '2026-11-30T00:00:00Z', to: '2026-11-29T00:00:00Z' })).toThrow();
  });
});
