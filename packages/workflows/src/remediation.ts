import { ActivityFailure, ApplicationFailure, condition, patched, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import {
  type ActionReceipt,
  type ApprovalDecision,
  type ApprovalRequest,
  type AuditKind,
  type CancelRequest,
  type Diagnosis,
  type DryRunReport,
  incidentResolvedSignal,
  incidentSignal,
  type Measurement,
  type PolicyVerdict,
  type RemediationNote,
  type RemediationOutcome,
  type RemediationPlan,
  type RemediationStateView,
  type RemediationWorkflowInput,
  remediationWorkflowInputSchema,
  remediationIdOf,
  remediationStateQuery,
  remediationRequestSigningPayload,
  type VerificationResult,
  WORKFLOW_REFUSALS,
  type WorkflowState,
} from '@cortexops/contracts';
import { analysis, applying, bookkeeping, messages, remembering, reverting } from './activities.js';
import { approvalsOutstanding, setApprovalHandlers } from './approval-gate.js';
import { actionLabel, publishSearchAttributes, targetLabel } from './search.js';
import { signedByOneOf } from './signature.js';
import { sinks } from './sinks.js';
import { verdictOf } from './verdict.js';

/** A plan whose dry run changes while it waits for approval is re-planned at most this often, then escalated. */
const MAX_PLAN_ROUNDS = 3;

const ROLLOUT_FIRST_POLL_MS = 1000;

/** Ends the workflow from anywhere in its body with a final state and a reason a person can act on. */
class Ended extends Error {
  constructor(
    readonly state: WorkflowState,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function failureMessage(error: unknown): string {
  if (error instanceof ActivityFailure) return error.cause?.message ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Ends the workflow FAILED when an activity fails for good; other errors (bugs) fail the workflow task, to be fixed and replayed. */
async function orFail<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof ActivityFailure) throw new Ended('FAILED', `${what} failed: ${failureMessage(error)}`);
    throw error;
  }
}

/**
 * The remediation of one incident, start to end (one workflow per incident, id derived from the incident id):
 * DIAGNOSING → PLANNING → DRY_RUNNING → POLICY_CHECK → (APPROVAL_PENDING) → APPLYING → VERIFYING → RESOLVED, or
 * COMPENSATING → ROLLED_BACK; DENIED, REJECTED, EXPIRED, FAILED, ESCALATED (no safe action, inconclusive
 * verification), OBSERVED (observe mode), CANCELLED on the way. Every transition is written to the audit store before
 * the next step and published as search attributes; every fact the policy decides on is computed by the worker.
 */
export async function remediationWorkflow(input: RemediationWorkflowInput): Promise<RemediationOutcome> {
  // Only the incident: a caller cannot hand the workflow a plan, a policy verdict or settings (DESIGN safety rule 6);
  // plans come from the PLANNING activity alone.
  const parsed = remediationWorkflowInputSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
    throw ApplicationFailure.nonRetryable(`the workflow input must be exactly {incident} as the correlator sends it: ${problems.slice(0, 1000)}`, 'InvalidWorkflowInput');
  }
  const { incident, requested } = parsed.data;
  const temporalWorkflowId = workflowInfo().workflowId;
  // A run a person asked for reuses the incident's workflow id: its audit records, recorded steps and remediation ids get
  // keys of their own, so that the earlier run's are never taken for its own (steps are idempotent by these keys).
  const workflowId = requested === undefined ? temporalWorkflowId : `${temporalWorkflowId}-r${requested.signature.slice(0, 12)}`;
  const history: { state: WorkflowState; at: string }[] = [];
  let state: WorkflowState = 'DIAGNOSING';
  let transitions = 0;
  let diagnosis: Diagnosis | undefined;
  let plan: RemediationPlan | undefined;
  let dryRun: DryRunReport | undefined;
  let policy: PolicyVerdict | undefined;
  let request: ApprovalRequest | undefined;
  let decisions: ApprovalDecision[] = [];
  const allDecisions: ApprovalDecision[] = [];
  const receipts: ActionReceipt[] = [];
  const measurements: Measurement[] = [];
  let verification: VerificationResult | undefined;
  let signalsReceived = 0;
  let resolvedBySignal: string | undefined;
  let cancel: CancelRequest | undefined;
  let outcome: string | undefined;
  let audited = 0;
  let rolloutTimeoutMs = 0;
  /** The approvals service's public keys, from the worker's settings: only decisions signed with one are taken. */
  let verifyKeys: readonly string[] = [];
  /** The person who asked for this run (a signed request): they may not approve it, and it always waits for an approval. */
  let requestedBy: string | undefined;

  const now = () => new Date().toISOString();
  const audit = async (kind: AuditKind, payload: Record<string, unknown>, actor = 'worker') => {
    audited += 1;
    await bookkeeping.audit({ idempotencyKey: `${workflowId}/${kind}/${audited}`, incidentId: incident.id, workflowId, kind, actor, occurredAt: now(), payload });
  };
  const transition = async (next: WorkflowState, detail?: string) => {
    const from = history.length === 0 ? null : state;
    state = next;
    transitions += 1;
    history.push({ state: next, at: now() });
    publishSearchAttributes(incident, next, plan?.risk);
    await bookkeeping.recordTransition({ workflowId, incidentId: incident.id, sequence: transitions, from, to: next, at: now(), ...(detail === undefined ? {} : { detail }) });
  };
  const note = async (kind: RemediationNote['kind'], summary: string) => {
    // A note that cannot be delivered must not change the outcome; the audit store has the story either way.
    try {
      await messages.postNote({ incidentId: incident.id, workflowId, kind, summary: summary.slice(0, 3000), at: now() });
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      await audit('remediation.escalated', { note: kind, delivered: false, problem: failureMessage(error) });
    }
  };

  setHandler(incidentSignal, () => {
    signalsReceived += 1;
  });
  setHandler(incidentResolvedSignal, (signal) => {
    signalsReceived += 1;
    resolvedBySignal ??= signal.id;
  });
  setHandler(
    remediationStateQuery,
    (): RemediationStateView => ({
      state,
      incidentId: incident.id,
      history,
      ...(diagnosis ? { diagnosis } : {}),
      ...(plan ? { plan } : {}),
      ...(dryRun ? { dryRun } : {}),
      ...(policy ? { policy } : {}),
      ...(request ? { approvalRequest: request } : {}),
      decisions: allDecisions,
      receipts,
      ...(verification ? { verification } : { ...(measurements.length > 0 ? { verification: { verdict: 'inconclusive', reason: 'measuring', measurements } } : {}) }),
      signalsReceived,
      ...(outcome ? { outcome } : {}),
    }),
  );
  const rejected = () => decisions.some((d) => d.decision === 'reject');
  setApprovalHandlers({
    state: () => state,
    request: () => request,
    decisions: () => decisions,
    decide: (decision) => {
      decisions.push(decision);
      allDecisions.push(decision);
    },
    cancel: () => cancel,
    setCancel: (by) => {
      cancel = by;
    },
    applied: () => receipts.length > 0,
    verifyKeys: () => verifyKeys,
    refused: (refusal) => sinks.approvals.refused({ ...refusal, incidentId: incident.id }),
  });

  /** Before anything is applied, a resolved incident or an operator's cancel ends the workflow without a change. */
  const stopIfSettled = async () => {
    if (resolvedBySignal !== undefined) throw new Ended('RESOLVED', `resolved by itself (signal ${resolvedBySignal}) before any change; nothing was applied`);
    if (cancel !== undefined) {
      await audit('manual.action', { action: 'cancel', reason: cancel.reason, channel: cancel.channel, effect: 'stop' }, cancel.actor);
      throw new Ended('CANCELLED', `cancelled by ${cancel.actor} before any change: ${cancel.reason}`);
    }
  };

  /** Puts the plan through the gate; DENIED at once on a denial. */
  const decide = async (phase: 'plan' | 'before-apply') => {
    if (!plan || !dryRun) throw new Error('policy check without a plan and its dry run');
    const current = plan;
    const dry = dryRun;
    policy = await orFail('policy check', () => analysis.checkPlanPolicy({ workflowId, incident, plan: current, dryRun: dry, now: now(), phase }));
    if (!policy.allow) throw new Ended('DENIED', `denied by policy: ${policy.decisions.flatMap((d) => d.violations).join('; ')}`);
    return policy;
  };

  const dryRunPlan = async (phase: string) => {
    if (!plan) throw new Error('dry run without a plan');
    const current = plan;
    const report = await orFail('dry run', () => analysis.dryRun({ workflowId, incident, plan: current, remediationIds: current.actions.map((_, i) => remediationIdOf(workflowId, i)), phase }));
    dryRun = report;
    return report;
  };

  /** Asks for a human decision about exactly this plan; returns when approved, or ends the workflow. */
  const awaitApproval = async (round: number, timeoutMs: number) => {
    if (!plan || !dryRun || !policy) throw new Error('approval without a plan, dry run and policy decision');
    await transition('APPROVAL_PENDING');
    const requestedAt = now();
    decisions = [];
    request = {
      requestId: `${workflowId}/approval/${round}`,
      planHash: dryRun.planHash,
      incidentId: incident.id,
      workflowId,
      approvalsRequired: plan.risk === 'critical' ? 2 : 1,
      summary: `${incident.title} — ${targetLabel(incident.target)} (${incident.severity})`,
      plan,
      dryRunDiff: dryRun.actions.map((a) => a.diff).join('\n').slice(0, 20000),
      policy: policy.decisions[0] ?? { allow: true, mode: policy.mode, requireApproval: true, reasons: [], violations: [] },
      requestedAt,
      expiresAt: new Date(Date.parse(requestedAt) + timeoutMs).toISOString(),
      ...(requestedBy === undefined ? {} : { requestedBy }),
    };
    const posted = await messages.requestApproval(request).catch((error: unknown) => {
      if (!(error instanceof ActivityFailure)) throw error;
      return { posted: false, detail: failureMessage(error) };
    });
    await audit('approval.requested', { requestId: request.requestId, planHash: request.planHash, approvalsRequired: request.approvalsRequired, expiresAt: request.expiresAt, posted: posted.posted, detail: posted.detail });
    const settled = await condition(() => rejected() || approvalsOutstanding(request, decisions) === 0 || resolvedBySignal !== undefined || cancel !== undefined, timeoutMs);
    for (const d of decisions) await audit('approval.decided', { requestId: d.requestId, planHash: d.planHash, decision: d.decision, channel: d.channel, ...(d.comment ? { comment: d.comment } : {}) }, d.approver);
    await stopIfSettled();
    if (!settled) {
      await audit('approval.expired', { requestId: request.requestId, expiresAt: request.expiresAt });
      throw new Ended('EXPIRED', `nobody decided within ${Math.round(timeoutMs / 1000)} s; nothing was applied`);
    }
    const rejection = decisions.find((d) => d.decision === 'reject');
    if (rejection) throw new Ended('REJECTED', `rejected by ${rejection.approver}${rejection.comment ? `: ${rejection.comment}` : ''}; nothing was applied`);
  };

  /** Undoes what was applied, newest first; FAILED (escalated) when a revert fails or someone else changed the target. */
  const compensate = async (why: string): Promise<never> => {
    await transition('COMPENSATING', why);
    const problems: string[] = [];
    for (const receipt of [...receipts].reverse()) {
      try {
        const reverted = await reverting.revert({ workflowId, receipt });
        await audit('action.reverted', { remediationId: reverted.remediationId, outcome: reverted.outcome, detail: reverted.detail });
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        problems.push(`${receipt.remediationId}: ${failureMessage(error)}`);
        await audit('compensation.failed', { remediationId: receipt.remediationId, target: actionLabel(receipt.action), problem: failureMessage(error) });
      }
    }
    if (problems.length === 0) {
      const settled = await compensationSettled();
      if (!settled.ok) problems.push(`reverted, but ${settled.detail}`);
    }
    if (problems.length > 0) {
      const reason = `${why}; compensation failed, a human must look: ${problems.join('; ')}`;
      await note('failed', reason);
      throw new Ended('FAILED', reason);
    }
    await note('rolled-back', `${why}; the change was reverted and the revert verified`);
    throw new Ended('ROLLED_BACK', `${why}; reverted and verified (the prior spec is back and its rollout is complete)`);
  };

  /**
   * Waits until the target's rollout is complete (measured every verification interval, at most `timeoutMs`): a change
   * is only measured once its pods run, and a compensation is verified by its rollout completing again (DESIGN safety
   * rule 4).
   */
  const awaitRollout = async (name: string, phase: 'rollout' | 'compensation', timeoutMs: number, pauseFor: (ms: number) => Promise<void>): Promise<{ ok: boolean; detail: string }> => {
    if (!plan?.verification) return { ok: true, detail: 'nothing to measure' };
    const current = plan;
    const spec = { ...plan.verification, checks: [{ type: 'rollout' as const, name }], minSamples: 1 };
    const deadline = Date.now() + timeoutMs;
    let last = 'not measured';
    // A rollout usually completes within seconds: look again after 1 s, doubling up to the verification interval.
    let wait = Math.min(ROLLOUT_FIRST_POLL_MS, spec.intervalMs);
    for (let round = 1; ; round++) {
      const measured = await analysis.measure({ workflowId, incident, plan: current, verification: spec, phase, round }).catch((error: unknown): Measurement | undefined => {
        if (!(error instanceof ActivityFailure)) throw error;
        last = failureMessage(error);
        return undefined;
      });
      if (measured?.outcome === 'success') return { ok: true, detail: 'rollout complete' };
      if (measured) last = measured.checks.map((c) => c.detail).join('; ');
      if (Date.now() + wait > deadline) return { ok: false, detail: `the rollout did not complete within ${Math.round(timeoutMs / 1000)} s: ${last}` };
      await pauseFor(wait);
      wait = Math.min(wait * 2, spec.intervalMs);
    }
  };

  const compensationSettled = async (): Promise<{ ok: boolean; detail: string }> => {
    // Compensating already: a cancel arriving now has nothing left to undo.
    const settled = await awaitRollout('rollout-after-revert', 'compensation', rolloutTimeoutMs, sleep);
    const target = plan?.actions[0] ? actionLabel(plan.actions[0]) : targetLabel(incident.target);
    await audit('verification.completed', { compensation: true, verdict: settled.ok ? 'success' : 'failure', reason: settled.detail, target });
    return settled;
  };

  /** After an apply, an operator's cancel compensates. */
  const compensateIfCancelled = async () => {
    if (cancel === undefined) return;
    await audit('manual.action', { action: 'cancel', reason: cancel.reason, channel: cancel.channel, effect: 'compensate' }, cancel.actor);
    await compensate(`cancelled by ${cancel.actor}: ${cancel.reason}`);
  };

  /** Waits `ms`, or less when an operator cancels (then compensates). */
  const pause = async (ms: number) => {
    if (ms > 0) await condition(() => cancel !== undefined, ms);
    await compensateIfCancelled();
  };

  const verify = async () => {
    if (!plan?.verification) throw new Error('verifying a plan without a verification spec');
    const spec = plan.verification;
    const current = plan;
    await transition('VERIFYING');
    const rolledOut = await awaitRollout('rollout-before-verification', 'rollout', rolloutTimeoutMs, pause);
    if (!rolledOut.ok) {
      verification = { verdict: 'failure', reason: rolledOut.detail, measurements };
      await audit('verification.completed', { verdict: 'failure', reason: rolledOut.detail, rounds: 0, target: current.actions[0] ? actionLabel(current.actions[0]) : targetLabel(incident.target) });
      return verification;
    }
    await pause(spec.stabilisationMs);
    for (let round = 1; ; round++) {
      const measured = await analysis.measure({ workflowId, incident, plan: current, verification: spec, phase: 'verification', round }).catch((error: unknown): Measurement => {
        if (!(error instanceof ActivityFailure)) throw error;
        return { round, at: now(), outcome: 'inconclusive', checks: [{ name: 'measurement', outcome: 'inconclusive', value: null, detail: failureMessage(error).slice(0, 1000) }] };
      });
      measurements.push(measured);
      const verdict = verdictOf(spec, measurements);
      if (verdict.status !== 'continue') {
        verification = { verdict: verdict.status, reason: verdict.reason, measurements };
        await audit('verification.completed', { verdict: verdict.status, reason: verdict.reason, rounds: measurements.length, target: current.actions[0] ? actionLabel(current.actions[0]) : targetLabel(incident.target) });
        return verification;
      }
      await pause(spec.intervalMs);
    }
  };

  const run = async (): Promise<void> => {
    await transition('DIAGNOSING');
    const settings = await bookkeeping.settings();
    rolloutTimeoutMs = settings.rolloutTimeoutMs;
    verifyKeys = settings.approvalVerifyKeys ?? [];
    if (requested !== undefined) {
      // A person's request counts only when the approvals service signed it: a bare client cannot name a requester.
      if (!signedByOneOf(remediationRequestSigningPayload(temporalWorkflowId, requested), requested.signature, verifyKeys)) {
        await audit('approval.refused', { code: WORKFLOW_REFUSALS.unsigned, reason: 'a remediation request not signed by the approvals service', claimedBy: requested.requestedBy });
        throw new Ended('FAILED', 'the remediation request is not signed by the approvals service; nothing was done');
      }
      requestedBy = requested.requestedBy;
      await audit('manual.action', { action: 'request', reason: requested.reason, channel: requested.channel, requestedAt: requested.requestedAt }, requested.requestedBy);
    }
    diagnosis = await orFail('diagnosis', () => analysis.diagnose({ workflowId, incident }));
    await stopIfSettled();
    // A person's request is the human decision the recurrence escalation asks for.
    if (incident.status === 'escalated' && requestedBy === undefined) {
      // The correlator escalates a problem that came back after a remediation: another attempt would only repeat it.
      const reason = `${targetLabel(incident.target)} has the problem again after a remediation; no second attempt, a human decides`;
      await audit('remediation.escalated', { reason, recurrence: true });
      await note('escalated', reason);
      throw new Ended('ESCALATED', reason);
    }

    for (let round = 1; ; round++) {
      await transition('PLANNING');
      const seen = diagnosis;
      plan = await orFail('planning', () => analysis.plan({ workflowId, incident, diagnosis: seen }));
      if (plan.actions.length === 0) {
        await audit('remediation.escalated', { reason: plan.rationale, rule: plan.rule ?? null });
        await note('escalated', `no safe action for ${targetLabel(incident.target)}: ${plan.rationale}`);
        throw new Ended('ESCALATED', `no safe action: ${plan.rationale}`);
      }
      await stopIfSettled();
      await transition('DRY_RUNNING');
      await dryRunPlan(`plan-${round}`);
      await transition('POLICY_CHECK');
      const verdict = await decide('plan');
      if (verdict.mode === 'observe') {
        const wouldDo = plan.actions.map((a) => `${a.type} ${actionLabel(a)}`).join(', ');
        await audit('remediation.escalated', { observe: true, wouldHaveDone: plan.actions, planHash: dryRun?.planHash });
        await note('observed', `observe mode: would have done ${wouldDo} (policy allows${verdict.requireApproval ? ' with approval' : ''}); nothing was applied`);
        throw new Ended('OBSERVED', `observe mode: would have done ${wouldDo}; nothing was applied`);
      }
      await stopIfSettled();
      // A change a person asked for waits for someone else's approval whatever the policy says (four-eyes).
      if (!verdict.requireApproval && requestedBy === undefined) break;
      await awaitApproval(round, settings.approvalTimeoutMs);
      // The approval is for one exact plan: the cluster may have moved while people looked, and the policy (a freeze,
      // the rate limits) may say otherwise now. A changed dry run voids the approval and asks again.
      const approvedHash = dryRun?.planHash;
      await transition('DRY_RUNNING', 'again before applying the approved plan');
      await dryRunPlan(`before-apply-${round}`);
      if (dryRun?.planHash === approvedHash) {
        await transition('POLICY_CHECK', 'again before applying');
        await decide('before-apply');
        break;
      }
      await audit('approval.decided', { voided: true, requestId: request?.requestId, approvedPlanHash: approvedHash, currentPlanHash: dryRun?.planHash });
      if (round >= MAX_PLAN_ROUNDS) {
        await note('escalated', `the plan kept changing while waiting for approval (${round} rounds); a human must look`);
        throw new Ended('ESCALATED', `the plan changed after each of ${round} approvals; not applied`);
      }
    }

    await stopIfSettled();
    await transition('APPLYING');
    const approved = plan;
    if (!approved) throw new Error('applying without a plan');
    for (const [index, action] of approved.actions.entries()) {
      try {
        receipts.push(await applying.apply({ workflowId, incident, action, remediationId: remediationIdOf(workflowId, index) }));
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        const why = `apply of ${action.type} failed: ${failureMessage(error)}`;
        if (receipts.length > 0) await compensate(why);
        throw new Ended('FAILED', `${why}; nothing was changed`);
      }
    }
    await messages.publishRemediationNotice({ incident, remediatedAt: receipts[0]?.appliedAt ?? now() }).catch(async (error: unknown) => {
      if (!(error instanceof ActivityFailure)) throw error;
      await audit('remediation.escalated', { notice: 'not published', problem: failureMessage(error) });
    });
    await compensateIfCancelled();

    const result = await verify();
    if (result.verdict === 'failure') await compensate(`verification failed: ${result.reason}`);
    if (result.verdict === 'inconclusive') {
      await note('escalated', `verification of ${targetLabel(incident.target)} was inconclusive (${result.reason}); the change stays, a human decides`);
      throw new Ended('ESCALATED', `verification inconclusive: ${result.reason}; the change stays in place for a human to judge`);
    }
    await note('resolved', `${approved.actions.map((a) => a.type).join(', ')} on ${targetLabel(incident.target)} applied and verified`);
    throw new Ended('RESOLVED', `applied and verified: ${result.reason}`);
  };

  try {
    await run();
    throw new Error('the workflow body ended without a final state');
  } catch (error) {
    if (!(error instanceof Ended)) throw error;
    outcome = error.reason;
    await transition(error.state, error.reason);
    // Added after workflows were running: a history from before replays without the activity.
    if (patched('incident-memory')) {
      const remembered = { workflowId, incident, state, endedAt: now(), ...(plan ? { plan } : {}), ...(diagnosis ? { diagnosis } : {}) };
      await remembering.rememberIncident(remembered).catch((failure: unknown) => {
        if (!(failure instanceof ActivityFailure)) throw failure;
        // Not written: later incidents miss this one; its outcome stands.
        return audit('remediation.escalated', { memory: 'not written', problem: failureMessage(failure) });
      });
    }
    const decision = allDecisions.at(-1);
    return {
      state,
      outcome,
      ...(plan ? { plan } : {}),
      ...(policy ? { policy } : {}),
      ...(decision ? { decision } : {}),
      decisions: allDecisions,
      receipts,
      ...(verification ? { verification } : {}),
      signalsReceived,
    };
  }
}
