import { createHash } from 'node:crypto';

/**
 * The RFC 8785 (JSON Canonicalization Scheme) text of a JSON value: keys sorted by UTF-16 code units at
 * every level, no whitespace, numbers and strings as ECMAScript's JSON.stringify writes them (which is
 * what RFC 8785 prescribes). For values that came out of JSON.parse; anything else is refused.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`)
      .join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`${value} has no JSON form`);
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  throw new TypeError(`a ${typeof value} has no JSON form`);
}

export function sha256Hex(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The hash that names the policy a decision came from: SHA-256 (lowercase hex) of the canonical JSON
 * `{"data": <policy data in force>, "wasm": "<SHA-256 of the wasm bytes>"}`. A part that is not loaded
 * is `null` (an engine that fails closed names what it has).
 */
export function policyBundleHash(wasmSha256: string | null, data: unknown): string {
  return sha256Hex(canonicalJson({ data, wasm: wasmSha256 }));
}
