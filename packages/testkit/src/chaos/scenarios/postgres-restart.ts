import { setTimeout as sleep } from 'node:timers/promises';
import { ChaosEnvironment } from '../environment.js';
import type { Scenario } from '../runner.js';

/** How long the scenario's PostgreSQL stays down while the workflow verifies (a few measurement rounds). */
const DOWN_MS = 8_000;

/**
 * PostgreSQL stopped and started again mid-incident (while the workflow verifies and audits each measurement): the
 * workflow carries on (its audit writes are retried), and afterwards the audit store holds every state the workflow
 * went through and every measurement it took, in order, and the hash chain verifies.
 */
export const postgresRestarted: Scenario = {
  name: 'postgres-restarted',
  title: 'PostgreSQL restarted mid-incident: the audit is complete afterwards and the chain verifies',
  timeoutMs: 240_000,
  async run(ctx) {
    const env = await ChaosEnvironment.start(ctx, 'postgres', { privateServers: ['postgres'] });
    const { before, pods } = await env.deploy('storefront', '1Gi');
    const signal = env.signal('storefront', pods[0]!, 'OOMKilling');
    await env.publish(signal);
    const handle = await env.workflowOf(signal.id);
    const incidentId = handle.workflowId.replace(/^incident-/, '');
    await env.waitForState(handle, 'VERIFYING');

    await env.stopServer('postgres');
    ctx.step(`the scenario's PostgreSQL stopped for ${DOWN_MS / 1000} s while the workflow verifies`);
    await sleep(DOWN_MS, undefined, { signal: ctx.signal });
    await env.startServer('postgres');
    ctx.step('PostgreSQL back');

    const view = await env.finalView(handle);
    ctx.check('RESOLVED', view.state === 'RESOLVED', view.outcome);
    const lived = view.history.map((h) => h.state);
    const audited = await env.auditedStates(incidentId);
    ctx.check('audit: every state the workflow went through, in order', audited.join(',') === lived.join(','), audited.join(' → '));
    const measured = (await env.trail(incidentId)).filter((r) => r.kind === 'verification.measured').length;
    const taken = view.verification?.measurements.length ?? -1;
    ctx.check('audit: every measurement taken', measured === taken, `${measured} audited, ${taken} taken`);
    await env.checkAppliedOnce(handle, 'storefront', before, '1536Mi');
    await env.checkChainVerifies();
    ctx.conclude(`PostgreSQL down ${DOWN_MS / 1000} s in VERIFYING; RESOLVED; audit holds all ${audited.length} states and ${measured} measurements in order; applied once; chain verifies`);
  },
};
