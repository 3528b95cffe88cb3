import { approvalSignature, approvalVerifyKey } from '@cortexops/contracts';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hexToBytes } from '@noble/curves/utils.js';

function verifies(signature: Uint8Array, message: Uint8Array, key: string): boolean {
  try {
    return ed25519.verify(signature, message, hexToBytes(key));
  } catch {
    // A key or signature that is not a curve point is simply not a valid signature.
    return false;
  }
}

/**
 * Whether `signature` (hex) over the UTF-8 of `payload` verifies with one of `keys` (hex raw Ed25519 public keys; more
 * than one while a key is rotated). Pure JavaScript, no clock, no randomness: safe in the workflow sandbox.
 */
export function signedByOneOf(payload: string, signature: string | undefined, keys: readonly string[]): boolean {
  if (signature === undefined || !approvalSignature.safeParse(signature).success) return false;
  const bytes = hexToBytes(signature);
  const message = new TextEncoder().encode(payload);
  return keys.some((key) => approvalVerifyKey.safeParse(key).success && verifies(bytes, message, key));
}
