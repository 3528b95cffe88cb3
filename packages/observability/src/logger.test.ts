import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactSecrets, textLogger } from './logger.js';

const PASSWORD = 'pa55-w0rd-s3cret';

/** A logger writing into memory; `lines()` waits for pino to flush and parses every line. */
function capture(level = 'debug') {
  let text = '';
  const destination = new PassThrough();
  destination.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const logger = createLogger({ service: 'test', level, destination });
  return {
    logger,
    raw: () => text,
    lines: async () => {
      logger.flush();
      await new Promise((resolve) => setImmediate(resolve));
      return text
        .trim()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
}

class PgLikeError extends Error {
  readonly code = '28P01';
  constructor(
    message: string,
    readonly config: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'PgLikeError';
  }
}

describe('logger — redaction at any depth', () => {
  it('fields named like secrets are replaced however deep; URL credentials are hidden in every string', async () => {
    const { logger, lines, raw } = capture();
    logger.info(
      {
        token: 'xoxb-top',
        request: { headers: { authorization: 'Bearer abc-top', 'x-slack-signature': 'v0=sig' }, body: { deep: { deeper: { client: { apiKey: 'sk-deep', password: PASSWORD } } } } },
        list: [{ slackBotToken: 'xoxb-in-a-list' }, `postgres://app:${PASSWORD}@db:5432/x`],
        config: { databaseUrl: `postgresql://cortexops_app:${PASSWORD}@db/cortexops?sslmode=verify-full`, note: `dsn host=db password=${PASSWORD}` },
        tokens: 12,
      },
      `connecting to nats://ingestion:${PASSWORD}@nats:4222 as %s`,
      `tls://t0k3n-${PASSWORD}@nats`,
    );
    const [line] = await lines();
    expect(raw()).not.toContain(PASSWORD);
    expect(raw()).not.toMatch(/xoxb-|abc-top|v0=sig|sk-deep|t0k3n/);
    expect(line).toMatchObject({
      service: 'test',
      token: '[redacted]',
      tokens: 12,
      request: { headers: { authorization: '[redacted]', 'x-slack-signature': '[redacted]' }, body: { deep: { deeper: { client: { apiKey: '[redacted]', password: '[redacted]' } } } } },
      list: [{ slackBotToken: '[redacted]' }, 'postgres://[redacted]@db:5432/x'],
      config: { databaseUrl: 'postgresql://[redacted]@db/cortexops?sslmode=verify-full', note: 'dsn host=db password=[redacted]' },
      msg: 'connecting to nats://[redacted]@nats:4222 as tls://[redacted]@nats',
    });
  });

  it('errors — message, stack, cause and own fields are redacted, as a bare argument and nested', async () => {
    const { logger, lines, raw } = capture();
    const cause = new Error(`connect failed for postgres://app:${PASSWORD}@db/x`);
    const error = new PgLikeError(`password authentication failed (postgres://app:${PASSWORD}@db/x)`, { connectionString: `postgres://app:${PASSWORD}@db/x`, password: PASSWORD });
    (error as { cause?: unknown }).cause = cause;
    logger.error(error);
    logger.warn({ err: error, attempt: { last: { err: cause } } }, 'retrying');
    const [bare, nested] = await lines();
    expect(raw()).not.toContain(PASSWORD);
    expect(bare).toMatchObject({ level: 'error', err: { type: 'PgLikeError', code: '28P01', config: { password: '[redacted]', connectionString: 'postgres://[redacted]@db/x' } } });
    expect(bare?.msg).toBe('password authentication failed (postgres://[redacted]@db/x)');
    expect(String((bare?.err as { stack?: string }).stack)).toContain('PgLikeError');
    expect(nested).toMatchObject({ msg: 'retrying', err: { type: 'PgLikeError' }, attempt: { last: { err: { type: 'Error', message: 'connect failed for postgres://[redacted]@db/x' } } } });
  });

  it('child bindings are redacted too', async () => {
    const { logger, lines, raw } = capture();
    logger.child({ databaseUrl: `postgres://app:${PASSWORD}@db/x`, credentials: { user: 'u' } }).info('child');
    const [line] = await lines();
    expect(raw()).not.toContain(PASSWORD);
    expect(line).toMatchObject({ databaseUrl: 'postgres://[redacted]@db/x', credentials: '[redacted]', msg: 'child' });
  });

  it('bad values — cycles, very deep nesting, dates, buffers, class instances and empty secrets', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    expect(redactSecrets(cyclic)).toEqual({ name: 'a', self: '[Circular]' });
    let deep: Record<string, unknown> = { password: PASSWORD };
    for (let i = 0; i < 40; i++) deep = { deep };
    expect(JSON.stringify(redactSecrets(deep))).not.toContain(PASSWORD);
    const shared = { x: 1 };
    expect(redactSecrets({ a: shared, b: shared })).toEqual({ a: { x: 1 }, b: { x: 1 } });
    expect(redactSecrets({ at: new Date('2026-01-01T00:00:00Z'), url: new URL(`https://u:${PASSWORD}@h/p`) })).toEqual({ at: '2026-01-01T00:00:00.000Z', url: 'https://[redacted]@h/p' });
    class Client {
      readonly connectionParameters = { host: 'db', password: PASSWORD };
    }
    expect(redactSecrets({ client: new Client() })).toEqual({ client: { connectionParameters: { host: 'db', password: '[redacted]' } } });
    expect(redactSecrets({ token: '', password: null, secret: undefined })).toEqual({ token: '', password: null, secret: undefined });
    expect(redactSecrets(42)).toBe(42);
  });
});

describe('logger — libraries through textLogger (Slack Bolt, the Web API client)', () => {
  const LogLevel = { DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

  it('strings are the message, an error is err, objects stay structured and redacted; levels and names are kept', async () => {
    const { logger, lines, raw } = capture('info');
    const bolt = textLogger(logger, LogLevel);
    bolt.setName('bolt-app');
    bolt.setLevel(LogLevel.DEBUG);
    expect(bolt.getLevel()).toBe('debug');
    bolt.debug('not written: the service logs at info');
    bolt.info('http request', { headers: { authorization: `Bearer ${PASSWORD}`, cookie: 'c' }, body: { token: PASSWORD } });
    bolt.error('An API error occurred', new Error(`invalid_auth for https://x:${PASSWORD}@slack.test/api`));
    bolt.warn();
    const written = await lines();
    expect(raw()).not.toContain(PASSWORD);
    expect(written).toHaveLength(3);
    expect(written[0]).toMatchObject({ level: 'info', logger: 'bolt-app', msg: 'http request', details: [{ headers: { authorization: '[redacted]', cookie: '[redacted]' }, body: { token: '[redacted]' } }] });
    expect(written[1]).toMatchObject({ level: 'error', msg: 'An API error occurred', err: { type: 'Error', message: 'invalid_auth for https://[redacted]@slack.test/api' } });
    expect(written[2]).toMatchObject({ level: 'warn', msg: '' });
  });
});
