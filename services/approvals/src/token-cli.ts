import { AuditStore } from '@cortexops/audit';
import { auditSpec, ConfigError, loadConfig, postgresSpec } from '@cortexops/config';
import { type Command, InvalidArgumentError } from 'commander';
import { CLI_EXIT, type CliIo } from './cli-io.js';
import { type ApproverToken, approverName, ApproverTokens, ApproverTokensReadOnlyError } from './tokens.js';

/** One `tokens` subcommand, run once the command line is parsed. */
export type TokenJob = (io: CliIo) => Promise<number>;

const DAY_MS = 24 * 3600 * 1000;
/** A token lives at most a year: people leave, laptops are lost; a new one is one command away. */
const MAX_DAYS = 365;

function parseName(value: string): string {
  const parsed = approverName.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'invalid name');
  return parsed.data;
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) throw new InvalidArgumentError(`must be a whole number of days from 1 to ${MAX_DAYS}`);
  return days;
}

function describe(token: ApproverToken, now: Date): string {
  const state = token.revokedAt ? `revoked ${token.revokedAt} by ${token.revokedBy ?? '?'}` : Date.parse(token.expiresAt) <= now.getTime() ? 'expired' : 'active';
  return `${token.id}  ${token.name}  ${state}  expires ${token.expiresAt}  issued ${token.createdAt} by ${token.createdBy}`;
}

/**
 * Opens the token store, runs `work`, closes. As the owner role (CORTEXOPS_DATABASE_MIGRATION_URL) when it is set: the
 * services' application role (CORTEXOPS_DATABASE_URL) may only read the tokens, so only a single-role installation
 * manages them with CORTEXOPS_DATABASE_URL.
 */
async function withTokens(io: CliIo, work: (tokens: ApproverTokens) => Promise<number>): Promise<number> {
  let databaseUrl: string;
  try {
    const config = loadConfig({ ...postgresSpec, databaseMigrationUrl: auditSpec.databaseMigrationUrl }, io.env ?? process.env);
    databaseUrl = config.databaseMigrationUrl ?? config.databaseUrl;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(`error: ${error.message}`);
    return CLI_EXIT.usage;
  }
  let audit: AuditStore | undefined;
  let tokens: ApproverTokens | undefined;
  try {
    audit = await AuditStore.create({ databaseUrl });
    tokens = await ApproverTokens.create({ databaseUrl, audit });
    return await work(tokens);
  } catch (error) {
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof ApproverTokensReadOnlyError ? CLI_EXIT.refused : CLI_EXIT.failed;
  } finally {
    await tokens?.close();
    await audit?.close();
  }
}

/**
 * `cortexops-approve tokens create|list|revoke`: personal approver tokens, for administrators (they need the database's
 * owner role, CORTEXOPS_DATABASE_MIGRATION_URL; the application role only reads tokens). A token is printed once, when created; only its hash is stored. Every change is audited
 * (`approver.changed`, actor = `--by`).
 */
export function registerTokenCommands(program: Command, run: (job: TokenJob) => void): void {
  const tokens = program.command('tokens').description('manage personal approver tokens (administrators; as the owner role of CORTEXOPS_DATABASE_MIGRATION_URL, else CORTEXOPS_DATABASE_URL)');
  tokens
    .command('create')
    .description('issue a token to a person; it is printed once')
    .requiredOption('--name <name>', 'the person (e-mail address or login, lower case): decisions made with the token are theirs', parseName)
    .option('--expires-in <days>', `days until it expires (1-${MAX_DAYS})`, parseDays, 90)
    .requiredOption('--by <admin>', 'who issues it (kept in the audit trail)')
    .action((opts: { name: string; expiresIn: number; by: string }) =>
      run((io) =>
        withTokens(io, async (store) => {
          const { token, record } = await store.issue({ name: opts.name, expiresAt: new Date(Date.now() + opts.expiresIn * DAY_MS), by: opts.by });
          io.err(`issued token ${record.id} to ${record.name}, expires ${record.expiresAt}; it is shown only now:`);
          io.out(token);
          return CLI_EXIT.accepted;
        }),
      ),
    );
  tokens
    .command('list')
    .description('every token: id, person, state, expiry (never the secret)')
    .action(() =>
      run((io) =>
        withTokens(io, async (store) => {
          const now = new Date();
          for (const token of await store.list()) io.out(describe(token, now));
          return CLI_EXIT.accepted;
        }),
      ),
    );
  tokens
    .command('revoke')
    .description('revoke one token (by id) or every active token of a person (by name)')
    .argument('<idOrName>')
    .requiredOption('--by <admin>', 'who revokes it (kept in the audit trail)')
    .action((idOrName: string, opts: { by: string }) =>
      run((io) =>
        withTokens(io, async (store) => {
          const revoked = await store.revoke(idOrName, opts.by);
          if (revoked.length === 0) {
            io.err(`no active token matches ${idOrName}`);
            return CLI_EXIT.refused;
          }
          for (const token of revoked) io.out(`revoked ${token.id} (${token.name})`);
          return CLI_EXIT.accepted;
        }),
      ),
    );
}
