import { describe, expect, it } from 'vitest';
import { CHAOS_SCENARIOS, runScenario, type ScenarioResult } from '../../src/index.js';

// `make demo-failure`'s scenarios through the same runner, one test each: every one must PASS and leave nothing behind
// (a failed cleanup fails the test). Each runs on private servers of its own beside the shared stack, whose servers
// are never stopped. A failing scenario's message holds its progress, evidence and the services' last output.
describe('demo-failure — every chaos scenario passes', () => {
  for (const scenario of CHAOS_SCENARIOS) {
    it(
      `demo-failure — ${scenario.name}: ${scenario.title}`,
      async () => {
        const lines: string[] = [];
        const result: ScenarioResult = await runScenario(scenario, { log: (line) => lines.push(line) });
        const report = lines.join('\n');
        expect(result.result, report).toBe('PASS');
        expect(result.cleanupErrors, report).toEqual([]);
        expect(result.evidence.length, report).toBeGreaterThan(0);
      },
      scenario.timeoutMs + 60_000,
    );
  }
});
