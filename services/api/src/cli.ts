import { apiSpec, ConfigError, type Env, LOCAL_HOST, loadConfig, servicePortVar } from '@cortexops/config';
import {
  API_PATHS,
  INCIDENT_LIST_MAX_LIMIT,
  type AuditVerifyReport,
  type IncidentDetail,
  type IncidentList,
  type IncidentReview,
  incidentStatus,
  WORKFLOW_STATES,
  WORKLOAD_KINDS,
} from '@cortexops/contracts';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { reviewMarkdown } from './review.js';
import { similarIncidentText } from './similar.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  readonly env?: Env;
  readonly fetch?: typeof fetch;
}

/** Exit codes: done; refused, not found or the audit chain broken (401, 403, 404, 409); usage (400 too); api unreachable or failed. */
export const CLI_EXIT = { ok: 0, refused: 1, usage: 2, failed: 3 } as const;
type ExitCode = (typeof CLI_EXIT)[keyof typeof CLI_EXIT];

const REQUEST_TIMEOUT_MS = 60_000;

interface CommonOptions {
  readonly apiUrl: string;
  readonly token?: string;
  readonly output: 'text' | 'json';
}

type Answer = { readonly ok: true; readonly status: number; readonly body: unknown; readonly text: string } | { readonly ok: false; readonly status?: number; readonly error: string; readonly message: string; readonly body?: unknown };

async function call(fetchImpl: typeof fetch, baseUrl: string, token: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
  let response: Response;
  try {
    response = await fetchImpl(new URL(path, baseUrl), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    return { ok: false, error: 'UNREACHABLE', message: `the api at ${baseUrl} could not be reached: ${error instanceof Error ? error.message : String(error)}` };
  }
  const text = await response.text();
  let parsed: unknown = {};
  try {
    parsed = text.length > 0 ? JSON.parse(text) : {};
  } catch {
    parsed = undefined;
  }
  if (response.ok) return { ok: true, status: response.status, body: parsed, text };
  const { error, message } = (parsed ?? {}) as { error?: unknown; message?: unknown };
  return { ok: false, status: response.status, error: typeof error === 'string' ? error : 'HTTP_ERROR', message: typeof message === 'string' ? message : response.statusText, body: parsed };
}

const REFUSALS: ReadonlySet<number> = new Set([401, 403, 404, 409]);

function exitFor(status: number | undefined): ExitCode {
  if (status !== undefined && REFUSALS.has(status)) return CLI_EXIT.refused;
  return status === 400 ? CLI_EXIT.usage : CLI_EXIT.failed;
}

function parseUrl(value: string): string {
  if (URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol)) return value;
  throw new InvalidArgumentError('must be an http(s) URL');
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > INCIDENT_LIST_MAX_LIMIT) throw new InvalidArgumentError(`must be a whole number from 1 to ${INCIDENT_LIST_MAX_LIMIT}`);
  return n;
}

function parseTime(value: string): string {
  if (Number.isNaN(Date.parse(value)) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) throw new InvalidArgumentError('must be an ISO-8601 timestamp, e.g. 2026-11-30T04:00:00Z');
  return value;
}

function parsePlanHash(value: string): string {
  if (!/^[0-9a-f]{8,64}$/.test(value)) throw new InvalidArgumentError('must be 8-64 lowercase hex digits of the plan hash');
  return value;
}

const pad = (value: string, width: number) => (value.length >= width ? value : value + ' '.repeat(width - value.length));

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i] ?? 0))).join('  '));
}

function targetText(t: { kind: string; namespace?: string | undefined; name: string }): string {
  return `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name}`;
}

function incidentsText(list: IncidentList): string[] {
  const rows = list.incidents.map((i) => [i.id, i.state ?? '-', i.status, i.severity, targetText(i.target), i.updatedAt]);
  return [
    ...table([['ID', 'STATE', 'STATUS', 'SEVERITY', 'TARGET', 'UPDATED'], ...rows]),
    ...(list.incidents.length === 0 ? ['(no incidents)'] : []),
    ...(list.nextCursor ? [`more: --cursor ${list.nextCursor}`] : []),
  ];
}

