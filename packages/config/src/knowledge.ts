import { enumVar, intVar, optionalStringVar, optionalUrlVar } from './env.js';

export const INCIDENT_MEMORY_BACKENDS = ['embedded', 'qdrant', 'off'] as const;

/**
 * The worker's incident memory (packages/knowledge): finished incidents written when their workflow ends, the most
 * similar ones read in DIAGNOSING for the advisor and the approval message. The embedded store keeps them in the
 * worker's PostgreSQL (its migrations run by the owner role with the others); it needs the local embedding model's
 * directory (testkit `installEmbeddingModel`): without it the memory is off and the worker says so at start.
 */
export const knowledgeSpec = {
  incidentMemory: enumVar('CORTEXOPS_INCIDENT_MEMORY', INCIDENT_MEMORY_BACKENDS, 'embedded', 'where finished incidents are kept: embedded (PostgreSQL), qdrant, or off'),
  embeddingModelDir: optionalStringVar('CORTEXOPS_EMBEDDING_MODEL_DIR', 'directory of the local embedding model (model.onnx, tokenizer.json, tokenizer_config.json); unset: no incident memory'),
  qdrantUrl: optionalUrlVar('CORTEXOPS_QDRANT_URL', ['http', 'https'], 'Qdrant REST URL when CORTEXOPS_INCIDENT_MEMORY=qdrant'),
  runbooksDir: optionalStringVar('CORTEXOPS_RUNBOOKS_DIR', 'markdown runbooks indexed at start (e.g. deploy/runbooks); the sections closest to an incident are shown to the advisor; unset: none'),
  similarIncidents: intVar('CORTEXOPS_SIMILAR_INCIDENTS', 3, 1, 20, 'past incidents attached to a diagnosis and shown to the advisor'),
} as const;
