import { z } from 'zod';
import { type EnvVar, optionalSecretVar } from './env.js';

const items = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

/** A comma-separated list, each item read by `item` (an empty variable is an empty list). */
function listOf<T>(name: string, description: string, item: z.ZodType<T, string>): EnvVar<readonly T[]> {
  return { name, description, fallback: '', schema: z.string().transform(items).pipe(z.array(item)) };
}

/** Slack user ids (`U…`/`W…`), comma-separated: Slack identities only, never HTTP names (those hold personal tokens). */
export function slackUserListVar(name: string, description: string): EnvVar<readonly string[]> {
  return listOf(name, description, z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'each entry must be a Slack user id (U… or W…); HTTP and CLI approvers get personal tokens instead'));
}

/** A variable that no longer exists: set, it is a start-up error saying what replaced it. */
export function replacedVar(name: string, replacement: string): EnvVar<undefined> {
  return { name, description: `replaced: ${replacement}`, schema: z.undefined({ error: `no longer read; ${replacement}` }) };
}

/** The DER prefix of an Ed25519 SubjectPublicKeyInfo (`openssl pkey -pubout` without the PEM lines). */
const ED25519_SPKI_PREFIX = '302a300506032b6570032100';

/** One Ed25519 public key as base64 SPKI (what `openssl pkey -pubout` prints between its PEM lines) or 64 hex digits; read as hex. */
function publicKeyHex(value: string): string | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return value.toLowerCase();
  if (!/^[A-Za-z0-9+/]{59}=?$/.test(value)) return undefined;
  const der = Buffer.from(value, 'base64').toString('hex');
  return der.length === 88 && der.startsWith(ED25519_SPKI_PREFIX) ? der.slice(ED25519_SPKI_PREFIX.length) : undefined;
}

/** Ed25519 public keys, comma-separated (more than one while a key is rotated), each base64 SPKI or hex; read as hex. */
export function ed25519PublicKeysVar(name: string, description: string): EnvVar<readonly string[]> {
  return listOf(
    name,
    description,
    z.string().transform((value, context) => {
      const hex = publicKeyHex(value);
      if (hex === undefined) {
        context.addIssue({ code: 'custom', message: 'each entry must be an Ed25519 public key: base64 SPKI (openssl pkey -pubout, the line between the PEM markers) or 64 hex digits' });
        return z.NEVER;
      }
      return hex;
    }),
  );
}

/** What the approver CLI reads: the person's own token (HTTP and CLI decisions are by its owner). */
export const approverCliSpec = {
  approverToken: optionalSecretVar('CORTEXOPS_APPROVER_TOKEN', 20, 'your personal approver token (cortexops-approve tokens create issues one)'),
} as const;
