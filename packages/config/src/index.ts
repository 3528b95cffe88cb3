export * from './env.js';
export * from './stack.js';
export * from './services.js';
export * from './api.js';
export * from './audit.js';
