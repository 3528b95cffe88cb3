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
    // Not "postgres" in the name: the policy asks for an approval for anything that looks like a database.
    const env = await ChaosEnvironment.start(ctx, 'pg-restart', { privateServers: ['postgres'] });
    const { before, handle, incidentId } = await env.oomIncident('storefront', '1Gi');
    await env.waitForState(handle, 'VERIFYING');

    await env.stopServer('postgres');
    ctx.step(`the scenario's PostgreSQL stopped for ${DOWN_MS / 1000} s while the workflow verifies`);
    await sleep(DOWN_MS, undefined, { signal: ctx.signal });
    await env.startServer('postgres');
    ctx.step(`PostgreSQL back; the worker logged ${(env.worker.output().match(/ECONNREFUSED|terminating connection|Connection terminated/g) ?? []).length} refused or dropped connections meanwhile`);

    const view = await env.finalView(handle);
    ctx.check('RESOLVED', view.state === 'RESOLVED', view.outcome);
    const lived = view.history.map((h) => h.state);
    const audited = await env.auditedStates(incidentId);
    ctx.check('audit: every state the workflow went through, in order', audited.join(',') === lived.join(','), audited.join(' → '));
    // Each measurement audited (the verification's rounds; the rollout wait before them is audited as one more).
    const measured = (await env.trail(incidentId))
      .filter((r) => r.kind === 'verification.measured')
      .map((r) => {
        const m = r.payload['measurement'] as { round: number; at: string };
        return `${String(r.payload['phase'])}/${m.round}/${m.at}`;
      });
    const taken = view.verification?.measurements ?? [];
    const missing = taken.filter((m) => !measured.some((key) => key.endsWith(`/${m.round}/${m.at}`)));
    ctx.check('audit: every measurement taken', taken.length > 0 && missing.length === 0, `${taken.length} taken, ${measured.length} audited, missing rounds: ${missing.map((m) => m.round).join(', ') || 'none'}`);
    ctx.check('audit: no measurement written twice (writes retried while PostgreSQL was down)', new Set(measured).size === measured.length, `${measured.length} records`);
    await env.checkAppliedOnce(handle, 'storefront', before, '1536Mi');
    await env.checkChainVerifies();
    ctx.conclude(`PostgreSQL down ${DOWN_MS / 1000} s in VERIFYING; RESOLVED; audit holds all ${audited.length} states and every one of the ${taken.length} measurements once; applied once; chain verifies`);
  },
};
