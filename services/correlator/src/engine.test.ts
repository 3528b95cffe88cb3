import { Incident, Signal } from '@cortexops/contracts';
import { describe, expect, it } from 'vitest';
import {
  alertGroupName,
  correlate,
  type CorrelationRules,
  type GroupState,
  groupingOf,
  groupStoreKey,
  homeGrouping,
  incidentIdOf,
  livenessCheckMs,
  quietRefreshMs,
  recordRemediation,
  recordWorkflowEnded,
  stateTtlMs,
  tick,
  UngroupableSignalError,
  workflowIncidentOf,
} from './engine.js';

const RULES: CorrelationRules = { windowMs: 60_000, minSignals: 3, flapWindowMs: 120_000, cooldownMs: 300_000, recurrenceWindowMs: 3_600_000, maxSignalIds: 16, reopenAfterMs: 180_000, eventQuietMs: 600_000, stateTtlMs: 3_600_000 };
const T0 = Date.parse('2026-01-01T00:00:00Z');
let seq = 0;

function signal(overrides: Partial<Signal> = {}): Signal {
  seq += 1;
  return Signal.parse({
    id: `sig-${seq}`,
    // Kubernetes events and custom signals wait for the threshold; Alertmanager alerts are tested on their own.
    source: 'custom',
    cluster: 'prod',
    namespace: 'shop',
    object: { kind: 'Pod', name: `web-7d9f-${seq}` },
    ownerChain: [
      { kind: 'ReplicaSet', name: 'web-7d9f' },
      { kind: 'Deployment', name: 'web' },
    ],
    severity: 'warning',
    status: 'firing',
    title: 'Pod crash looping',
    fingerprint: `${'a'.repeat(15)}${(seq % 16).toString(16)}`,
    startsAt: new Date(T0).toISOString(),
    receivedAt: new Date(T0).toISOString(),
    ...overrides,
  });
}

/** Feeds signals in order, returning every decision and the final state. */
function run(signals: { s: Signal; at: number }[], start?: GroupState) {
  let state = start;
  const decisions = signals.map(({ s, at }) => {
    const result = correlate(state, groupingOf(s), s, at, RULES);
    if (result.state) state = result.state;
    return result.decision;
  });
  return { decisions, state };
}

describe('correlator engine — grouping', () => {
  it('grouping — pods of one Deployment share a key and the Deployment is the target', () => {
    const a = groupingOf(signal());
    const b = groupingOf(signal({ object: { kind: 'Pod', name: 'web-7d9f-other' } }));
    expect(a.key).toBe(b.key);
    expect(a.target).toEqual({ kind: 'Deployment', namespace: 'shop', name: 'web' });
  });

  it('grouping — without an object the service label groups; without either the signal is refused', () => {
    const bySvc = groupingOf(signal({ object: undefined, ownerChain: [], labels: { service: 'checkout' } }));
    expect(bySvc.target).toEqual({ kind: 'Service', namespace: 'shop', name: 'checkout' });
    expect(() => groupingOf(signal({ object: undefined, ownerChain: [], labels: {} }))).toThrow(UngroupableSignalError);
  });

  it('grouping — a pod on a node with an open incident joins the node group, root cause the node', () => {
    const g = groupingOf(signal({ node: 'node-1' }), true);
    expect(g.key).toBe(groupingOf(signal({ object: { kind: 'Node', name: 'node-1' }, ownerChain: [] })).key);
    expect(g.rootCause).toEqual({ kind: 'Node', name: 'node-1' });
    expect(groupingOf(signal({ node: 'node-1' }), false).target.kind).toBe('Deployment');
  });

  it('ids — incident id and store key are deterministic and valid', () => {
    expect(incidentIdOf('k', 0)).toBe(incidentIdOf('k', 0));
    expect(incidentIdOf('k', 0)).not.toBe(incidentIdOf('k', 1));
    expect(groupStoreKey('workload/prod/shop/Deployment/web')).toMatch(/^g\.[a-f0-9]{40}$/);
    expect(groupStoreKey(groupingOf(signal({ object: { kind: 'Node', name: 'node-1' }, ownerChain: [] })).key)).toMatch(/^n\.[a-f0-9]{40}$/);
  });
});

