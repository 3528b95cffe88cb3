import { z } from 'zod';
import { identifier, isoTimestamp, severity } from './common.js';
import { targetRef } from './kubernetes.js';
import { defineContract } from './validation.js';

export const incidentStatus = z.enum(['open', 'resolved', 'escalated']);
export type IncidentStatus = z.infer<typeof incidentStatus>;

export const incidentSchema = z.object({
  /** Deterministic: derived from the grouping key, so replays map to the same incident. */
  id: identifier,
  cluster: identifier,
  title: z.string().min(1).max(512),
  severity,
  status: incidentStatus,
  target: targetRef,
  /** Set when topology explains the incident by another object, e.g. a NotReady node. */
  rootCause: targetRef.optional(),
  fingerprints: z.array(z.string()).min(1),
  signalIds: z.array(identifier),
  flapCount: z.int().min(0).default(0),
  openedAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Incident = z.output<typeof incidentSchema>;
export const Incident = defineContract('Incident', incidentSchema);
