import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AuditCheckpoint as AuditCheckpointContract, type AuditCheckpoint } from '@cortexops/contracts';
import { AuditCheckpointError } from './errors.js';
import { canonicalJson } from './hash.js';

/** Shortest checkpoint key accepted (characters); the configuration asks for the same. */
export const MIN_CHECKPOINT_KEY_LENGTH = 32;

/** The chain head a checkpoint records. */
export interface ChainHead {
  readonly sequence: number;
  readonly hash: string;
}

/**
 * The keys of the checkpoint signature: new checkpoints are signed with `current`; a checkpoint signed with
 * `previous` still verifies (key rotation: configure the new key as current and the old one as previous until the
 * next checkpoint was written with the new one).
 */
export interface CheckpointKeys {
  readonly current: string;
  readonly previous?: string;
}

/** First 16 hex digits of the key's SHA-256: names a key without revealing it. */
export function checkpointKeyId(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);
}

function mac(key: string, fields: Omit<AuditCheckpoint, 'mac'>): string {
  return createHmac('sha256', key).update(canonicalJson(fields), 'utf8').digest('hex');
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length < MIN_CHECKPOINT_KEY_LENGTH) {
    throw new AuditCheckpointError(`the signing key must be at least ${MIN_CHECKPOINT_KEY_LENGTH} characters`);
  }
}

/** A checkpoint of `head`, signed with the current key. */
export function signCheckpoint(head: ChainHead, keys: CheckpointKeys, at: Date = new Date()): AuditCheckpoint {
  checkKey(keys.current);
  const fields = { v: 1 as const, sequence: head.sequence, hash: head.hash, at: at.toISOString(), keyId: checkpointKeyId(keys.current) };
  return { ...fields, mac: mac(keys.current, fields) };
}

/**
 * Validates a checkpoint read from outside and checks its signature with the key it names (current or previous).
 * Anything else — malformed, an unknown key, a wrong signature — is an {@link AuditCheckpointError}.
 */
export function openCheckpoint(value: unknown, keys: CheckpointKeys): AuditCheckpoint {
  const parsed = AuditCheckpointContract.validate(value);
  if (!parsed.ok) throw new AuditCheckpointError(`malformed: ${parsed.error.issues.map((i) => `${i.field}: ${i.problem}`).join('; ')}`);
  const checkpoint = parsed.value;
  const key = [keys.current, keys.previous].find((k) => k !== undefined && checkpointKeyId(k) === checkpoint.keyId);
  if (key === undefined) throw new AuditCheckpointError(`signed with key ${checkpoint.keyId}, which is neither the current nor the previous key`);
  const { mac: given, ...fields } = checkpoint;
  const expected = Buffer.from(mac(key, fields), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) throw new AuditCheckpointError('the signature does not match: the checkpoint was changed');
  return checkpoint;
}

/** Where checkpoints are kept, outside PostgreSQL. `read` gives the raw stored value (checked by {@link openCheckpoint}). */
export interface CheckpointStore {
  /** For messages: `file /path` or `nats kv bucket/key`. */
  readonly location: string;
  read(): Promise<unknown>;
  write(checkpoint: AuditCheckpoint): Promise<void>;
}
