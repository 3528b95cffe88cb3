import { z } from 'zod';
import { isoTimestamp, sha256Hex } from './common.js';
import { defineContract } from './validation.js';

/**
 * The audit chain's head, signed and kept outside PostgreSQL (a file or a NATS KV entry): `verify` checks the
 * chain against it, so a rewrite of the rows up to `sequence` — even with every hash recomputed — is seen.
 * `mac` is HMAC-SHA256 (hex) over the RFC 8785 form of the other fields, with the key `keyId` names
 * (the first 16 hex digits of the key's SHA-256, so that a rotated key is told apart without revealing it).
 */
export const auditCheckpointSchema = z.strictObject({
  v: z.literal(1),
  sequence: z.int().min(0),
  hash: sha256Hex,
  at: isoTimestamp,
  keyId: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lowercase hex digits'),
  mac: sha256Hex,
});
export type AuditCheckpoint = z.output<typeof auditCheckpointSchema>;
export const AuditCheckpoint = defineContract('AuditCheckpoint', auditCheckpointSchema);
