import { alertmanager, prometheus } from './servers/prometheus.js';
import { auditCheckpointer } from './servers/audit-checkpointer.js';
import { nats } from './servers/nats.js';
import { postgres } from './servers/postgres.js';
import { api, approvals, correlator, ingestion, worker } from './servers/services.js';
import { qdrant, qdrantBinary } from './servers/qdrant.js';
import { temporal } from './servers/temporal.js';
import { etcd, kubeApiserver, kubeControllerManager, kubeScheduler, kubeStateMetrics, kwok } from './servers/kubernetes/index.js';
import type { ServerDefinition } from './types.js';

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
