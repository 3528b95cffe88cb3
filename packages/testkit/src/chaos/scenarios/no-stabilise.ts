import { ANNOTATIONS } from '@cortexops/contracts';
import { ChaosEnvironment } from '../environment.js';
import type { Scenario } from '../runner.js';

/**
 * A change that does not stabilise: the raised memory limit (48Gi → 72Gi) cannot schedule on the scenario's own
 * 64Gi node, so the rollout never completes and verification fails; the workflow compensates, the Deployment's
 * template is back to its prior spec, and the compensation is verified too (its rollout complete again).
 */
export const changeDoesNotStabilise: Scenario = {
  name: 'change-not-stabilising',
  title: 'a change that does not stabilise: compensated, the object back to its prior spec, verified',
  timeoutMs: 240_000,
  async run(ctx) {
    const env = await ChaosEnvironment.start(ctx, 'unstable');
    const node = await env.ownNode();
    const { before, handle, incidentId } = await env.oomIncident('catalog', '48Gi', node);
    await env.waitForState(handle, 'VERIFYING');
    const view = await env.finalView(handle);

    ctx.check('ROLLED_BACK', view.state === 'ROLLED_BACK', view.outcome);
    ctx.check('the plan raised the limit to 72Gi', JSON.stringify(view.plan?.actions[0] ?? {}).includes('"memory":"73728Mi"'), JSON.stringify(view.plan?.actions[0]));
    ctx.check('verification failed', view.verification?.verdict === 'failure', view.verification?.reason);
    const after = await env.deployment('catalog');
    ctx.check('cluster: the template is the prior spec', JSON.stringify(after.spec.template) === JSON.stringify(before.spec.template), after.spec.template.spec.containers[0]?.resources?.limits?.memory);
    ctx.check(`cluster: no ${ANNOTATIONS.remediationId} left`, after.metadata.annotations?.[ANNOTATIONS.remediationId] === undefined);
    const trail = await env.trail(incidentId);
    const kinds = trail.map((r) => r.kind);
    const states = trail.filter((r) => r.kind === 'workflow.state').map((r) => String(r.payload['to']));
    ctx.check('audit: … APPLYING → VERIFYING → COMPENSATING → ROLLED_BACK', states.slice(-4).join(',') === 'APPLYING,VERIFYING,COMPENSATING,ROLLED_BACK', states.join(' → '));
    ctx.check('audit: action.applied then action.reverted, once each', kinds.filter((k) => k === 'action.applied').length === 1 && kinds.filter((k) => k === 'action.reverted').length === 1 && kinds.indexOf('action.applied') < kinds.indexOf('action.reverted'));
    const completed = trail.filter((r) => r.kind === 'verification.completed').map((r) => `${r.payload['compensation'] === true ? 'compensation ' : ''}${String(r.payload['verdict'])}`);
    ctx.check('audit: the compensation verified', completed.join(',') === 'failure,compensation success', completed.join(', '));
    const receipt = await env.audit.getActionReceipt(`${handle.workflowId}-a1`);
    ctx.check('audit: the receipt marked reverted', receipt?.revertedAt !== undefined, receipt?.revertedAt);
    await env.checkChainVerifies();
    ctx.conclude('48Gi → 72Gi never schedules: verification failure → COMPENSATING → ROLLED_BACK; template equal to the prior spec, annotation gone; applied and reverted once each; compensation verified (rollout complete); chain verifies');
  },
};