describe('correlator engine — thresholds and dedup', () => {
  it('threshold — the incident opens at the third distinct fingerprint inside the window, not before', () => {
    const fps = ['1111111111111111', '2222222222222222', '3333333333333333'];
    const { decisions, state } = run(fps.map((fingerprint, i) => ({ s: signal({ fingerprint }), at: T0 + i * 1000 })));
    expect(decisions.map((d) => d.kind)).toEqual(['pending', 'pending', 'open']);
    const incident = Incident.parse((decisions[2] as { incident: Incident }).incident);
    expect(incident.signalIds).toHaveLength(3);
    expect(incident.id).toBe(incidentIdOf(state!.key, T0));
  });

  it('dedup — repeats of one fingerprint count once and never open an incident', () => {
    const fingerprint = 'abababababababab';
    const { decisions } = run([0, 1, 2, 3].map((i) => ({ s: signal({ fingerprint }), at: T0 + i })));
    expect(decisions.map((d) => d.kind)).toEqual(['pending', 'pending', 'pending', 'pending']);
  });

  it('dedup — a replayed signal id is a duplicate and changes nothing', () => {
    const s = signal({ severity: 'critical' });
    const first = correlate(undefined, groupingOf(s), s, T0, RULES);
    const again = correlate(first.state, groupingOf(s), s, T0 + 5, RULES);
    expect(first.decision.kind).toBe('open');
    expect(again).toMatchObject({ state: undefined, decision: { kind: 'duplicate', incident: { id: (first.decision as { incident: Incident }).incident.id } } });
  });

  it('window — signals further apart than the window do not add up', () => {
    const { decisions } = run([
      { s: signal({ fingerprint: '1111111111111111' }), at: T0 },
      { s: signal({ fingerprint: '2222222222222222' }), at: T0 + 1000 },
      { s: signal({ fingerprint: '3333333333333333' }), at: T0 + RULES.windowMs + 5000 },
    ]);
    expect(decisions.map((d) => d.kind)).toEqual(['pending', 'pending', 'pending']);
  });

  it('critical — one critical signal opens at once; a second fingerprint attaches, a repeat is deduplicated', () => {
    const { decisions } = run([
      { s: signal({ severity: 'critical', fingerprint: '1111111111111111' }), at: T0 },
      { s: signal({ fingerprint: '2222222222222222' }), at: T0 + 1 },
      { s: signal({ fingerprint: '2222222222222222' }), at: T0 + 2 },
    ]);
    expect(decisions.map((d) => d.kind)).toEqual(['open', 'attach', 'deduplicated']);
  });
});

describe('correlator engine — Alertmanager alerts', () => {
  const alert = (overrides: Partial<Signal> = {}) => signal({ source: 'alertmanager', severity: 'warning', ...overrides });

  it('opening — one firing Alertmanager alert opens an incident by itself, whatever its severity; events and custom signals still wait for the threshold', () => {
    for (const severity of ['info', 'warning'] as const) {
      const { decisions } = run([{ s: alert({ severity, fingerprint: '1111111111111111' }), at: T0 }]);
      expect(decisions.map((d) => d.kind)).toEqual(['open']);
      expect((decisions[0] as { incident: Incident }).incident.severity).toBe(severity);
    }
    for (const source of ['kubernetes', 'custom'] as const) {
      const { decisions } = run([{ s: signal({ source, fingerprint: '1111111111111111' }), at: T0 }]);
      expect(decisions.map((d) => d.kind)).toEqual(['pending']);
    }
  });

  it('opening — a pending group of events opens when an alert about the same workload fires', () => {
    const { decisions } = run([
      { s: signal({ source: 'kubernetes', fingerprint: '1111111111111111' }), at: T0 },
      { s: alert({ fingerprint: '2222222222222222' }), at: T0 + 1000 },
    ]);
    expect(decisions.map((d) => d.kind)).toEqual(['pending', 'open']);
    expect((decisions[1] as { incident: Incident }).incident.signalIds).toHaveLength(2);
  });

  it('grouping — a pod alert and a Deployment alert of one workload are one incident on the Deployment', () => {
    const crashLooping = alert({ reason: 'KubePodCrashLooping', fingerprint: '1111111111111111' });
    const mismatch = alert({ reason: 'KubeDeploymentReplicasMismatch', object: { kind: 'Deployment', name: 'web' }, ownerChain: [], fingerprint: '2222222222222222' });
    expect(groupingOf(mismatch).key).toBe(groupingOf(crashLooping).key);
    const { decisions } = run([
      { s: crashLooping, at: T0 },
      { s: mismatch, at: T0 + 1000 },
    ]);
    expect(decisions.map((d) => d.kind)).toEqual(['open', 'attach']);
    expect((decisions[0] as { incident: Incident }).incident.target).toEqual({ kind: 'Deployment', namespace: 'shop', name: 'web' });
  });

  it('grouping — an alert naming no object groups by its service label, else by alert name in its namespace, never by the scrape job', () => {
    const bySvc = groupingOf(alert({ object: undefined, ownerChain: [], labels: { alertname: 'TargetDown', service: 'checkout', job: 'checkout-metrics' } }));
    expect(bySvc.target).toEqual({ kind: 'Service', namespace: 'shop', name: 'checkout' });
    const quota = alert({ object: undefined, ownerChain: [], reason: 'KubeQuotaExceeded', labels: { alertname: 'KubeQuotaExceeded', job: 'kube-state-metrics', resourcequota: 'q' } });
    expect(groupingOf(quota).target).toEqual({ kind: 'Service', namespace: 'shop', name: 'alert-kube-quota-exceeded' });
    const clusterWide = alert({ object: undefined, ownerChain: [], namespace: undefined, reason: 'KubeCPUOvercommit', labels: { alertname: 'KubeCPUOvercommit' } });
    expect(groupingOf(clusterWide)).toMatchObject({ key: 'service/prod/_cluster/alert-kube-cpu-overcommit', target: { kind: 'Service', name: 'alert-kube-cpu-overcommit' } });
    expect(run([{ s: clusterWide, at: T0 }]).decisions.map((d) => d.kind)).toEqual(['open']);
    // A custom signal still groups by job, and one naming nothing is still refused.
    expect(groupingOf(signal({ object: undefined, ownerChain: [], labels: { job: 'billing' } })).target.name).toBe('billing');
    expect(() => groupingOf(signal({ object: undefined, ownerChain: [], reason: 'Whatever', labels: {} }))).toThrow(UngroupableSignalError);
  });

  it('grouping — alert group names are valid object names', () => {
    expect(alertGroupName('KubeCPUOvercommit')).toBe('alert-kube-cpu-overcommit');
    expect(alertGroupName('NodeRAIDDegraded')).toBe('alert-node-raid-degraded');
    expect(alertGroupName('Watchdog')).toBe('alert-watchdog');
    expect(alertGroupName('job:errors_5m > 0 !!')).toBe('alert-job-errors-5m-0');
    expect(alertGroupName('___')).toBeUndefined();
    expect(alertGroupName(`A${'b'.repeat(100)}`)).toHaveLength(63);
  });
});

