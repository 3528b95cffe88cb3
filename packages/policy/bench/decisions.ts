/**
 * Policy decisions per second and their latency: the in-process wasm evaluator (PolicyEngine, with
 * input and output validation) against the same policy, data and inputs through `opa eval` (one
 * process per decision, the naive way to call OPA from a workflow activity) and through
 * `opa run --server` on 127.0.0.1 (the sidecar way), measured in the same run. Bounded: each mode
 * stops at its decision count or its time budget, whichever comes first; the server is stopped at
 * the end. Every answer from opa is checked against the in-process decision.
 *
 *   pnpm --filter @cortexops/policy bench [--decisions 20000 --eval-decisions 20 --server-decisions 2000 --seconds 15]
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { freePort } from '@cortexops/testkit';
import { Command } from 'commander';
import { DEFAULT_DATA_PATH, ENTRYPOINT, ensureOpa, ensurePolicyWasm, opaEval, PolicyEngine, policySources } from '../src/index.js';
import { DECISION_CASES } from '../test/cases.js';

const program = new Command('policy-bench')
  .option('--decisions <n>', 'in-process decisions', (v) => Number.parseInt(v, 10), 20_000)
  .option('--eval-decisions <n>', 'opa eval decisions (one process each)', (v) => Number.parseInt(v, 10), 20)
  .option('--server-decisions <n>', 'opa run --server decisions', (v) => Number.parseInt(v, 10), 2_000)
  .option('--seconds <n>', 'time budget per mode', (v) => Number.parseFloat(v), 15)
  .parse();
const options = program.opts<{ decisions: number; evalDecisions: number; serverDecisions: number; seconds: number }>();

const GOAL_P99_MICROSECONDS = 100;
const inputs = DECISION_CASES.map((c) => c.input);

interface Row {
  readonly mode: string;
  readonly latencies: number[]; // microseconds
  readonly seconds: number;
}

async function measure(mode: string, count: number, decide: (input: unknown, i: number) => unknown): Promise<Row> {
  const latencies: number[] = [];
  const deadline = performance.now() + options.seconds * 1000;
  const started = performance.now();
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const t0 = process.hrtime.bigint();
    await decide(inputs[i % inputs.length], i);
    latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return { mode, latencies, seconds: (performance.now() - started) / 1000 };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function mismatch(mode: string, input: unknown, got: unknown, want: unknown): never {
  throw new Error(`${mode} disagrees with the in-process decision for ${JSON.stringify(input)}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
}

await ensurePolicyWasm();
const engine = await PolicyEngine.create();
const status = engine.status();
if (!status.ready) throw new Error(`policy not ready: ${status.problem}`);
const expected = inputs.map((i) => engine.decide(i));

// Warm-up: JIT of the validators and the wasm.
await measure('warm-up', 5_000, (input) => engine.decide(input));
const rows: Row[] = [await measure('in-process wasm', options.decisions, (input) => engine.decide(input))];

rows.push(
  await measure('opa eval (process each)', options.evalDecisions, async (input, i) => {
    const got = await opaEval(input);
    if (!isDeepStrictEqual(got, expected[i % inputs.length])) mismatch('opa eval', input, got, expected[i % inputs.length]);
  }),
);

const opa = await ensureOpa();
const port = await freePort();
const server = spawn(opa, ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', ...policySources(), DEFAULT_DATA_PATH], { stdio: ['ignore', 'ignore', 'pipe'] });
let serverErrors = '';
server.stderr.on('data', (chunk: Buffer) => (serverErrors += chunk.toString()));
const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
try {
  const base = `http://127.0.0.1:${port}`;
  const ready = performance.now() + 10_000;
  for (;;) {
    const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (performance.now() > ready || server.exitCode !== null) throw new Error(`opa run --server did not become healthy: ${serverErrors}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = `${base}/v1/data/${ENTRYPOINT}`;
  const post = async (input: unknown) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) });
    return ((await response.json()) as { result?: unknown }).result;
  };
  for (let i = 0; i < 200; i++) await post(inputs[i % inputs.length]); // warm-up: connection, server caches
  rows.push(
    await measure('opa run --server (HTTP)', options.serverDecisions, async (input, i) => {
      const got = await post(input);
      if (!isDeepStrictEqual(got, expected[i % inputs.length])) mismatch('opa server', input, got, expected[i % inputs.length]);
    }),
  );
} finally {
  server.kill('SIGTERM');
  await exited;
}

const baseline = rows[0]!;
const baselineP50 = percentile([...baseline.latencies].sort((a, b) => a - b), 50);
const line = (cells: string[]) => `${cells[0]!.padEnd(26)}${cells.slice(1).map((c) => c.padStart(13)).join('')}\n`;
process.stdout.write(
  `${inputs.length} distinct inputs (the agreement table), cycled; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(2)} (other work on the machine moves p99 most)\n`,
);
process.stdout.write(line(['mode', 'decisions', 'decisions/s', 'p50 µs', 'p99 µs', 'x in-process']));
for (const row of rows) {
  const sorted = [...row.latencies].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  process.stdout.write(
    line([row.mode, String(sorted.length), (sorted.length / row.seconds).toFixed(0), p50.toFixed(1), percentile(sorted, 99).toFixed(1), (p50 / baselineP50).toFixed(1)]),
  );
}
const p99 = percentile([...baseline.latencies].sort((a, b) => a - b), 99);
process.stdout.write(`goal: in-process p99 < ${GOAL_P99_MICROSECONDS} µs — ${p99 < GOAL_P99_MICROSECONDS ? 'met' : 'NOT met'} (${p99.toFixed(1)} µs)\n`);
