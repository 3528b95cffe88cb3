#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, resolved from this package wherever the command is started.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli-main.ts');
