import { correlatorGroup } from '../correlator-state.js';
import { ChaosEnvironment } from '../environment.js';
import { pollUntil } from '../poll.js';
import type { Scenario } from '../runner.js';

/**
 * A remediation loop: the fix works (OOM → raised limit → RESOLVED), the problem resolves, then the same problem
 * returns. The correlator knows the target was remediated for that problem: the second occurrence is escalated to a
 * human (ESCALATED, nothing applied) instead of raising the limit again.
 */
export const remediationLoop: Scenario = {
  name: 'remediation-loop',
  title: 'the fix works, the problem returns: the second occurrence escalates instead of applying again',
  timeoutMs: 240_000,
  async run(ctx) {
    // Flapping off: the recurrence right after the resolution would otherwise re-open the first incident.
    const env = await ChaosEnvironment.start(ctx, 'loop', { correlatorEnv: { CORTEXOPS_CORRELATOR_FLAP_WINDOW_MS: '0' } });
    const { before, pod, signal: first, handle } = await env.oomIncident('orders', '1Gi');
    ctx.step(`Deployment ${env.namespace}/orders (1Gi): first occurrence, OOMKilling on ${pod}`);
    const resolved = await env.finalView(handle);
    ctx.check('first occurrence RESOLVED', resolved.state === 'RESOLVED', resolved.outcome);
    await env.checkAppliedOnce(handle, 'orders', before, '1536Mi');

    await env.publish(env.signal('orders', pod, 'OOMKilling', { status: 'resolved' }));
    await pollUntil(ctx, 'the correlator resolving the incident', async () => ((await correlatorGroup(env.nc, env.namespace, 'orders'))?.status === 'resolved' ? true : undefined));
    ctx.step('the problem resolved (the correlator closed the incident); now it returns');

    const again = env.signal('orders', pod, 'OOMKilling');
    ctx.check('the same problem (same fingerprint)', again.fingerprint === first.fingerprint);
    await env.publish(again);
    const second = await env.workflowOf(again.id);
    ctx.check('a second incident', second.workflowId !== handle.workflowId, second.workflowId);
    const escalated = await env.finalView(second);
    ctx.check('second occurrence ESCALATED', escalated.state === 'ESCALATED', escalated.outcome);
    ctx.check('escalated because it came back after a remediation', (escalated.outcome ?? '').includes('again after a remediation'));
    const secondId = second.workflowId.replace(/^incident-/, '');
    const states = await env.auditedStates(secondId);
    ctx.check('audit: second incident went DIAGNOSING → ESCALATED', states.join(',') === 'DIAGNOSING,ESCALATED', states.join(' → '));
    const secondKinds = (await env.trail(secondId)).map((r) => r.kind);
    ctx.check('audit: nothing applied for the second', !secondKinds.includes('action.applied') && (await env.receipts(secondId)).length === 0);
    await env.checkAppliedOnce(handle, 'orders', before, '1536Mi');
    await env.checkChainVerifies();
    ctx.conclude(`1st RESOLVED (1Gi → 1536Mi, applied once: 1 action.applied, 1 receipt, generation +1, annotation); problem back → 2nd incident ESCALATED "again after a remediation", DIAGNOSING → ESCALATED, nothing applied; chain verifies`);
  },
};
