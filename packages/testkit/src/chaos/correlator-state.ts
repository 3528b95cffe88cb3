import { KV_BUCKETS } from '@cortexops/contracts';
import type { NatsConnection } from 'nats';

/** The part of the correlator's group state (KV bucket `cortexops_correlator`) the scenarios read. */
export interface CorrelatorGroup {
  readonly status: string;
  readonly target: { kind: string; namespace?: string; name: string };
  readonly remediation?: { readonly incidentId: string };
}

/**
 * The correlator's stored group of a Deployment, found by its content (the subjects are listed by the server:
 * `kv.keys()` may end early while the correlator writes).
 */
export async function correlatorGroup(nc: NatsConnection, namespace: string, deployment: string): Promise<CorrelatorGroup | undefined> {
  const kv = await nc.jetstream().views.kv(KV_BUCKETS.correlator);
  const prefix = `$KV.${KV_BUCKETS.correlator}.`;
  const info = await (await nc.jetstreamManager()).streams.info(`KV_${KV_BUCKETS.correlator}`, { subjects_filter: `${prefix}>` });
  for (const subject of Object.keys(info.state.subjects ?? {})) {
    const entry = await kv.get(subject.slice(prefix.length));
    if (entry === null || entry.length === 0) continue;
    const group = entry.json<CorrelatorGroup>();
    if (group.target.kind === 'Deployment' && group.target.namespace === namespace && group.target.name === deployment) return group;
  }
  return undefined;
}
