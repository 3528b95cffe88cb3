import { ChaosEnvironment, podAlert } from '../environment.js';
import { pollUntil } from '../poll.js';
import type { Scenario } from '../runner.js';

const REPLICAS = 3;
const ALERT = 'KubeContainerOOMKilled';

/**
 * Pod deletions in a Deployment: each of its three pods is OOM-killed and deleted (the ReplicaSet replaces it), and
 * the alerts about them reach the scenario's ingestion through the Alertmanager webhook — also when Alertmanager
 * repeats them after the pods are gone (ingestion remembers their owners). The correlator groups every pod's signal
 * into one incident on the Deployment, and one remediation raises its memory limit once.
 */
export const podDeletions: Scenario = {
  name: 'pod-deletions',
  title: 'pod deletions in a Deployment: signals, one incident, remediation',
  timeoutMs: 240_000,
  async run(ctx) {
    const env = await ChaosEnvironment.start(ctx, 'pods', { ingestion: true });
    const { before, pods } = await env.deploy('checkout', '1Gi', REPLICAS);
    for (const pod of pods) {
      await env.notify(`{}:{alertname="${ALERT}",pod="${pod}"}`, [podAlert(env.namespace, pod, ALERT)]);
      await kubectlDelete(env, pod);
      ctx.step(`${ALERT} for ${pod} sent; pod deleted`);
    }
    // Alertmanager's repeat of the group after the pods are gone: the same alerts, their pods deleted.
    await env.notify(`{}:{alertname="${ALERT}"}`, pods.map((pod) => podAlert(env.namespace, pod, ALERT)));
    ctx.step(`the ${pods.length} alerts repeated in one notification, their pods gone`);

    const incidents = await pollUntil(ctx, `an incident with a signal from each of the ${pods.length} deleted pods`, async () => {
      const all = await env.incidents();
      const signals = await env.signalsOf(all.map((i) => i.incidentId));
      return pods.every((pod) => signals.some((s) => s.object?.name === pod)) ? { all, signals } : undefined;
    });
    ctx.check('one incident', incidents.all.length === 1, incidents.all.map((i) => `${i.workflowId} on ${i.target}`).join(', '));
    const [incident] = incidents.all;
    ctx.check('on the Deployment', incident?.target === `Deployment ${env.namespace}/checkout`, incident?.target);
    ctx.check('signals from every deleted pod, owners included', incidents.signals.every((s) => s.ownerChain.some((o) => o.kind === 'Deployment' && o.name === 'checkout')), `${incidents.signals.length} signals`);
    const handle = env.client.workflow.getHandle(incident!.workflowId);
    const view = await env.finalView(handle);
    ctx.check('remediated: RESOLVED', view.state === 'RESOLVED', view.outcome);
    await env.checkAppliedOnce(handle, 'checkout', before, '1536Mi');
    const after = await env.incidents();
    ctx.check('still one incident after the remediation', after.length === 1, String(after.length));
    await env.checkChainVerifies();
    ctx.conclude(`${REPLICAS} pods OOM-killed and deleted, alerts repeated after they were gone → ${incidents.signals.length} signals, 1 incident on the Deployment → raise-memory-limit RESOLVED, applied once; chain verifies`);
  },
};

async function kubectlDelete(env: ChaosEnvironment, pod: string): Promise<void> {
  await env.kubectl(['delete', 'pod', '-n', env.namespace, pod, '--wait=false']);
}
