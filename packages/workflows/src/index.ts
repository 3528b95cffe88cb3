export * from './remediation.js';
export * from './bundler.js';
