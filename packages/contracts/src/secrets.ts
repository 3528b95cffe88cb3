/**
 * What counts as a secret wherever CortexOps prints something (configuration errors, logs): the credentials inside
 * URLs and connection strings, and the values of fields whose names say they hold one. Pure functions, workflow-safe.
 */

/** What a hidden value is replaced with. */
export const REDACTED = '[redacted]';

// The user-info part of a URL (`scheme://user:password@host`, also `//token@host`), and anything shaped like
// `user:password@` elsewhere — a URL whose scheme is mistyped (`postgres:/u:pw@h`) or missing. Up to the last `@`
// of the word, so that a password with an unescaped `@` or `/` is hidden whole.
const AUTHORITY_USERINFO = /\/\/\S*@/g;
const BARE_USERINFO = /[^\s/@"'<>=]+:(?!\/)\S*@/g;
// `password=...` in a query string or a key/value connection string (libpq's `password=secret host=...`).
const SECRET_PARAMETER = /\b((?:ssl)?password|passwd|pwd|pass|secret|token|access_token|api[-_]?key)=([^&\s;]+)/gi;

/**
 * The text with every credential of a URL or connection string in it replaced (`postgres://[redacted]@host/db`,
 * `?password=[redacted]`). Hosts, paths and other parameters stay readable.
 */
export function redactCredentials(text: string): string {
  // Neither a user-info part nor a parameter without these: most strings return at once.
  if (!text.includes('@') && !text.includes('=')) return text;
  return text
    .replace(AUTHORITY_USERINFO, `//${REDACTED}@`)
    .replace(BARE_USERINFO, `${REDACTED}@`)
    .replace(SECRET_PARAMETER, (_match, name: string) => `${name}=${REDACTED}`);
}

const SECRET_NAME = /(?:password|passwd|secret|token|apikey|privatekey|authorization|cookie|signature|credentials|checkpointkey|signingkey|hmackey)$/;
const SEPARATORS = /[-_]/g;

/**
 * Whether a field of that name holds a secret: `password`, `dbPassword`, `slack_bot_token`, `signingSecret`,
 * `apiKey`, `Authorization`, `set-cookie`, `x-slack-signature`, ... (case, `-` and `_` ignored; a name that only
 * contains such a word, like `tokens` or `tokenCount`, is not one).
 */
export function isSecretField(name: string): boolean {
  return SECRET_NAME.test(name.toLowerCase().replace(SEPARATORS, ''));
}
