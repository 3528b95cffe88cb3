import { createUser, fromPublic, fromSeed } from 'nkeys.js';

/**
 * NATS nkeys (ed25519): a user's seed (SU…) stays with the client, only its public key (U…) goes into the server's
 * configuration. The official `nkeys.js` (the one `nats` itself signs with).
 */

/** A new user seed, as text (SU…). */
export function createUserSeed(): string {
  return new TextDecoder().decode(createUser().getSeed());
}

/** The public key (U…) of a user seed; throws when `seed` is not one. */
export function userPublicKey(seed: string): string {
  const key = fromSeed(new TextEncoder().encode(seed.trim())).getPublicKey();
  if (!key.startsWith('U')) throw new Error('not a user nkey seed (SU…)');
  return key;
}

/** Whether `key` is a user public key (U…). */
export function isUserPublicKey(key: string): boolean {
  try {
    return fromPublic(key).getPublicKey().startsWith('U');
  } catch {
    return false;
  }
}
