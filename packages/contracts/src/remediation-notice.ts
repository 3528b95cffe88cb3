import { z } from 'zod';
import { identifier, isoTimestamp } from './common.js';
import { targetRef } from './kubernetes.js';
import { SUBJECTS } from './names.js';
import { defineContract } from './validation.js';

/**
 * Told to the correlator once a remediation was applied to an incident's target: the target cools down (new
 * problems are recorded, not remediated) and the incident's fingerprints coming back escalate to a human.
 */
export const remediationNoticeSchema = z.object({
  incidentId: identifier,
  cluster: identifier,
  target: targetRef,
  remediatedAt: isoTimestamp,
});
export type RemediationNotice = z.output<typeof remediationNoticeSchema>;
export const RemediationNotice = defineContract('RemediationNotice', remediationNoticeSchema);

/**
 * Remediation notices travel on SIGNALS (durable, in order with the signals, one shared consumer) in place of the
 * namespace token: `signals.<cluster>._remediated`. Kubernetes namespaces cannot start with `_`, so no signal
 * subject is ever taken for a notice.
 */
export const REMEDIATION_NOTICE_TOKEN = '_remediated';

export function remediationNoticeSubject(cluster: string): string {
  return `${SUBJECTS.signalsPrefix}.${cluster}.${REMEDIATION_NOTICE_TOKEN}`;
}
