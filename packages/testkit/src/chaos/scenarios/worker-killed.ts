import { once } from 'node:events';
import { ChaosEnvironment } from '../environment.js';
import type { Scenario } from '../runner.js';

/**
 * The worker killed (SIGKILL) while the workflow is in APPLYING: a new worker resumes the workflow, which ends
 * RESOLVED with the change applied exactly once. To land the kill in APPLYING every time, however loaded the machine:
 * the plan waits for an approval (namespace in `approve`), the scenario's NATS is stopped, the approval is given; the
 * apply happens and the remediation notice after it cannot be published (retried), so the workflow holds in APPLYING.
 */
export const workerKilledInApplying: Scenario = {
  name: 'worker-killed-applying',
  title: 'the worker killed in APPLYING: a new worker resumes, the change is applied once',
  timeoutMs: 300_000,
  async run(ctx) {
    const env = await ChaosEnvironment.start(ctx, 'applying', { mode: 'approve', approvals: true });
    const { before, handle, incidentId } = await env.oomIncident('ledger', '1Gi');
    await env.waitForState(handle, 'APPROVAL_PENDING');

    await env.stopServer('nats');
    ctx.step('the scenario\'s NATS stopped: the notice after the apply cannot be published, the workflow will hold in APPLYING');
    try {
      await env.approve(incidentId);
      await env.waitForState(handle, 'APPLYING');
      const killed = env.worker;
      const exited = once(killed.child, 'exit');
      killed.child.kill('SIGKILL');
      const [, signalName] = (await exited) as [number | null, NodeJS.Signals | null];
      ctx.check('worker killed with SIGKILL', signalName === 'SIGKILL', `pid ${killed.child.pid ?? '?'}`);
      const states = await env.auditedStates(incidentId);
      ctx.check('audit: last state at the kill is APPLYING', states.at(-1) === 'APPLYING', states.join(' → '));
      const atKill = await env.deployment('ledger');
      ctx.step(`at the kill the cluster has generation ${atKill.metadata.generation} (${atKill.metadata.generation > before.metadata.generation ? 'the change was already applied: the new worker must not apply it again' : 'not applied yet'})`);
    } finally {
      await env.startServer('nats');
    }
    ctx.step('NATS back; starting a new worker');
    await env.startWorker();
    const view = await env.finalView(handle);
    ctx.check('the new worker finished it: RESOLVED', view.state === 'RESOLVED', view.outcome);
    ctx.check('the workflow holds one receipt', view.receipts.length === 1, view.receipts.map((r) => r.remediationId).join(', '));
    await env.checkAppliedOnce(handle, 'ledger', before, '1536Mi');
    await env.checkChainVerifies();
    ctx.conclude('SIGKILL with the audit at APPLYING; new worker → RESOLVED; applied once (1 action.applied, 1 receipt, generation +1, annotation names the one remediation id); chain verifies');
  },
};
