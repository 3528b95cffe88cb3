// @ts-check
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['fs', 'path', 'os', 'child_process', 'net', 'http', 'https', 'crypto', 'url', 'util', 'stream', 'events', 'worker_threads', 'timers', 'process', 'module', 'dns', 'tls', 'zlib'];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/build/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    // `./x.js` in TypeScript sources means `./x.ts`: without the TypeScript resolver no-cycle resolved nothing.
    // Cycles are ours to find: dependencies' own files are not parsed.
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ alwaysTryTypes: true })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/ignore': ['node_modules'],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      'import-x/no-cycle': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@cortexops/*/src/*', '@cortexops/*/src'], message: 'import a package through its entry point (@cortexops/<name>), never its src/ internals' },
            { group: ['../../packages/*', '../../../packages/*', '../../services/*', '../../../services/*', '../../../../packages/*'], message: 'import sibling packages by name, not by relative path' },
          ],
        },
      ],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no Node-only packages.
    files: ['packages/workflows/src/**/*.ts', 'packages/contracts/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...NODE_BUILTINS.flatMap((m) => [m, `node:${m}`]), 'pg', 'nats', '@kubernetes/client-node', '@temporalio/worker', '@temporalio/client'].map((name) => ({
            name,
            message: 'workflow-safe code must not import Node built-ins or Node-only packages',
          })),
          patterns: [{ group: ['node:*'], message: 'workflow-safe code must not import Node built-ins' }],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
