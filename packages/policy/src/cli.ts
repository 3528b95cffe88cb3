#!/usr/bin/env tsx
/**
 *   tsx src/cli.ts build   # ensure the pinned opa, `opa check --strict`, build build/policy.wasm
 *   tsx src/cli.ts test    # `opa test` over policy/ (every rule has its *_test.rego), with coverage
 */
import { Command } from 'commander';
import { buildPolicyWasm, ensurePolicyWasm, regoCoverage, runOpa } from './opa.js';
import { POLICY_DIR } from './paths.js';

const log = (m: string) => process.stderr.write(`${m}\n`);

const program = new Command('cortexops-policy');
program.command('build').action(async () => {
  const started = performance.now();
  const path = await buildPolicyWasm({ log });
  log(`policy: built ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
});
program
  .command('ensure')
  .description('build the wasm only when it is missing or older than a Rego source')
  .action(async () => {
    log(`policy: ${await ensurePolicyWasm({ log })}`);
  });
program.command('test').action(async () => {
  const { stdout } = await runOpa(['test', '-v', POLICY_DIR], { log });
  process.stdout.write(stdout);
  const coverage = await regoCoverage({ log });
  const gaps = Object.entries(coverage.files).filter(([, c]) => c < 100);
  process.stdout.write(`coverage of the policy sources: ${coverage.total}%\n`);
  if (gaps.length > 0) throw new Error(`rules without a test: ${gaps.map(([f, c]) => `${f} ${c}%`).join(', ')}`);
});

try {
  await program.parseAsync();
} catch (error) {
  log(`policy: ${(error as Error).message}`);
  process.exitCode = 1;
}
