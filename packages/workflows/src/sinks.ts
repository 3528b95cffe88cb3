import { proxySinks, type Sinks } from '@temporalio/workflow';
import type { UpdateRefusal } from './approval-gate.js';

/**
 * What the remediation workflow tells the worker outside its history (Temporal sinks: not replayed, no effect on
 * determinism). `approvals.refused`: an approval or cancel update the workflow's validator refused (unsigned, stale,
 * duplicate ...) — validators cannot run activities, so the worker audits it.
 */
export interface RemediationSinks extends Sinks {
  approvals: {
    refused(refusal: UpdateRefusal & { readonly incidentId: string }): void;
  };
}

export const sinks = proxySinks<RemediationSinks>();
