import { describe, expect, it } from 'vitest';
import { REDACTED, isSecretField, redactCredentials } from './secrets.js';

describe('secrets — credentials in text', () => {
  const cases: [string, string][] = [
    ['postgres://app:s3cret@db:5432/cortexops', 'postgres://[redacted]@db:5432/cortexops'],
    ['postgress://app:s3cret@db/cortexops', 'postgress://[redacted]@db/cortexops'],
    ['postgres//app:s3cret@db/cortexops', 'postgres//[redacted]@db/cortexops'],
    ['postgres:/app:s3cret@db/cortexops', 'postgres:/[redacted]@db/cortexops'],
    ['app:s3cret@db/cortexops', '[redacted]@db/cortexops'],
    ['postgres://app:s3c@r/et@db/x', 'postgres://[redacted]@db/x'],
    ['postgres://app@db/x?sslmode=verify-full&password=s3cret', 'postgres://[redacted]@db/x?sslmode=verify-full&password=[redacted]'],
    ['host=db password=s3cret user=app', 'host=db password=[redacted] user=app'],
    ['https://ghp_s3cret@github.com/org/repo', 'https://[redacted]@github.com/org/repo'],
    ['connect "nats://u:s3cret@a:4222" then "tls://t0ken@b"', 'connect "nats://[redacted]@a:4222" then "tls://[redacted]@b"'],
  ];
  for (const [text, shown] of cases) {
    it(`redact — ${text}`, () => {
      expect(redactCredentials(text)).toBe(shown);
      expect(redactCredentials(text)).not.toMatch(/s3c|t0ken|ghp_/);
    });
  }

  it('redact — leaves text without credentials alone (an e-mail address, a time, a plain URL)', () => {
    for (const text of ['approved by alice@example.com at 12:30', 'http://127.0.0.1:8080/debug/healthz', 'tokens=12 seen']) {
      expect(redactCredentials(text)).toBe(text);
    }
    expect(REDACTED).toBe('[redacted]');
  });

  it('field names — secrets by name, not words that only contain one', () => {
    for (const name of ['password', 'dbPassword', 'slack_bot_token', 'signingSecret', 'apiKey', 'Authorization', 'set-cookie', 'x-slack-signature', 'checkpointKey']) {
      expect(isSecretField(name), name).toBe(true);
    }
    for (const name of ['tokens', 'tokenCount', 'idempotencyKey', 'url', 'passage', 'secretary']) expect(isSecretField(name), name).toBe(false);
  });
});
