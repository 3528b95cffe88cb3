import { describe, expect, it } from 'vitest';
import { TENANT_ID_MAX_LENGTH, tenantHeaderSchema, tenantIdProblem } from './tenant.js';

describe('tenant ids — Mimir\'s rules', () => {
  it.each(['a', 'team-a', "!-_.*'()", '0'.repeat(TENANT_ID_MAX_LENGTH), '...', '.a', 'mimir_cluster'])('%j is a tenant id', (id) => {
    expect(tenantIdProblem(id)).toBeUndefined();
  });

  it.each(['', '.', '..', '__mimir_cluster', 'a b', 'a/b', 'a|b', 'a\tb', 'ü', '0'.repeat(TENANT_ID_MAX_LENGTH + 1)])('%j is not', (id) => {
    expect(tenantIdProblem(id)).toEqual(expect.any(String));
  });

  it('the header joins tenants with | for a federated read; empty parts and repeats are refused', () => {
    expect(tenantHeaderSchema.safeParse('a|b|c').success).toBe(true);
    for (const bad of ['a||b', '|', 'a|a', 'a|b c']) expect(tenantHeaderSchema.safeParse(bad).success, bad).toBe(false);
  });
});
