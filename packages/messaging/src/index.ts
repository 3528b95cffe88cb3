export * from './errors.js';
export * from './layout.js';
export * from './publish.js';
export * from './dead-letter.js';
export * from './consumer.js';