function detailText(d: IncidentDetail): string[] {
  const lines = [
    `Incident ${d.incident.id}: ${d.incident.title}`,
    `  target     ${targetText(d.incident.target)}${d.incident.rootCause ? ` (root cause ${targetText(d.incident.rootCause)})` : ''}`,
    `  severity   ${d.incident.severity}, status ${d.incident.status}, opened ${d.incident.openedAt}`,
    `  workflow   ${d.workflowId}, state ${d.state ?? '-'}`,
    `  signals    ${d.signals.ids.length} (${d.signals.ids.slice(0, 5).join(', ')}${d.signals.ids.length > 5 ? ', …' : ''})`,
  ];
  if (d.diagnosis) lines.push(`  diagnosis  ${d.diagnosis.pods.length} pods, ${d.diagnosis.events.length} events${d.diagnosis.problems.length ? `; ${d.diagnosis.problems.join('; ')}` : ''}`);
  // Absent: incident memory attached nothing (off, unreadable, or a diagnosis older than it).
  if (d.diagnosis?.similar) lines.push(...(d.diagnosis.similar.length ? d.diagnosis.similar.map((s) => `  similar    ${similarIncidentText(s)}`) : ['  similar    none in incident memory']));
  if (d.plan) {
    lines.push(`  plan       ${d.plan.source}${d.plan.rule ? ` ${d.plan.rule}` : ''}, risk ${d.plan.risk}: ${d.plan.actions.map((a) => `${a.type} ${'namespace' in a ? `${a.namespace}/` : ''}${a.name}`).join(', ') || 'no action'}`);
    lines.push(`  rationale  ${d.plan.rationale}`);
  }
  if (d.policy) lines.push(`  policy     ${d.policy.allow ? 'allowed' : 'denied'}, mode ${d.policy.mode}${d.policy.requireApproval ? ', approval required' : ''}`);
  for (const a of d.approvals.decisions) lines.push(`  decision   ${a.voided ? 'voided (plan changed)' : `${a.decision ?? '?'} by ${a.approver}`} at ${a.at}`);
  for (const r of d.receipts) lines.push(`  applied    ${r.action.type} at ${r.appliedAt}${r.revertedAt ? `, reverted at ${r.revertedAt}` : ''}`);
  for (const m of d.verification.measurements) lines.push(`  measured   ${m.phase} round ${m.measurement.round}: ${m.measurement.outcome}`);
  lines.push(`  outcome    ${d.outcome ? `${d.outcome.state} at ${d.outcome.at}${d.outcome.detail ? ` — ${d.outcome.detail}` : ''}` : 'in progress'}`);
  if (d.dryRun) {
    lines.push(`  dry run    ${d.dryRun.ok ? 'passed' : 'failed'}, plan hash ${d.dryRun.planHash}`);
    for (const a of d.dryRun.actions) lines.push(...a.diff.split('\n').map((l) => `    ${l}`));
  }
  return lines;
}

function verifyText(r: AuditVerifyReport): string[] {
  if (r.ok) return [`audit chain intact: ${r.rows} rows, head #${r.headSequence} ${r.headHash} (${r.durationMs} ms)`];
  return [`audit chain BROKEN at row ${r.firstBadSequence}: ${r.reason}`, `  ${r.detail}`, `  ${r.rows} rows intact before it`];
}

type Job = { readonly opts: CommonOptions; readonly kind: 'read' | 'action'; run(token: string, opts: CommonOptions): Promise<ExitCode> };