describe('correlator engine — resolve and flapping', () => {
  it('resolve — the incident closes when every fingerprint resolved; a resolved alert with no incident is ignored', () => {
    const fp = '1111111111111111';
    const { decisions, state } = run([
      { s: signal({ fingerprint: '9999999999999999', status: 'resolved' }), at: T0 },
      { s: signal({ severity: 'critical', fingerprint: fp }), at: T0 },
      { s: signal({ fingerprint: '2222222222222222' }), at: T0 + 1 },
      { s: signal({ fingerprint: fp, status: 'resolved' }), at: T0 + 2 },
      { s: signal({ fingerprint: '2222222222222222', status: 'resolved' }), at: T0 + 3 },
    ]);
    expect(decisions.map((d) => d.kind)).toEqual(['ignored', 'open', 'attach', 'attach', 'resolve']);
    expect(state?.status).toBe('resolved');
  });

  it('flapping — fire/resolve repeatedly inside the flap window keeps one incident id, counting flaps', () => {
    const fp = '1111111111111111';
    const steps: { s: Signal; at: number }[] = [];
    for (let i = 0; i < 4; i++) {
      steps.push({ s: signal({ severity: 'critical', fingerprint: fp }), at: T0 + i * 10_000 });
      steps.push({ s: signal({ fingerprint: fp, status: 'resolved' }), at: T0 + i * 10_000 + 5000 });
    }
    const { decisions, state } = run(steps);
    expect(decisions.map((d) => d.kind)).toEqual(['open', 'resolve', 'flap', 'resolve', 'flap', 'resolve', 'flap', 'resolve']);
    const ids = new Set(decisions.map((d) => ('incident' in d ? d.incident?.id : undefined)));
    expect(ids.size).toBe(1);
    expect(state?.flapCount).toBe(3);
  });

  it('epoch — firing again after the flap window is a new incident with a new id', () => {
    const fp = '1111111111111111';
    const { decisions } = run([
      { s: signal({ severity: 'critical', fingerprint: fp }), at: T0 },
      { s: signal({ fingerprint: fp, status: 'resolved' }), at: T0 + 1 },
      { s: signal({ severity: 'critical', fingerprint: fp }), at: T0 + RULES.flapWindowMs + 10 },
    ]);
    expect(decisions.map((d) => d.kind)).toEqual(['open', 'resolve', 'open']);
    const [a, , c] = decisions as { incident: Incident }[];
    expect(a!.incident.id).not.toBe(c!.incident.id);
  });
});

