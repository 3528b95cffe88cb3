/**
 * What redaction at any depth costs per log line: the service logger (createLogger: every object, message, error and
 * binding walked) against plain pino with the same options and no redaction (the baseline), in the same run, writing
 * to a sink that discards. Three shapes: a flat line, a nested request-like object, an error with a cause.
 *
 *   node --import tsx packages/observability/bench/logger.ts [--lines 50000]
 */
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createLogger } from '../src/logger.js';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '50000' } } });
const options = { lines: Number.parseInt(values.lines, 10) };
if (!Number.isInteger(options.lines) || options.lines < 1) throw new Error(`--lines must be a positive whole number, not ${values.lines}`);

const sink = () =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });

const cause = new Error('connect ECONNREFUSED 10.0.0.7:5432');
const error = Object.assign(new Error('audit: append failed for postgres://cortexops_app:secret@db:5432/cortexops'), { code: '08006', cause });
const shapes: Record<string, () => [Record<string, unknown>, string]> = {
  flat: () => [{ incidentId: 'inc-1', state: 'APPLYING', attempt: 2 }, 'workflow state changed'],
  nested: () => [
    { req: { method: 'POST', url: '/v1/approvals', headers: { authorization: 'Bearer x', 'content-type': 'application/json' } }, body: { request: { id: 'r-1', plan: { action: { type: 'scale', target: { namespace: 'shop', name: 'checkout' }, replicas: 4 } }, token: 't' } } },
    'approval request received',
  ],
  error: () => [{ err: error, attempt: 3 }, 'retrying'],
};

function measure(logger: pino.Logger, shape: () => [Record<string, unknown>, string]): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < options.lines; i++) {
    const [object, message] = shape();
    logger.info(object, message);
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const rows: string[] = [];
for (const [name, shape] of Object.entries(shapes)) {
  const baseline = pino({ level: 'info', base: { service: 'bench' }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, sink());
  const service = createLogger({ service: 'bench', level: 'info', destination: sink() });
  measure(baseline, shape); // warm-up of both
  measure(service, shape);
  const plain = measure(baseline, shape);
  const redacted = measure(service, shape);
  const perLine = (seconds: number) => ((seconds / options.lines) * 1e6).toFixed(2);
  rows.push(`| ${name.padEnd(6)} | ${perLine(plain).padStart(8)} | ${perLine(redacted).padStart(8)} | ${(redacted / plain).toFixed(2).padStart(5)} |`);
}
process.stdout.write(`${options.lines} lines per scenario, µs per line\n| shape  | pino     | redacted | ratio |\n|--------|----------|----------|-------|\n${rows.join('\n')}\n`);
