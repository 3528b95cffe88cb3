export * from './env.js';
export * from './stack.js';
export * from './services.js';
export * from './approvals-identity.js';
export * from './audit.js';
export * from './api.js';
export * from './advisor.js';
export * from './knowledge.js';
