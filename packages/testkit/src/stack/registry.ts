import { alertmanager, prometheus } from './servers/prometheus.js';
import { auditCheckpointer } from './servers/audit-checkpointer.js';
import { nats } from './servers/nats.js';
import { postgres } from './servers/postgres.js';
import { api, approvals, correlator, ingestion, worker } from './servers/services.js';
import { QDRANT_DEFAULT_BIN, qdrant, qdrantBinary } from './servers/qdrant.js';
import { temporal } from './servers/temporal.js';
import { etcd, kubeApiserver, kubeControllerManager, kubeScheduler, kubeStateMetrics, kwok } from './servers/kubernetes/index.js';
import type { ServerDefinition } from './types.js';
import { VERSIONS } from './versions.js';

/** Infrastructure of the embedded stack, in start order. Add a server here to add it to `make up`. */
export const STACK_SERVERS: readonly ServerDefinition[] = [
  nats,
  postgres,
  temporal,
  prometheus,
  alertmanager,
  etcd,
  kubeApiserver,
  kubeControllerManager,
  kubeScheduler,
  kwok,
  kubeStateMetrics,
  // Optional: only where a Qdrant binary is (CORTEXOPS_QDRANT_BIN, or the one beside the project); the embedded store
  // in PostgreSQL needs none.
  ...(qdrantBinary(process.env) === undefined ? [] : [qdrant]),
];

/** CortexOps' own processes, started by `make demo` after the stack. */
export const SERVICE_SERVERS: readonly ServerDefinition[] = [ingestion, correlator, worker, approvals, api, auditCheckpointer];

export const ALL_SERVERS: readonly ServerDefinition[] = [...STACK_SERVERS, ...SERVICE_SERVERS];

/** Why an optional server is not in this stack (undefined when it is, or when `name` is not an optional server). */
export function absentOptionalServer(name: string): string | undefined {
  if (name !== qdrant.name || qdrantBinary(process.env) !== undefined) return undefined;
  return `the local stack has no Qdrant: no binary at ${QDRANT_DEFAULT_BIN} (the one built from Qdrant's source beside the project) and CORTEXOPS_QDRANT_BIN is not set — set it to a Qdrant ${VERSIONS.qdrant.version} server binary`;
}
