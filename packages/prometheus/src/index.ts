export * from './errors.js';
export * from './promql.js';
export * from './client.js';
export * from './measure.js';
