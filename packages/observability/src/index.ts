export * from './logger.js';
export * from './metrics.js';
export * from './health.js';
export * from './checks.js';
export * from './http.js';
export * from './service.js';
export * from './periodic.js';
