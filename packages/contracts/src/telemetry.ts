import { z } from 'zod';
import { isoTimestamp, identifier } from './common.js';
import { defineContract } from './validation.js';

export const TELEMETRY_SOURCES = ['alertmanager', 'kubernetes', 'custom'] as const;
export const telemetrySource = z.enum(TELEMETRY_SOURCES);
export type TelemetrySource = z.infer<typeof telemetrySource>;

/** Largest telemetry message accepted; bigger ones go to the dead letter. */
export const MAX_TELEMETRY_BYTES = 256 * 1024;

/** What every producer publishes on `telemetry.<source>`. */
export const telemetryEnvelopeSchema = z.object({
  id: identifier.optional(),
  source: telemetrySource,
  cluster: identifier.default('local'),
  occurredAt: isoTimestamp.optional(),
  payload: z.unknown().refine((p) => p !== undefined && p !== null, 'is required'),
});
export type TelemetryEnvelope = z.output<typeof telemetryEnvelopeSchema>;
export const TelemetryEnvelope = defineContract('TelemetryEnvelope', telemetryEnvelopeSchema);

/** Why input was rejected, stored with its original bytes on the dead-letter stream. */
export const deadLetterSchema = z.object({
  stage: z.enum(['ingestion', 'correlator', 'webhook']),
  reason: z.string().min(1),
  field: z.string().optional(),
  subject: z.string(),
  receivedAt: isoTimestamp,
  /** Base64 of the original bytes, exactly as received. */
  originalBase64: z.string(),
});
export type DeadLetter = z.output<typeof deadLetterSchema>;
export const DeadLetter = defineContract('DeadLetter', deadLetterSchema);
