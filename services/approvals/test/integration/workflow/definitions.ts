import type { ApprovalRequest, RemediationWorkflowInput } from '@cortexops/contracts';
import { defineSignal } from '@temporalio/workflow';

/**
 * What the approvals tests tell their stand-in workflow (see `remediation.ts`): the request it waits on (the real
 * workflow mints it from its own plan; the tests need to know it to post and decide on it), and how long to stay in
 * APPLYING so that a cancel can arrive after the apply.
 */
export interface StandInInput extends RemediationWorkflowInput {
  readonly test: {
    readonly request: ApprovalRequest;
    readonly holdApplyingMs?: number;
    /** The approvals service's public keys (hex): the real workflow reads them from the worker's settings. */
    readonly verifyKeys: readonly string[];
  };
}

/** The plan changed while waiting: the stand-in waits on this new request; decisions about the older one are void. */
export const replanSignal = defineSignal<[ApprovalRequest]>('approvalsTestReplan');