describe('correlator engine — remediation loops', () => {
  it('escalation — the remediated fingerprint coming back escalates (a new incident for a human), repeats attach to it', () => {
    const fp = '1111111111111111';
    const opened = run([{ s: signal({ severity: 'critical', fingerprint: fp }), at: T0 }]);
    const remediated = recordRemediation(opened.state!, (opened.decisions[0] as { incident: Incident }).incident.id, T0 + 1000);
    const after = run(
      [
        { s: signal({ fingerprint: fp, status: 'resolved' }), at: T0 + 2000 },
        { s: signal({ fingerprint: fp, severity: 'critical' }), at: T0 + RULES.flapWindowMs + RULES.cooldownMs + 5000 },
        { s: signal({ fingerprint: '2222222222222222', severity: 'critical' }), at: T0 + RULES.flapWindowMs + RULES.cooldownMs + 6000 },
      ],
      remediated,
    );
    expect(after.decisions.map((d) => d.kind)).toEqual(['resolve', 'escalate', 'attach']);
    const esc = (after.decisions[1] as { incident: Incident }).incident;
    expect(esc.status).toBe('escalated');
    expect(esc.id).not.toBe((opened.decisions[0] as { incident: Incident }).incident.id);
  });

  it('escalation — a repeat of the remediated problem that has not resolved since is a repeat in the same incident, not a return', () => {
    const fp = '1111111111111111';
    const opened = run([{ s: signal({ severity: 'critical', fingerprint: fp }), at: T0 }]);
    const id = (opened.decisions[0] as { incident: Incident }).incident.id;
    const remediated = recordRemediation(opened.state!, id, T0 + 1000);
    const after = run(
      [
        { s: signal({ fingerprint: fp, severity: 'critical' }), at: T0 + 2000 },
        { s: signal({ fingerprint: fp, status: 'resolved' }), at: T0 + 3000 },
        { s: signal({ fingerprint: fp, severity: 'critical' }), at: T0 + 4000 },
      ],
      remediated,
    );
    expect(after.decisions.map((d) => d.kind)).toEqual(['deduplicated', 'resolve', 'escalate']);
    expect((after.decisions[0] as { incident: Incident }).incident.id).toBe(id);
  });

  it('cooldown — a different problem of a remediated target inside the cooldown is recorded, nothing opens', () => {
    const opened = run([{ s: signal({ severity: 'critical', fingerprint: '1111111111111111' }), at: T0 }]);
    const remediated = recordRemediation(opened.state!, incidentIdOf(opened.state!.key, opened.state!.epoch), T0 + 1000);
    const closed = run([{ s: signal({ fingerprint: '1111111111111111', status: 'resolved' }), at: T0 + 1500 }], remediated);
    const later = T0 + RULES.flapWindowMs + 10_000;
    const during = run([{ s: signal({ fingerprint: '3333333333333333', severity: 'critical' }), at: later }], closed.state);
    expect(during.decisions.map((d) => d.kind)).toEqual(['cooldown']);
    const after = run([{ s: signal({ fingerprint: '4444444444444444', severity: 'critical' }), at: T0 + 1000 + RULES.cooldownMs + 1 }], during.state);
    expect(after.decisions.map((d) => d.kind)).toEqual(['open']);
  });
});

describe('correlator engine — a workflow that ended while the problem goes on', () => {
  const opened = () => run([{ s: signal({ fingerprint: '5555555555555555', severity: 'critical' }), at: T0 }]);

  it('ended — signals are held for reopenAfter, then a still-firing problem opens a new incident (new id, new workflow)', () => {
    const first = opened();
    const incidentId = incidentIdOf(first.state!.key, first.state!.epoch);
    const ended = recordWorkflowEnded(first.state!, incidentId, T0 + 1000);
    expect(ended).toMatchObject({ status: 'ended', endedAtMs: T0 + 1000 });
    const held = run([{ s: signal({ fingerprint: '5555555555555555', severity: 'critical' }), at: T0 + 2000 }], ended);
    expect(held.decisions).toEqual([{ kind: 'held', reopensAtMs: T0 + 1000 + RULES.reopenAfterMs }]);
    // The hold does not slide: the end recorded again (every held signal's workflow call finds it closed) changes nothing.
    expect(recordWorkflowEnded(held.state!, incidentId, T0 + 3000)).toBeUndefined();
    const later = run([{ s: signal({ fingerprint: '5555555555555555', severity: 'critical' }), at: T0 + 1000 + RULES.reopenAfterMs }], held.state);
    expect(later.decisions.map((d) => d.kind)).toEqual(['open']);
    const reopened = (later.decisions[0] as { incident: Incident }).incident;
    expect(reopened.id).not.toBe(incidentId);
    expect(reopened.id).toBe(incidentIdOf(first.state!.key, first.state!.epoch + 1));
  });

  it('ended — only the current incident can end; a resolved signal of an ended incident is recorded, not acted on', () => {
    const first = opened();
    expect(recordWorkflowEnded(first.state!, 'inc-of-another-epoch', T0 + 1000)).toBeUndefined();
    const ended = recordWorkflowEnded(first.state!, incidentIdOf(first.state!.key, first.state!.epoch), T0 + 1000);
    const resolved = run([{ s: signal({ fingerprint: '5555555555555555', status: 'resolved' }), at: T0 + 2000 }], ended);
    expect(resolved.decisions).toEqual([{ kind: 'ignored', reason: "incident's workflow already ended" }]);
    expect(resolved.state).toMatchObject({ status: 'ended', fingerprints: { '5555555555555555': 'resolved' } });
  });
});

