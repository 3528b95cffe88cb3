import { z } from 'zod';

/** The header a multi-tenant Prometheus-compatible backend (Mimir, Cortex, Thanos' receive/query with tenancy) reads. */
export const TENANT_HEADER = 'X-Scope-OrgID';
/** Mimir's (and Cortex's) longest tenant id, in bytes; every allowed character is one byte. */
export const TENANT_ID_MAX_LENGTH = 150;
/** Tenants one federated read may name (`a|b|c`); Mimir sets no limit of its own, this one bounds the header. */
export const TENANT_FEDERATION_MAX = 32;
const TENANT_CHARS = /^[a-zA-Z0-9!\-_.*'()]+$/;
/** Names Mimir refuses although their characters are allowed. */
const RESERVED_TENANT_IDS = new Set(['.', '..', '__mimir_cluster']);

/** Why one tenant id is refused (Mimir's rules: https://grafana.com/docs/mimir/latest/configure/about-tenant-ids/), or undefined. */
export function tenantIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'a tenant id must not be empty';
  if (id.length > TENANT_ID_MAX_LENGTH) return `a tenant id is at most ${TENANT_ID_MAX_LENGTH} characters (got ${id.length})`;
  if (!TENANT_CHARS.test(id)) return "a tenant id may hold only letters, digits and ! - _ . * ' ( )";
  if (RESERVED_TENANT_IDS.has(id)) return `${JSON.stringify(id)} is not a valid tenant id`;
  return undefined;
}

/**
 * The `X-Scope-OrgID` value: one tenant id, or several joined by `|` for a federated read (Mimir's
 * `-tenant-federation.enabled`). Each part follows Mimir's rules; empty parts (`a||b`, `|a`), repeated tenants and
 * more than `TENANT_FEDERATION_MAX` parts are refused.
 */
export const tenantHeaderSchema = z.string().superRefine((value, ctx) => {
  const parts = value.split('|');
  if (parts.length > TENANT_FEDERATION_MAX) {
    ctx.addIssue({ code: 'custom', message: `names ${parts.length} tenants; at most ${TENANT_FEDERATION_MAX} may be joined with |` });
    return;
  }
  const seen = new Set<string>();
  for (const part of parts) {
    const problem = tenantIdProblem(part);
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: parts.length > 1 ? `${problem} (in a |-separated list)` : problem });
      return;
    }
    if (seen.has(part)) {
      ctx.addIssue({ code: 'custom', message: `names tenant ${part} twice` });
      return;
    }
    seen.add(part);
  }
});
