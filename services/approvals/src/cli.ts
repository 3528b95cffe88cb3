import { approvalsSpec, ConfigError, type Env, LOCAL_HOST, loadConfig, servicePortVar } from '@cortexops/config';
import { type ApprovalDecisionOutcome, type ApprovalRequest, type CancelOutcome, HTTP_PATHS } from '@cortexops/contracts';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { actionDetail, actionTarget, shortHash } from './plan-text.js';
import type { PendingRequest } from './workflow-client.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  readonly env?: Env;
  readonly fetch?: typeof fetch;
}

/** Exit codes: accepted; refused (403, 404, 409, or the plan is not the one pinned); usage (400 too); API unreachable or failed. */
export const CLI_EXIT = { accepted: 0, refused: 1, usage: 2, failed: 3 } as const;
type ExitCode = (typeof CLI_EXIT)[keyof typeof CLI_EXIT];

const REQUEST_TIMEOUT_MS = 30_000;

interface CommonOptions {
  readonly apiUrl: string;
  readonly token?: string;
  readonly output: 'text' | 'json';
}

interface IdentityOptions {
  readonly actor?: string;
  /** The older name of `--actor` on approve and reject. */
  readonly approver?: string;
}

type Job =
  | { readonly kind: 'show'; readonly incidentId: string; readonly opts: CommonOptions }
  | {
      readonly kind: 'decide';
      readonly decision: 'approve' | 'reject';
      readonly incidentId: string;
      readonly opts: CommonOptions & IdentityOptions & { readonly planHash?: string; readonly comment?: string };
    }
  | { readonly kind: 'cancel'; readonly incidentId: string; readonly opts: CommonOptions & IdentityOptions & { readonly reason: string } };

/**
 * Who the CLI says is acting. Today the name given with `--actor` (the API's token is shared and does not identify a
 * person; the service checks the name against the approver allow-list). Issue 10 replaces this with per-person
 * credentials: only this function and the service's `httpActor` change.
 */
function actorOf(opts: IdentityOptions): string | undefined {
  return opts.actor ?? opts.approver;
}

/** An answer of the approvals API, or why there was none. */
type Answer = { readonly ok: true; readonly status: number; readonly body: unknown } | { readonly ok: false; readonly status?: number; readonly error: string; readonly message: string };

class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch,
  ) {}

  async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    let response: Response;
    try {
      response = await this.fetchImpl(new URL(path, this.baseUrl), {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      return { ok: false, error: 'UNREACHABLE', message: `the approvals API at ${this.baseUrl} could not be reached: ${error instanceof Error ? error.message : String(error)}` };
    }
    const answer: unknown = await response.json().catch(() => ({}));
    if (response.ok) return { ok: true, status: response.status, body: answer };
    const { error, message } = (answer ?? {}) as { error?: unknown; message?: unknown };
    return { ok: false, status: response.status, error: typeof error === 'string' ? error : 'HTTP_ERROR', message: typeof message === 'string' ? message : response.statusText };
  }
}

function exitFor(status: number | undefined): ExitCode {
  if (status === undefined) return CLI_EXIT.failed;
  if (status === 403 || status === 404 || status === 409) return CLI_EXIT.refused;
  if (status === 400) return CLI_EXIT.usage;
  return CLI_EXIT.failed;
}