describe('correlator engine — resolution for every source', () => {
  const QUIET = RULES.eventQuietMs + quietRefreshMs(RULES);
  const event = (fingerprint: string, overrides: Partial<Signal> = {}) => signal({ source: 'kubernetes', reason: 'BackOff', fingerprint, ...overrides });
  const incidentId = (state: GroupState) => incidentIdOf(state.key, state.epoch);

  it('quiet — an incident of Kubernetes events resolves on the tick once no event fired for eventQuietMs; its workflow is told with a resolved signal', () => {
    const { decisions, state } = run([
      { s: event('1111111111111111'), at: T0 },
      { s: event('2222222222222222'), at: T0 + 1000 },
      { s: event('3333333333333333'), at: T0 + 2000 },
    ]);
    expect(decisions.map((d) => d.kind)).toEqual(['pending', 'pending', 'open']);
    expect(tick(state!, T0 + 2000 + RULES.eventQuietMs, RULES)).toBeUndefined();
    const quiet = tick(state!, T0 + 2000 + QUIET, RULES);
    expect(quiet?.decision).toMatchObject({ kind: 'resolve', incident: { id: incidentId(state!), status: 'resolved' } });
    expect(quiet?.state).toMatchObject({ status: 'resolved', closedAtMs: T0 + 2000 + QUIET, fingerprints: { '1111111111111111': 'resolved', '2222222222222222': 'resolved', '3333333333333333': 'resolved' } });
    const told = Signal.parse(quiet!.signal);
    expect(told).toMatchObject({ status: 'resolved', cluster: 'prod', namespace: 'shop', object: { kind: 'Deployment', name: 'web' }, startsAt: new Date(T0 + 2000).toISOString() });
    expect(quiet!.state.signalIds).toContain(told.id);
    // Resolved: the tick has nothing more to do; the same event firing later flaps the same incident.
    expect(tick(quiet!.state, T0 + 10 * QUIET, RULES)).toBeUndefined();
    const again = run([{ s: event('1111111111111111'), at: T0 + 2000 + QUIET + 1000 }], quiet!.state);
    expect(again.decisions).toMatchObject([{ kind: 'flap', incident: { id: incidentId(state!) } }]);
  });

  it('quiet — a repeat of an event measures quiet again; repeats inside the refresh interval change nothing to write', () => {
    const opened = run([{ s: event('1111111111111111', { severity: 'critical' }), at: T0 }]);
    expect(opened.state).toMatchObject({ status: 'open', eventFingerprints: ['1111111111111111'], lastEventAtMs: T0 });
    const soon = run([{ s: event('1111111111111111', { severity: 'critical' }), at: T0 + quietRefreshMs(RULES) - 1 }], opened.state);
    expect(soon.decisions.map((d) => d.kind)).toEqual(['deduplicated']);
    expect(soon.state?.lastEventAtMs).toBe(T0);
    const later = run([{ s: event('1111111111111111', { severity: 'critical' }), at: T0 + RULES.eventQuietMs }], soon.state);
    expect(later.state?.lastEventAtMs).toBe(T0 + RULES.eventQuietMs);
    expect(tick(later.state!, T0 + QUIET, RULES)).toBeUndefined();
    expect(tick(later.state!, T0 + RULES.eventQuietMs + QUIET, RULES)?.decision.kind).toBe('resolve');
  });

  it('quiet — an alert still firing keeps a mixed incident open; its resolved signal after the events went quiet resolves it', () => {
    const { decisions, state } = run([
      { s: event('1111111111111111', { severity: 'critical' }), at: T0 },
      { s: signal({ source: 'alertmanager', fingerprint: '2222222222222222' }), at: T0 + 1000 },
    ]);
    expect(decisions.map((d) => d.kind)).toEqual(['open', 'attach']);
    expect(tick(state!, T0 + QUIET, RULES)).toBeUndefined();
    const early = run([{ s: signal({ source: 'alertmanager', fingerprint: '2222222222222222', status: 'resolved' }), at: T0 + 2000 }], state);
    expect(early.decisions.map((d) => d.kind)).toEqual(['attach']);
    const late = run([{ s: signal({ source: 'alertmanager', fingerprint: '2222222222222222', status: 'resolved' }), at: T0 + QUIET }], state);
    expect(late.decisions).toMatchObject([{ kind: 'resolve', incident: { id: incidentId(state!), status: 'resolved' } }]);
  });

  it('escalated — an escalated incident resolves when its signals resolve, and on the tick when its events are quiet', () => {
    const fp = '1111111111111111';
    const opened = run([{ s: event(fp, { severity: 'critical' }), at: T0 }]);
    const remediated = recordRemediation(opened.state!, incidentId(opened.state!), T0 + 1000);
    const returned = T0 + RULES.flapWindowMs + RULES.cooldownMs + QUIET;
    const closed = tick(remediated!, T0 + QUIET, RULES);
    expect(closed?.decision.kind).toBe('resolve');
    const escalated = run([{ s: event(fp, { severity: 'critical' }), at: returned }], closed!.state);
    expect(escalated.decisions.map((d) => d.kind)).toEqual(['escalate']);
    expect(tick(escalated.state!, returned + QUIET, RULES)).toMatchObject({ decision: { kind: 'resolve', incident: { id: incidentId(escalated.state!), status: 'resolved' } }, state: { status: 'resolved' } });

    const custom = run([{ s: signal({ fingerprint: fp, severity: 'critical' }), at: returned }], closed!.state);
    expect(custom.decisions.map((d) => d.kind)).toEqual(['escalate']);
    const resolved = run([{ s: signal({ fingerprint: fp, status: 'resolved' }), at: returned + 1000 }], custom.state);
    expect(resolved.decisions).toMatchObject([{ kind: 'resolve', incident: { status: 'resolved' } }]);
    expect(resolved.state?.status).toBe('resolved');
  });
});

