export * from './remediation.js';