/** The pending request in words: what is being approved, on what, how risky, which plan, and the dry-run diff. */
export function describePending(pending: PendingRequest, incidentId: string): string[] {
  const { request } = pending;
  const approvals =
    request.approvalsRequired > 1
      ? ` — needs ${request.approvalsRequired} distinct approvers${pending.approvedBy.length > 0 ? `; approved so far by ${pending.approvedBy.join(', ')}` : ''}`
      : '';
  const policy = request.policy;
  return [
    `Approval request ${request.requestId} for incident ${incidentId} (state ${pending.state})`,
    `  summary   ${request.summary}`,
    ...request.plan.actions.map((action) => `  action    ${action.type} ${actionTarget(action)}${actionDetail(action)}`),
    ...(request.plan.actions.length === 0 ? ['  action    (none)'] : []),
    `  risk      ${request.plan.risk}${approvals}`,
    `  plan      ${shortHash(request.planHash)} (sha256 ${request.planHash})`,
    `  why       ${request.plan.rationale}`,
    `  policy    ${policy.allow ? 'allowed' : 'denied'}, mode ${policy.mode}${[...policy.reasons, ...policy.violations].map((r) => `; ${r}`).join('')}`,
    `  expires   ${request.expiresAt}`,
    '  dry-run diff:',
    ...(request.dryRunDiff.length > 0 ? request.dryRunDiff.split('\n').map((line) => `    ${line}`) : ['    (no difference)']),
  ];
}

