import { approvalsSpec, LOCAL_HOST, loadConfig, servicePortVar, type Env } from '@cortexops/config';
import { HTTP_PATHS } from '@cortexops/contracts';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  readonly env?: Env;
  readonly fetch?: typeof fetch;
}

/** Exit codes: accepted, refused by the workflow or the allow-list, unusable input or unreachable API. */
export const CLI_EXIT = { accepted: 0, refused: 1, usage: 2, failed: 3 } as const;

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * `cortexops-approve <incidentId> approve|reject --approver <name>`: delivers a decision through the
 * HTTP approval API, for teams without Slack. The token comes from `--token` or
 * CORTEXOPS_APPROVALS_API_TOKEN; the API URL defaults to the local approvals service.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const defaults = loadConfig({ port: servicePortVar('approvals'), token: approvalsSpec.approvalsApiToken }, io.env ?? process.env);
  let parsed: { incidentId: string; decision: 'approve' | 'reject'; opts: { approver: string; apiUrl: string; token?: string; comment?: string } } | undefined;

  const program = new Command('cortexops-approve')
    .description('Approve or reject a pending CortexOps remediation through the HTTP approval API.')
    .argument('<incidentId>', 'incident whose remediation waits for a decision')
    .addArgument(new Command().createArgument('<decision>', 'approve or reject').choices(['approve', 'reject']))
    .requiredOption('--approver <name>', 'who decides (must be on the approver allow-list)')
    .addOption(new Option('--api-url <url>', 'approvals service base URL').default(`http://${LOCAL_HOST}:${defaults.port}`).argParser(parseUrl))
    .option('--token <token>', 'API bearer token (default: CORTEXOPS_APPROVALS_API_TOKEN)')
    .option('--comment <text>', 'a note kept with the decision')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .action((incidentId: string, decision: 'approve' | 'reject', opts: { approver: string; apiUrl: string; token?: string; comment?: string }) => {
      parsed = { incidentId, decision, opts };
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? CLI_EXIT.accepted : CLI_EXIT.usage;
    throw error;
  }
  if (!parsed) return CLI_EXIT.usage;

  const token = parsed.opts.token ?? defaults.token;
  if (!token) {
    io.err('error: no API token: pass --token or set CORTEXOPS_APPROVALS_API_TOKEN');
    return CLI_EXIT.usage;
  }
  const url = new URL(`${HTTP_PATHS.approvals}/${encodeURIComponent(parsed.incidentId)}`, parsed.opts.apiUrl);
  const body = { decision: parsed.decision, approver: parsed.opts.approver, channel: 'cli', ...(parsed.opts.comment ? { comment: parsed.opts.comment } : {}) };

  let response: Response;
  try {
    response = await (io.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    io.err(`error: the approvals API at ${parsed.opts.apiUrl} could not be reached: ${error instanceof Error ? error.message : String(error)}`);
    return CLI_EXIT.failed;
  }
  const answer = (await response.json().catch(() => ({}))) as { message?: string; error?: string; state?: string; decision?: string };
  if (response.ok) {
    io.out(`${parsed.decision === 'approve' ? 'approved' : 'rejected'} incident ${parsed.incidentId} as ${parsed.opts.approver}; remediation state ${answer.state ?? 'unknown'}`);
    return CLI_EXIT.accepted;
  }
  io.err(`refused (${response.status}${answer.error ? ` ${answer.error}` : ''}): ${answer.message ?? response.statusText}`);
  return response.status === 409 || response.status === 403 || response.status === 404 ? CLI_EXIT.refused : CLI_EXIT.failed;
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
