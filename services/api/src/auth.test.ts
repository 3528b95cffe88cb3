import { describe, expect, it } from 'vitest';
import { requireReadToken } from './auth.js';
import { ApiError } from './errors.js';

const TOKEN = 'read-token-0123456789abcdef0123456789abcdef';

function codeOf(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof ApiError ? error.code : 'not an ApiError';
  }
}

describe('api auth — the read routes bearer token', () => {
  it('accepts exactly the configured token (scheme case-insensitive)', () => {
    expect(codeOf(() => requireReadToken(`Bearer ${TOKEN}`, TOKEN))).toBeUndefined();
    expect(codeOf(() => requireReadToken(`bearer ${TOKEN}`, TOKEN))).toBeUndefined();
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['a bare scheme', 'Bearer'],
    ['a bare scheme and space', 'Bearer '],
    ['another scheme', `Basic ${TOKEN}`],
    ['a wrong token', 'Bearer not-the-token'],
    ['the token with a suffix', `Bearer ${TOKEN}x`],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, 10)}`],
    ['two tokens', `Bearer ${TOKEN} ${TOKEN}`],
    ['an oversized token', `Bearer ${'a'.repeat(10_000)}`],
  ])('refuses %s as UNAUTHENTICATED', (_what, header) => {
    expect(codeOf(() => requireReadToken(header, TOKEN))).toBe('UNAUTHENTICATED');
  });

  it('answers NOT_CONFIGURED when no token is configured, whatever is presented', () => {
    expect(codeOf(() => requireReadToken(`Bearer ${TOKEN}`, undefined))).toBe('NOT_CONFIGURED');
    expect(codeOf(() => requireReadToken(undefined, undefined))).toBe('NOT_CONFIGURED');
  });

  it('never echoes the presented token in its message', () => {
    try {
      requireReadToken('Bearer secret-value-123', TOKEN);
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-value-123');
    }
    expect.assertions(1);
  });
});
