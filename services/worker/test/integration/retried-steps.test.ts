import { AuditStore } from '@cortexops/audit';
import { ClusterGateway } from '@cortexops/k8s';
import { PolicyEngine } from '@cortexops/policy';
import { PrometheusClient } from '@cortexops/prometheus';
import { createTestDatabase, DEMO_DEPLOYMENT, DEMO_NAMESPACE, ensureServers, fixtureIncident, kubeconfigPaths, stackPorts, type TestDatabase } from '@cortexops/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemediationActivities } from '../../src/activities/remediation.js';

const unused = (what: string) => () => Promise.reject(new Error(`${what} is not part of this test`));

/**
 * An activity retried after its first attempt already wrote its audit record (the worker died, or the call timed
 * out, after the write) recomputes its value with a newer clock or reading. The audit store refuses a second record
 * with other content under the same key; the activity then goes on with the stored value — the audit trail and the
 * workflow never disagree, and the retry does not fail. Real audit store, cluster (read only) and Prometheus.
 */
describe('worker activities — a retried step goes on with what its first attempt recorded', () => {
  let db: TestDatabase;
  let audit: AuditStore;
  let activities: ReturnType<typeof createRemediationActivities>;

  beforeAll(async () => {
    const ctx = await ensureServers(['postgres', 'prometheus', 'kwok']);
    db = await createTestDatabase(ctx, 'retried_steps');
    audit = await AuditStore.create({ databaseUrl: db.url });
    activities = createRemediationActivities({
      audit,
      gateway: ClusterGateway.create({ kubeconfigPath: kubeconfigPaths(ctx).worker }),
      prometheus: PrometheusClient.create({ baseUrl: `http://127.0.0.1:${stackPorts(ctx).prometheusPort}`, timeoutMs: 5000, retries: 1 }),
      policy: await PolicyEngine.create(),
      notices: { publish: unused('a notice') },
      approvals: { requestApproval: unused('an approval request'), postNote: unused('a note') },
      advisor: { advise: unused('the advisor') },
      settings: {
        approvalTimeoutMs: 60_000,
        rolloutTimeoutMs: 60_000,
        cluster: 'local',
        environmentOf: () => 'development',
        planner: { maxMemory: '4Gi', verification: { stabilisationMs: 0, intervalMs: 1000, count: 1, minSamples: 1, inconclusiveLimit: 0 } },
        bounds: { minReplicas: 1, maxReplicas: 10, maxMemory: '4Gi' },
      },
    });
  });

  afterAll(async () => {
    await audit?.close();
    await db?.drop();
  });

  it('diagnose twice under one workflow id: the second returns the first diagnosis (its time), one record is kept', async () => {
    const incident = fixtureIncident('retried', { target: { kind: 'Deployment', namespace: DEMO_NAMESPACE, name: DEMO_DEPLOYMENT } });
    const workflowId = `remediation-${incident.id}`;
    const first = await activities.diagnose({ workflowId, incident });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const retried = await activities.diagnose({ workflowId, incident });
    expect(retried.observedAt).toBe(first.observedAt);
    expect(retried).toEqual(first);
    const records = await audit.query({ incidentId: incident.id, kinds: ['diagnosis.completed'] });
    expect(records.records.map((r) => r.payload['diagnosis'])).toEqual([first]);
  });
});
