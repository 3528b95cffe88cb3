import { setTimeout as sleep } from 'node:timers/promises';
import { ChaosEnvironment } from '../environment.js';
import { pollUntil } from '../poll.js';
import type { Scenario } from '../runner.js';

/** How long the workflow is watched after the restart, to see it still waits (no expiry, no approval taken). */
const STILL_WAITING_MS = 3_000;

/**
 * Temporal (the scenario's own dev server, its SQLite file kept) restarted while a workflow waits for approval: after
 * the restart the workflow still waits on the same request and plan, and an approval through the approvals service
 * still works — the change is applied once and verified.
 */
export const temporalRestarted: Scenario = {
  name: 'temporal-restarted',
  title: 'Temporal restarted with a workflow waiting for approval: it still waits, and the approval still works',
  timeoutMs: 300_000,
  async run(ctx) {
    const env = await ChaosEnvironment.start(ctx, 'temporal', { privateServers: ['temporal'], mode: 'approve', approvals: true });
    const { before, handle, incidentId } = await env.oomIncident('inventory', '1Gi');
    await env.waitForState(handle, 'APPROVAL_PENDING');
    // The request is in the view once the workflow has asked (posted it to the approvals service).
    const waiting = await pollUntil(ctx, 'the approval request', async () => ((await env.view(handle)).approvalRequest ? env.view(handle) : undefined));

    await env.stopServer('temporal');
    ctx.step("the scenario's Temporal stopped");
    await env.startServer('temporal');
    ctx.step('Temporal started again (same database file)');
    await sleep(STILL_WAITING_MS, undefined, { signal: ctx.signal });
    const after = await env.view(handle);
    ctx.check('still APPROVAL_PENDING after the restart', after.state === 'APPROVAL_PENDING', after.state);
    ctx.check(
      'the same request and plan wait',
      after.approvalRequest?.requestId === waiting.approvalRequest?.requestId && after.approvalRequest?.planHash === waiting.approvalRequest?.planHash,
      `request ${after.approvalRequest?.requestId ?? '?'}, plan ${after.approvalRequest?.planHash.slice(0, 12) ?? '?'}…`,
    );
    ctx.check('nothing applied while waiting', (await env.deployment('inventory')).metadata.generation === before.metadata.generation);

    await env.approve(incidentId);
    const view = await env.finalView(handle);
    ctx.check('approved, applied, verified: RESOLVED', view.state === 'RESOLVED', view.outcome);
    ctx.check('the decision recorded is the on-call approval', view.decisions.length === 1 && view.decisions[0]?.decision === 'approve', view.decisions.map((d) => `${d.decision} by ${d.approver}`).join(', '));
    await env.checkAppliedOnce(handle, 'inventory', before, '1536Mi');
    await env.checkChainVerifies();
    ctx.conclude('Temporal stopped and started with the workflow in APPROVAL_PENDING: still waiting on the same request and plan, nothing applied; approval through the approvals service → RESOLVED, applied once; chain verifies');
  },
};
