import { describe, expect, it } from 'vitest';
import { createTestNamespace, DEMO_NAMESPACE, ensureServers, kubectl, runDemo } from '../../src/index.js';

// The demo's happy path needs the services running as `make up` runs them (it is what `make demo` shows); here,
// without them, the demo must do its part (a fresh Deployment, a Running pod, the injected event) and then fail
// naming the step that did not happen, instead of hanging or claiming success.
describe('stack demo — follows an injected failure, or says which step did not happen', () => {
  it('demo — without ingestion and the correlator it injects the event and fails naming the missing incident workflow', async () => {
    const ctx = await ensureServers(['kwok', 'temporal']);
    const namespace = await createTestNamespace(ctx, 'demo');
    const lines: string[] = [];
    await expect(runDemo(ctx, { temporalNamespace: namespace, timeoutMs: 5000, log: (l) => lines.push(l) })).rejects.toThrow(
      /the incident workflow that received the event on demo\/checkout-demo-[0-9a-f]{6}-\S+ \(ingestion → correlator → Temporal\) not ready after 5000 ms/,
    );
    const pod = /pod (checkout-demo-[0-9a-f]{6}-\S+) Running/.exec(lines.join('\n'))?.[1];
    expect(pod).toBeDefined();
    const reasons = await kubectl(ctx, ['get', 'events', '-n', DEMO_NAMESPACE, '--field-selector', `involvedObject.name=${pod},type=Warning`, '-o', 'jsonpath={.items[*].reason}']);
    expect(reasons.split(' ')).toContain('OOMKilling');
    const deployment = /deployment demo\/(checkout-demo-[0-9a-f]{6})/.exec(lines.join('\n'))?.[1];
    await kubectl(ctx, ['delete', 'deployment', '-n', DEMO_NAMESPACE, String(deployment), '--wait=false']);
  });
});