/**
 * `cortexops-approve show|approve|reject|cancel <incidentId>`: the HTTP approval API from a terminal, for teams without
 * Slack. `approve` and `reject` first fetch the request waiting, print what is being decided (action, target, risk, plan
 * hash, dry-run diff), then send the decision bound to that request and plan. The token comes from `--token` or
 * CORTEXOPS_APPROVALS_API_TOKEN; the API URL defaults to the local approvals service.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let defaults: { port: number; token: string | undefined };
  try {
    defaults = loadConfig({ port: servicePortVar('approvals'), token: approvalsSpec.approvalsApiToken }, io.env ?? process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(`error: ${error.message}`);
    return CLI_EXIT.usage;
  }
  let job: Job | undefined;

  const program = new Command('cortexops-approve')
    .description('Show, approve, reject or cancel a CortexOps remediation through the HTTP approval API.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  const common = (command: Command) =>
    command
      .addOption(new Option('--api-url <url>', 'approvals service base URL').default(`http://${LOCAL_HOST}:${defaults.port}`).argParser(parseUrl))
      .option('--token <token>', 'API bearer token (default: CORTEXOPS_APPROVALS_API_TOKEN)')
      .addOption(new Option('--output <format>', 'text, or json for scripts').choices(['text', 'json']).default('text'));
  const identity = (command: Command) =>
    command.option('--actor <name>', 'who acts (must be on the approver allow-list)').addOption(new Option('--approver <name>', 'the same as --actor').hideHelp());

  common(program.command('show').description('print the approval request waiting for a decision').argument('<incidentId>')).action((incidentId: string, opts: CommonOptions) => {
    job = { kind: 'show', incidentId, opts };
  });
  for (const decision of ['approve', 'reject'] as const) {
    identity(common(program.command(decision).description(`${decision} the plan waiting for a decision`).argument('<incidentId>')))
      .addOption(new Option('--plan-hash <prefix>', 'the plan hash (8 or more hex digits) you reviewed; refused when another plan waits').argParser(parsePlanHash))
      .option('--comment <text>', 'a note kept with the decision')
      .action((incidentId: string, opts: Extract<Job, { kind: 'decide' }>['opts']) => {
        job = { kind: 'decide', decision, incidentId, opts };
      });
  }
  identity(common(program.command('cancel').description('cancel the remediation (after an apply, its change is reverted)').argument('<incidentId>')))
    .requiredOption('--reason <text>', 'why (kept in the audit trail)')
    .action((incidentId: string, opts: Extract<Job, { kind: 'cancel' }>['opts']) => {
      job = { kind: 'cancel', incidentId, opts };
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? CLI_EXIT.accepted : CLI_EXIT.usage;
    throw error;
  }
  if (!job) return CLI_EXIT.usage;
  const current: Job = job;

  const token = current.opts.token ?? defaults.token;
  if (!token) {
    io.err('error: no API token: pass --token or set CORTEXOPS_APPROVALS_API_TOKEN');
    return CLI_EXIT.usage;
  }
  const actor = current.kind === 'show' ? undefined : actorOf(current.opts);
  if (current.kind !== 'show' && !actor) {
    io.err(`error: required option '--actor <name>' not specified`);
    return CLI_EXIT.usage;
  }
  const json = current.opts.output === 'json';
  const api = new ApiClient(current.opts.apiUrl, token, io.fetch ?? fetch);
  const refused = (answer: Extract<Answer, { ok: false }>, extra: Record<string, unknown> = {}, code: ExitCode = exitFor(answer.status)): ExitCode => {
    if (json) io.out(JSON.stringify({ error: answer.error, message: answer.message, ...(answer.status ? { status: answer.status } : {}), ...extra }));
    else io.err(`refused (${answer.status === undefined ? answer.error : `${answer.status} ${answer.error}`}): ${answer.message}`);
    return code;
  };
  const id = encodeURIComponent(current.incidentId);

  if (current.kind === 'cancel') {
    const answer = await api.call('POST', `${HTTP_PATHS.remediations}/${id}/cancel`, { reason: current.opts.reason, actor, channel: 'cli' });
    if (!answer.ok) return refused(answer);
    const outcome = answer.body as CancelOutcome;
    if (json) io.out(JSON.stringify(outcome));
    else {
      const effect = outcome.effect === 'compensate' ? 'the change already applied will be reverted' : 'nothing was applied';
      io.out(`cancelled the remediation of incident ${current.incidentId} as ${actor} (it was in state ${outcome.state}; ${effect})`);
    }
    return CLI_EXIT.accepted;
  }

  const shown = await api.call('GET', `${HTTP_PATHS.approvalRequests}/${id}`);
  if (!shown.ok) return refused(shown);
  const pending = shown.body as PendingRequest;
  if (current.kind === 'show') {
    if (json) io.out(JSON.stringify(pending));
    else describePending(pending, current.incidentId).forEach((line) => io.out(line));
    return CLI_EXIT.accepted;
  }
  if (!json) describePending(pending, current.incidentId).forEach((line) => io.out(line));
  const request: ApprovalRequest = pending.request;
  const pinned = current.opts.planHash;
  if (pinned !== undefined && !request.planHash.startsWith(pinned)) {
    return refused(
      {
        ok: false,
        error: 'PLAN_MISMATCH',
        message: `the plan waiting is ${shortHash(request.planHash)} (request ${request.requestId}), not the one you reviewed (${pinned}); nothing was sent. Review it with: cortexops-approve show ${current.incidentId}`,
      },
      { request },
      CLI_EXIT.refused,
    );
  }
  const body = {
    requestId: request.requestId,
    planHash: request.planHash,
    decision: current.decision,
    approver: actor,
    channel: 'cli',
    ...(current.opts.comment ? { comment: current.opts.comment } : {}),
  };
  const decided = await api.call('POST', `${HTTP_PATHS.approvals}/${id}`, body);
  if (!decided.ok) return refused(decided, json ? { request } : {});
  const outcome = decided.body as ApprovalDecisionOutcome;
  if (json) io.out(JSON.stringify({ request, outcome }));
  else {
    const verb = current.decision === 'approve' ? 'approved' : 'rejected';
    const more = (outcome.approvalsOutstanding ?? 0) > 0 ? `; ${outcome.approvalsOutstanding} more approval needed from someone else` : `; remediation state ${outcome.state}`;
    io.out(`${verb} incident ${current.incidentId} (request ${request.requestId}, plan ${shortHash(request.planHash)}) as ${actor}${more}`);
  }
  return CLI_EXIT.accepted;
}

function parseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError('must be an http(s) URL');
}

function parsePlanHash(value: string): string {
  if (/^[0-9a-fA-F]{8,64}$/.test(value)) return value.toLowerCase();
  throw new InvalidArgumentError('must be 8 to 64 hex digits of the plan hash');
}
