import { z } from 'zod';
import { identifier, isoTimestamp, severity, stringMap } from './common.js';
import { kubernetesName, kubernetesNamespace, objectRef, ownerChain } from './kubernetes.js';
import { telemetrySource } from './telemetry.js';
import { defineContract } from './validation.js';

/** One normalised observation, whatever its source. */
export const signalSchema = z.object({
  id: identifier,
  source: telemetrySource,
  cluster: identifier,
  namespace: kubernetesNamespace.optional(),
  object: objectRef.optional(),
  /** Owners from the object upwards, e.g. ReplicaSet then Deployment. */
  ownerChain: ownerChain.default([]),
  node: kubernetesName.optional(),
  severity,
  status: z.enum(['firing', 'resolved']),
  title: z.string().min(1).max(512),
  reason: z.string().max(128).optional(),
  labels: stringMap.default({}),
  annotations: stringMap.default({}),
  /** Stable identity of the underlying problem; equal fingerprints are the same problem. */
  fingerprint: z.string().regex(/^[a-f0-9]{16,64}$/, 'must be a lowercase hex digest'),
  /** Alertmanager's own group, kept so correlation can respect it. */
  groupKey: z.string().max(1024).optional(),
  startsAt: isoTimestamp,
  endsAt: isoTimestamp.optional(),
  receivedAt: isoTimestamp,
});
export type Signal = z.output<typeof signalSchema>;
export const Signal = defineContract('Signal', signalSchema);
