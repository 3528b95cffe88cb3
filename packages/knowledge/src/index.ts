export * from './errors.js';
export * from './store.js';
export { QdrantStore, type QdrantStoreOptions } from './qdrant-store.js';
export { PostgresStore, DEFAULT_MAX_POINTS, type PostgresStoreOptions } from './postgres-store.js';
export { migrate as migrateKnowledge } from './migrate.js';
