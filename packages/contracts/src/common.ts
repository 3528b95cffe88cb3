import { z } from 'zod';

export const isoTimestamp = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 timestamp' });
export const severity = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof severity>;
export const riskLevel = z.enum(['low', 'medium', 'high', 'critical']);
export type RiskLevel = z.infer<typeof riskLevel>;

const MAX_LABEL_VALUE = 1024;
/** Free-form string map (labels, annotations), bounded so a hostile producer cannot bloat records. */
export const stringMap = z
  .record(z.string().min(1).max(256), z.string().max(MAX_LABEL_VALUE))
  .refine((m) => Object.keys(m).length <= 128, 'must have at most 128 entries');

/** Identifiers we mint ourselves: lowercase, url- and subject-safe. */
export const identifier = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'must be 1-128 of a-z, 0-9, ".", "_", "-"');

export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');
