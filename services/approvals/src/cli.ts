import { approverCliSpec, ConfigError, LOCAL_HOST, loadConfig, servicePortVar } from '@cortexops/config';
import { type ApprovalDecisionOutcome, type ApprovalRequest, type CancelOutcome, HTTP_PATHS } from '@cortexops/contracts';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CLI_EXIT, type CliIo, type ExitCode } from './cli-io.js';
import { actionDetail, actionTarget, shortHash } from './plan-text.js';
import { registerTokenCommands, type TokenJob } from './token-cli.js';
import type { PendingRequest } from './workflow-client.js';

export { CLI_EXIT, type CliIo } from './cli-io.js';

const REQUEST_TIMEOUT_MS = 30_000;

interface CommonOptions {
  readonly apiUrl: string;
  readonly token?: string;
  readonly output: 'text' | 'json';
}

type Job =
  | { readonly kind: 'show'; readonly incidentId: string; readonly opts: CommonOptions }
  | {
      readonly kind: 'decide';
      readonly decision: 'approve' | 'reject';
      readonly incidentId: string;
      readonly opts: CommonOptions & { readonly planHash?: string; readonly comment?: string };
    }
  | { readonly kind: 'cancel'; readonly incidentId: string; readonly opts: CommonOptions & { readonly reason: string } }
  | { readonly kind: 'request'; readonly incidentId: string; readonly opts: CommonOptions & { readonly reason: string } };

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
 * hash, dry-run diff), then send the decision bound to that request and plan. Who decides is the owner of the
 * personal token (`--token` or CORTEXOPS_APPROVER_TOKEN); the API URL defaults to the local approvals service.
 * `cortexops-approve tokens create|list|revoke` manages those tokens (an administrator, with the database).
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let defaults: { port: number; token: string | undefined };
  try {
    defaults = loadConfig({ port: servicePortVar('approvals'), token: approverCliSpec.approverToken }, io.env ?? process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(`error: ${error.message}`);
    return CLI_EXIT.usage;
  }
  let job: Job | undefined;
  let tokenJob: TokenJob | undefined;

  const program = new Command('cortexops-approve')
    .description('Show, approve, reject, cancel or request a CortexOps remediation through the HTTP approval API.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  const common = (command: Command) =>
    command
      .addOption(new Option('--api-url <url>', 'approvals service base URL').default(`http://${LOCAL_HOST}:${defaults.port}`).argParser(parseUrl))
      .option('--token <token>', 'your personal approver token (default: CORTEXOPS_APPROVER_TOKEN)')
      .addOption(new Option('--output <format>', 'text, or json for scripts').choices(['text', 'json']).default('text'));

  common(program.command('show').description('print the approval request waiting for a decision').argument('<incidentId>')).action((incidentId: string, opts: CommonOptions) => {
    job = { kind: 'show', incidentId, opts };
  });
  for (const decision of ['approve', 'reject'] as const) {
    common(program.command(decision).description(`${decision} the plan waiting for a decision (as the owner of your token)`).argument('<incidentId>'))
      .addOption(new Option('--plan-hash <prefix>', 'the plan hash (8 or more hex digits) you reviewed; refused when another plan waits').argParser(parsePlanHash))
      .option('--comment <text>', 'a note kept with the decision')
      .action((incidentId: string, opts: Extract<Job, { kind: 'decide' }>['opts']) => {
        job = { kind: 'decide', decision, incidentId, opts };
      });
  }
  common(program.command('cancel').description('cancel the remediation (after an apply, its change is reverted)').argument('<incidentId>'))
    .requiredOption('--reason <text>', 'why (kept in the audit trail)')
    .action((incidentId: string, opts: Extract<Job, { kind: 'cancel' }>['opts']) => {
      job = { kind: 'cancel', incidentId, opts };
    });
  common(program.command('request').description('ask for a new run of an ended remediation (as the owner of your token: someone else must approve it)').argument('<incidentId>'))
    .requiredOption('--reason <text>', 'why (kept in the audit trail)')
    .action((incidentId: string, opts: Extract<Job, { kind: 'request' }>['opts']) => {
      job = { kind: 'request', incidentId, opts };
    });

  registerTokenCommands(program, (next) => {
    tokenJob = next;
  });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? CLI_EXIT.accepted : CLI_EXIT.usage;
    throw error;
  }
  if (tokenJob) return tokenJob(io);
  if (!job) return CLI_EXIT.usage;
  const current: Job = job;

  const token = current.opts.token ?? defaults.token;
  if (!token) {
    io.err('error: no approver token: pass --token or set CORTEXOPS_APPROVER_TOKEN (an administrator issues one: cortexops-approve tokens create)');
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
    const answer = await api.call('POST', `${HTTP_PATHS.remediations}/${id}/cancel`, { reason: current.opts.reason, channel: 'cli' });
    if (!answer.ok) return refused(answer);
    const outcome = answer.body as CancelOutcome & { actor?: string };
    if (json) io.out(JSON.stringify(outcome));
    else {
      const effect = outcome.effect === 'compensate' ? 'the change already applied will be reverted' : 'nothing was applied';
      io.out(`cancelled the remediation of incident ${current.incidentId} as ${outcome.actor ?? 'you'} (it was in state ${outcome.state}; ${effect})`);
    }
    return CLI_EXIT.accepted;
  }

  if (current.kind === 'request') {
    const answer = await api.call('POST', `${HTTP_PATHS.remediations}/${id}/request`, { reason: current.opts.reason, channel: 'cli' });
    if (!answer.ok) return refused(answer);
    const started = answer.body as { workflowId: string; runId: string; requestedBy: string };
    if (json) io.out(JSON.stringify(started));
    else io.out(`requested a new remediation of incident ${current.incidentId} as ${started.requestedBy} (run ${started.runId}); someone else must approve it`);
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
    channel: 'cli',
    ...(current.opts.comment ? { comment: current.opts.comment } : {}),
  };
  const decided = await api.call('POST', `${HTTP_PATHS.approvals}/${id}`, body);
  if (!decided.ok) return refused(decided, json ? { request } : {});
  const outcome = decided.body as ApprovalDecisionOutcome & { approver?: string };
  if (json) io.out(JSON.stringify({ request, outcome }));
  else {
    const verb = current.decision === 'approve' ? 'approved' : 'rejected';
    const more = (outcome.approvalsOutstanding ?? 0) > 0 ? `; ${outcome.approvalsOutstanding} more approval needed from someone else` : `; remediation state ${outcome.state}`;
    io.out(`${verb} incident ${current.incidentId} (request ${request.requestId}, plan ${shortHash(request.planHash)}) as ${outcome.approver ?? 'you'}${more}`);
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