/**
 * `cortexops incidents|incident|review|verify|approve|reject|cancel`: the api from a terminal. Reads take the api's
 * token (`--token` or CORTEXOPS_API_TOKEN); approve, reject and cancel take the person's own approver token (`--token`
 * or CORTEXOPS_APPROVER_TOKEN), which the api forwards to the approvals service.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const env = io.env ?? process.env;
  let defaults: { port: number; token: string | undefined };
  try {
    const config = loadConfig({ port: servicePortVar('api'), token: apiSpec.apiToken }, env);
    defaults = { port: config.port, token: config.token };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(`error: ${error.message}`);
    return CLI_EXIT.usage;
  }
  const fetchImpl = io.fetch ?? fetch;
  let job: Job | undefined;

  const print = (opts: CommonOptions, value: unknown, text: () => string[]) => {
    if (opts.output === 'json') io.out(JSON.stringify(value, null, 2));
    else for (const line of text()) io.out(line);
  };
  const refused = (opts: CommonOptions, answer: Extract<Answer, { ok: false }>): ExitCode => {
    if (opts.output === 'json') io.out(JSON.stringify({ error: answer.error, message: answer.message, ...(answer.status ? { status: answer.status } : {}), ...(answer.body && typeof answer.body === 'object' && 'issues' in answer.body ? { issues: (answer.body).issues } : {}) }));
    io.err(`error: ${answer.error}${answer.status ? ` (${answer.status})` : ''}: ${answer.message}`);
    return exitFor(answer.status);
  };
  const get = (token: string, opts: CommonOptions, path: string) => call(fetchImpl, opts.apiUrl, token, 'GET', path);

  const program = new Command('cortexops')
    .description('CortexOps from a terminal: incidents, incident reviews, audit verification, approve, reject, cancel (through the api service).')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  const common = (command: Command, tokenHelp: string) =>
    command
      .addOption(new Option('--api-url <url>', 'api service base URL').default(`http://${LOCAL_HOST}:${defaults.port}`).argParser(parseUrl))
      .option('--token <token>', tokenHelp)
      .addOption(new Option('--output <format>', 'text, or json for scripts').choices(['text', 'json']).default('text'));
  const reads = (command: Command) => common(command, 'the api read token (default: CORTEXOPS_API_TOKEN)');
  const actions = (command: Command) => common(command, 'your personal approver token (default: CORTEXOPS_APPROVER_TOKEN); the approvals service decides who you are from it');

  reads(program.command('incidents').description('list incidents, most recently updated first'))
    .addOption(new Option('--status <status>', 'incident status').choices([...incidentStatus.options]))
    .addOption(new Option('--state <state>', "the workflow's latest state").choices([...WORKFLOW_STATES]))
    .option('--namespace <namespace>', "the target's namespace")
    .option('--target <name>', "the target's name")
    .addOption(new Option('--kind <kind>', "the target's kind").choices([...WORKLOAD_KINDS]))
    .option('--cluster <cluster>', 'the cluster')
    .addOption(new Option('--from <time>', 'opened at or after (ISO-8601)').argParser(parseTime))
    .addOption(new Option('--to <time>', 'opened before (ISO-8601)').argParser(parseTime))
    .addOption(new Option('--limit <n>', `incidents per page (1-${INCIDENT_LIST_MAX_LIMIT})`).argParser(parseLimit))
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .action((opts: CommonOptions & Record<string, string | number | undefined>) => {
      job = {
        opts,
        kind: 'read',
        run: async (token) => {
          const query = new URLSearchParams();
          for (const key of ['status', 'state', 'namespace', 'target', 'kind', 'cluster', 'from', 'to', 'limit', 'cursor']) {
            const value = opts[key];
            if (value !== undefined) query.set(key, String(value));
          }
          const answer = await get(token, opts, `${API_PATHS.incidents}${query.size > 0 ? `?${query.toString()}` : ''}`);
          if (!answer.ok) return refused(opts, answer);
          print(opts, answer.body, () => incidentsText(answer.body as IncidentList));
          return CLI_EXIT.ok;
        },
      };
    });

  const incidentCommand = (name: string, description: string, suffix: string, text: (body: unknown) => string[]) =>
    reads(program.command(name).description(description).argument('<incidentId>')).action((incidentId: string, opts: CommonOptions) => {
      job = {
        opts,
        kind: 'read',
        run: async (token) => {
          const answer = await get(token, opts, `${API_PATHS.incidents}/${encodeURIComponent(incidentId)}${suffix}`);
          if (!answer.ok) return refused(opts, answer);
          print(opts, answer.body, () => text(answer.body));
          return CLI_EXIT.ok;
        },
      };
    });
  incidentCommand('incident', 'one incident: signals, diagnosis, plan, dry-run diff, policy, approvals, receipts, verification, outcome', '', (body) => detailText(body as IncidentDetail));
  incidentCommand('review', 'the incident review: a timeline drawn from the audit chain; Markdown for a postmortem (text), or JSON', '/review', (body) =>
    reviewMarkdown(body as IncidentReview).trimEnd().split('\n'),
  );

  reads(program.command('verify').description('walk the whole audit hash chain; exit 1 and name the first bad row when it is broken')).action((opts: CommonOptions) => {
    job = {
      opts,
      kind: 'read',
      run: async (token) => {
        const answer = await get(token, opts, API_PATHS.auditVerify);
        if (!answer.ok) return refused(opts, answer);
        const report = answer.body as AuditVerifyReport;
        print(opts, report, () => verifyText(report));
        return report.ok ? CLI_EXIT.ok : CLI_EXIT.refused;
      },
    };
  });

  const act = (opts: CommonOptions, path: string, body: Record<string, unknown>): Job => ({
    opts,
    kind: 'action',
    run: async (token) => {
      const answer = await call(fetchImpl, opts.apiUrl, token, 'POST', path, { ...body, channel: 'cli' });
      if (!answer.ok) return refused(opts, answer);
      print(opts, answer.body, () => [`accepted: ${Object.entries(answer.body as Record<string, unknown>).map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')}`]);
      return CLI_EXIT.ok;
    },
  });
  for (const decision of ['approve', 'reject'] as const) {
    actions(program.command(decision).description(`${decision} the plan waiting for a decision, as the owner of your token`).argument('<incidentId>'))
      .addOption(new Option('--plan-hash <prefix>', 'the plan hash (8-64 hex digits) you reviewed; refused when another plan waits').argParser(parsePlanHash))
      .option('--comment <text>', 'a note kept with the decision')
      .action((incidentId: string, opts: CommonOptions & { planHash?: string; comment?: string }) => {
        job = act(opts, `${API_PATHS.incidents}/${encodeURIComponent(incidentId)}/${decision}`, { ...(opts.planHash ? { planHash: opts.planHash } : {}), ...(opts.comment ? { comment: opts.comment } : {}) });
      });
  }
  actions(program.command('cancel').description('cancel the remediation (after an apply, its change is reverted)').argument('<incidentId>'))
    .requiredOption('--reason <text>', 'why (kept in the audit trail)')
    .action((incidentId: string, opts: CommonOptions & { reason: string }) => {
      job = act(opts, `${API_PATHS.incidents}/${encodeURIComponent(incidentId)}/cancel`, { reason: opts.reason });
    });
  actions(program.command('request').description('ask for a new run of an ended remediation, as the owner of your token (someone else must approve it)').argument('<incidentId>'))
    .requiredOption('--reason <text>', 'why (kept in the audit trail)')
    .action((incidentId: string, opts: CommonOptions & { reason: string }) => {
      job = act(opts, `${API_PATHS.incidents}/${encodeURIComponent(incidentId)}/request`, { reason: opts.reason });
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? CLI_EXIT.ok : CLI_EXIT.usage;
    throw error;
  }
  if (!job) {
    program.outputHelp({ error: true });
    return CLI_EXIT.usage;
  }
  const token = job.opts.token ?? (job.kind === 'read' ? defaults.token : env.CORTEXOPS_APPROVER_TOKEN);
  if (!token) {
    io.err(job.kind === 'read' ? 'error: no api token: pass --token or set CORTEXOPS_API_TOKEN' : 'error: no approver token: pass --token or set CORTEXOPS_APPROVER_TOKEN (an administrator issues one)');
    return CLI_EXIT.usage;
  }
  return job.run(token, job.opts);
}
