import { describe, expect, it } from 'vitest';
import { createTestNamespace, ensureServers, kubectl, removeDemoObjects, runDemo, uniqueName } from '../../src/index.js';

// The demo's happy path needs the services running as `make up` runs them (it is what `make demo` shows); here,
// without them (a Temporal namespace of its own), the demo must do its part (a fresh node, a fresh Deployment, a
// Running pod, the injected event) and then fail naming the step that did not happen, instead of hanging or claiming
// success. Its objects live in a Kubernetes namespace of its own, deleted afterwards with its node: nothing lands in
// the stack's `demo` namespace (enrolled as auto, where the stack's own worker would remediate it) or on a shared node.
describe('stack demo — follows an injected failure, or says which step did not happen', () => {
  it('demo — without ingestion and the correlator it injects the event and fails naming the missing incident workflow', async () => {
    const ctx = await ensureServers(['kwok', 'temporal']);
    const temporalNamespace = await createTestNamespace(ctx, 'demo');
    const namespace = uniqueName('demo-test').replace(/_/g, '-');
    await kubectl(ctx, ['create', 'namespace', namespace]);
    try {
      const lines: string[] = [];
      await expect(runDemo(ctx, { temporalNamespace, namespace, timeoutMs: 5000, log: (l) => lines.push(l) })).rejects.toThrow(
        new RegExp(`the incident workflow that received the event on ${namespace}/checkout-demo-[0-9a-f]{6}-\\S+ \\(ingestion → correlator → Temporal\\) not ready after \\d+ ms`),
      );
      const pod = /pod (checkout-demo-[0-9a-f]{6}-\S+) Running on kwok-demo-[0-9a-f]{6}/.exec(lines.join('\n'))?.[1];
      expect(pod).toBeDefined();
      const reasons = await kubectl(ctx, ['get', 'events', '-n', namespace, '--field-selector', `involvedObject.name=${pod},type=Warning`, '-o', 'jsonpath={.items[*].reason}']);
      expect(reasons.split(' ')).toContain('OOMKilling');
    } finally {
      await removeDemoObjects(ctx, namespace);
      await kubectl(ctx, ['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
    }
  });
});