describe('correlator engine — remediation notices', () => {
  it('notice — only the group\'s current incident is marked; a late notice of an earlier incident is stale and changes nothing', () => {
    const fp = '1111111111111111';
    const first = run([
      { s: signal({ fingerprint: fp, severity: 'critical' }), at: T0 },
      { s: signal({ fingerprint: fp, status: 'resolved' }), at: T0 + 1000 },
      { s: signal({ fingerprint: '2222222222222222', severity: 'critical' }), at: T0 + RULES.flapWindowMs + 5000 },
    ]);
    expect(first.decisions.map((d) => d.kind)).toEqual(['open', 'resolve', 'open']);
    const earlier = incidentIdOf(first.state!.key, first.state!.epoch - 1);
    expect(recordRemediation(first.state!, earlier, T0 + RULES.flapWindowMs + 6000)).toBeUndefined();
    const current = recordRemediation(first.state!, incidentIdOf(first.state!.key, first.state!.epoch), T0 + RULES.flapWindowMs + 6000);
    expect(current?.remediation).toEqual({ atMs: T0 + RULES.flapWindowMs + 6000, fingerprints: ['2222222222222222'], incidentId: incidentIdOf(first.state!.key, first.state!.epoch) });
  });
});

describe('correlator engine — state fixes (issue 9)', () => {
  const A = '1111111111111111';
  const B = '2222222222222222';
  const idOf = (state: GroupState) => incidentIdOf(state.key, state.epoch);
  /** An incident of A and B, remediated (both fingerprints), then A resolved while B still fires. */
  const remediatedThenAResolved = () => {
    const opened = run([
      { s: signal({ severity: 'critical', fingerprint: A }), at: T0 },
      { s: signal({ fingerprint: B }), at: T0 + 1000 },
    ]);
    const remediated = recordRemediation(opened.state!, idOf(opened.state!), T0 + 2000)!;
    const resolvedA = run([{ s: signal({ fingerprint: A, status: 'resolved' }), at: T0 + 3000 }], remediated);
    expect(resolvedA.decisions.map((d) => d.kind)).toEqual(['attach']);
    return resolvedA.state!;
  };

  it('escalation vs hold — a remediated problem coming back after its incident’s workflow ended is held like any signal, and escalates once the hold is over', () => {
    const open = remediatedThenAResolved();
    const ended = recordWorkflowEnded(open, idOf(open), T0 + 4000)!;
    const held = run([{ s: signal({ fingerprint: A, severity: 'critical' }), at: T0 + 5000 }], ended);
    expect(held.decisions).toEqual([{ kind: 'held', reopensAtMs: T0 + 4000 + RULES.reopenAfterMs }]);
    const after = run([{ s: signal({ fingerprint: A, severity: 'critical' }), at: T0 + 4000 + RULES.reopenAfterMs }], held.state);
    expect(after.decisions).toMatchObject([{ kind: 'escalate', incident: { status: 'escalated' } }]);
    expect(workflowIncidentOf(after.decisions[0]!)?.id).not.toBe(idOf(open));
  });

  it('orphaned incidents — a remediated problem coming back while an incident of its target is open joins that incident, which still resolves', () => {
    const open = remediatedThenAResolved();
    const back = run(
      [
        { s: signal({ fingerprint: A, severity: 'critical' }), at: T0 + 10_000 },
        { s: signal({ fingerprint: B, status: 'resolved' }), at: T0 + 11_000 },
        { s: signal({ fingerprint: A, status: 'resolved' }), at: T0 + 12_000 },
      ],
      open,
    );
    expect(back.decisions.map((d) => d.kind)).toEqual(['attach', 'attach', 'resolve']);
    for (const d of back.decisions) expect(workflowIncidentOf(d)?.id).toBe(idOf(open));
    expect(back.state).toMatchObject({ status: 'resolved', epoch: open.epoch, flapCount: 1 });

    // Another problem's incident open on the target (after the cooldown): the return joins it too, and it resolves.
    const closed = run([{ s: signal({ fingerprint: B, status: 'resolved' }), at: T0 + 3500 }], open).state!;
    const later = T0 + RULES.cooldownMs + RULES.flapWindowMs + 10_000;
    const other = run([{ s: signal({ fingerprint: '3333333333333333', severity: 'critical' }), at: later }], closed);
    expect(other.decisions.map((d) => d.kind)).toEqual(['open']);
    const joined = run(
      [
        { s: signal({ fingerprint: A, severity: 'critical' }), at: later + 1000 },
        { s: signal({ fingerprint: '3333333333333333', status: 'resolved' }), at: later + 2000 },
        { s: signal({ fingerprint: A, status: 'resolved' }), at: later + 3000 },
      ],
      other.state,
    );
    expect(joined.decisions.map((d) => d.kind)).toEqual(['attach', 'attach', 'resolve']);
    expect(joined.state?.epoch).toBe(other.state!.epoch);
  });

  it('liveness — a repeat of a firing problem is delivered to the workflow once its last call is livenessCheckMs old, and is not written otherwise', () => {
    const opened = run([{ s: signal({ source: 'alertmanager', fingerprint: A }), at: T0 }]);
    expect(opened.state).toMatchObject({ status: 'open', calledAtMs: T0 });
    const soon = correlate(opened.state, groupingOf(signal()), signal({ fingerprint: A }), T0 + livenessCheckMs(RULES) - 1, RULES);
    expect(soon.decision).toMatchObject({ kind: 'deduplicated' });
    expect(workflowIncidentOf(soon.decision)).toBeUndefined();
    expect(soon.state?.calledAtMs).toBe(T0);
    const due = correlate(soon.state, groupingOf(signal()), signal({ fingerprint: A }), T0 + livenessCheckMs(RULES), RULES);
    expect(due.decision).toMatchObject({ kind: 'deduplicated', probe: true, incident: { id: idOf(opened.state!) } });
    expect(workflowIncidentOf(due.decision)?.id).toBe(idOf(opened.state!));
    expect(due.state?.calledAtMs).toBe(T0 + livenessCheckMs(RULES));
    // The probe found the workflow closed: the group is ended and the next repeat is held, not deduplicated forever.
    const ended = recordWorkflowEnded(due.state!, idOf(due.state!), T0 + livenessCheckMs(RULES))!;
    expect(run([{ s: signal({ fingerprint: A }), at: T0 + livenessCheckMs(RULES) + 1 }], ended).decisions.map((d) => d.kind)).toEqual(['held']);
    expect(livenessCheckMs({ reopenAfterMs: 600_000 })).toBe(60_000);
    expect(livenessCheckMs({ reopenAfterMs: 0 })).toBe(1000);
  });

  it('bounded state — the TTL covers every window the rules look back on; a group forgotten after it and seen again gets a new incident id', () => {
    const ttl = stateTtlMs(RULES);
    for (const window of [RULES.windowMs, RULES.flapWindowMs, RULES.cooldownMs, RULES.recurrenceWindowMs, RULES.reopenAfterMs, RULES.eventQuietMs]) expect(ttl).toBeGreaterThan(window);
    expect(stateTtlMs({ ...RULES, stateTtlMs: 10 * RULES.recurrenceWindowMs })).toBe(10 * RULES.recurrenceWindowMs);
    const first = run([{ s: signal({ severity: 'critical', fingerprint: A }), at: T0 }]);
    const again = run([{ s: signal({ severity: 'critical', fingerprint: A }), at: T0 + ttl + 1 }]);
    expect(first.state?.epoch).toBe(T0);
    expect(workflowIncidentOf(again.decisions[0]!)?.id).not.toBe(workflowIncidentOf(first.decisions[0]!)?.id);
  });

  it('re-fire after resolve — the same signal id firing after its fingerprint resolved reaches the incident; a redelivery of the first firing stays a replay', () => {
    const firing = signal({ source: 'alertmanager', fingerprint: A });
    const { decisions, state } = run([
      { s: firing, at: T0 },
      { s: signal({ source: 'alertmanager', fingerprint: A, status: 'resolved' }), at: T0 + 10_000 },
    ]);
    expect(decisions.map((d) => d.kind)).toEqual(['open', 'resolve']);
    expect(correlate(state, groupingOf(firing), firing, T0, RULES).decision.kind).toBe('duplicate');
    const refire = correlate(state, groupingOf(firing), firing, T0 + 20_000, RULES);
    expect(refire.decision).toMatchObject({ kind: 'flap', incident: { id: idOf(state!), status: 'open' } });
    expect(correlate(refire.state, groupingOf(firing), firing, T0 + 20_000, RULES).decision.kind).toBe('duplicate');

    // A Kubernetes event repeats under the id of its first occurrence: after its incident resolved by quiet, it is back.
    const event = signal({ source: 'kubernetes', reason: 'BackOff', severity: 'critical', fingerprint: B });
    const opened = run([{ s: event, at: T0 }]);
    const quiet = tick(opened.state!, T0 + RULES.eventQuietMs + quietRefreshMs(RULES), RULES)!;
    expect(quiet.decision.kind).toBe('resolve');
    const back = correlate(quiet.state, groupingOf(event), event, quiet.state.closedAtMs! + 1000, RULES);
    expect(back.decision).toMatchObject({ kind: 'flap', incident: { id: idOf(opened.state!) } });
  });

  it('re-fire — a Kubernetes event repeating under its first occurrence’s id keeps its incident open (quiet counts from the repeat); a redelivery changes nothing', () => {
    const event = signal({ source: 'kubernetes', reason: 'BackOff', severity: 'critical', fingerprint: B });
    const QUIET = RULES.eventQuietMs + quietRefreshMs(RULES);
    const opened = run([{ s: event, at: T0 }]);
    const repeatAt = T0 + RULES.eventQuietMs - 1000;
    const repeat = correlate(opened.state, groupingOf(event), event, repeatAt, RULES);
    expect(repeat.decision).toMatchObject({ kind: 'duplicate', incident: { id: idOf(opened.state!) } });
    expect(repeat.state?.lastEventAtMs).toBe(repeatAt);
    expect(tick(repeat.state!, T0 + QUIET, RULES)).toBeUndefined();
    expect(tick(repeat.state!, repeatAt + QUIET, RULES)?.decision.kind).toBe('resolve');
    expect(correlate(repeat.state, groupingOf(event), event, T0, RULES)).toMatchObject({ state: undefined, decision: { kind: 'duplicate' } });
  });

  it('grouping vs the owner lookup — a resolved alert naming the Deployment closes the incident its firing opened on the Pod (the lookup had timed out)', () => {
    const pod = { object: { kind: 'Pod' as const, name: 'web-7d9f-x1' }, ownerChain: [] };
    const firing = signal({ source: 'alertmanager', fingerprint: A, ...pod });
    const opened = run([{ s: firing, at: T0 }]);
    expect(opened.state?.target).toEqual({ kind: 'Pod', namespace: 'shop', name: 'web-7d9f-x1' });
    const resolved = signal({ source: 'alertmanager', fingerprint: A, status: 'resolved' });
    expect(groupingOf(resolved).key).not.toBe(opened.state!.key);
    // Grouped by what it names, it finds nothing to resolve ...
    expect(correlate(undefined, groupingOf(resolved), resolved, T0 + 1000, RULES).decision.kind).toBe('ignored');
    // ... grouped by where its fingerprint lives, it resolves the Pod's incident.
    const home = homeGrouping(opened.state, resolved);
    expect(home).toEqual({ key: opened.state!.key, target: opened.state!.target });
    expect(correlate(opened.state, home!, resolved, T0 + 1000, RULES).decision).toMatchObject({ kind: 'resolve', incident: { id: idOf(opened.state!) } });
    // A firing repeat naming the Deployment is a repeat in that incident, not a second incident.
    const repeat = signal({ source: 'alertmanager', fingerprint: A });
    expect(correlate(opened.state, homeGrouping(opened.state, repeat)!, repeat, T0 + 2000, RULES).decision).toMatchObject({ kind: 'deduplicated', incident: { id: idOf(opened.state!) } });
    // No home: another fingerprint, another cluster, a group that forgot it.
    expect(homeGrouping(opened.state, signal({ fingerprint: B }))).toBeUndefined();
    expect(homeGrouping(opened.state, signal({ fingerprint: A, cluster: 'other' }))).toBeUndefined();
    expect(homeGrouping({ ...opened.state!, status: 'idle' }, resolved)).toBeUndefined();
    expect(homeGrouping(undefined, resolved)).toBeUndefined();
  });
});
