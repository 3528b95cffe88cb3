#!/usr/bin/env -S node --import tsx
import { Command } from 'commander';
import { allPassed, resultTable, runScenarios } from './runner.js';
import { CHAOS_SCENARIOS, selectScenarios } from './scenarios.js';

/**
 * `make demo-failure`: every chaos scenario against private servers beside the local stack (the shared servers are
 * never stopped), a progress line per step, then the table. Exit code 0 only when every scenario passed.
 */
const program = new Command('cortexops-demo-failure')
  .description('chaos scenarios on the local stack, each on private servers of its own; prints a table, exits 1 unless all pass')
  .option('--only <names>', `comma-separated scenarios to run (${CHAOS_SCENARIOS.map((s) => s.name).join(', ')})`, '')
  .option('--list', 'list the scenarios and exit')
  .action(async (options: { only: string; list?: boolean }) => {
    if (options.list) {
      for (const s of CHAOS_SCENARIOS) process.stdout.write(`${s.name.padEnd(28)} ${s.title} (at most ${s.timeoutMs / 1000} s)\n`);
      return;
    }
    const scenarios = selectScenarios(options.only.split(',').map((n) => n.trim()).filter((n) => n !== ''));
    const started = Date.now();
    const results = await runScenarios(scenarios, { log: (line) => process.stdout.write(`${line}\n`) });
    process.stdout.write(`\n${resultTable(results)}\n\n`);
    const passed = allPassed(results);
    process.stdout.write(`${passed ? 'all scenarios passed' : 'NOT ALL SCENARIOS PASSED'} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    process.exitCode = passed ? 0 : 1;
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
