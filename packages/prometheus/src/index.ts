export * from './errors.js';
export * from './promql.js';
export * from './client.js';
export * from './measure.js';
export * from './options.js';
export { FileReadError, WatchedFile } from './watched-file.js';
export * from './from-config.js';
export * from './health.js';
