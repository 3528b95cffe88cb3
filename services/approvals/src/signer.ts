import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type ApprovalDecision, type CancelRequest, cancelSigningPayload, decisionSigningPayload, type RemediationRequest, remediationRequestSigningPayload } from '@cortexops/contracts';

/**
 * Signs every decision and cancel this service delivers (Ed25519, node:crypto), so that the remediation workflow can
 * tell them from a bare Temporal client's: the workflow verifies with the public key the worker is configured with
 * (CORTEXOPS_APPROVALS_VERIFY_KEYS). The private key never leaves this process.
 */
export class DecisionSigner {
  private constructor(private readonly key: KeyObject) {}

  /** Reads a PKCS#8 PEM Ed25519 private key (`openssl genpkey -algorithm ed25519`). */
  static fromFile(path: string): DecisionSigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(readFileSync(path));
    } catch (error) {
      throw new Error(`CORTEXOPS_APPROVALS_SIGNING_KEY_FILE: cannot read a private key from ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`CORTEXOPS_APPROVALS_SIGNING_KEY_FILE: ${path} holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key, not Ed25519`);
    return new DecisionSigner(key);
  }

  /** The public key as the worker's CORTEXOPS_APPROVALS_VERIFY_KEYS takes it (base64 SPKI, one line). */
  get publicKey(): string {
    return createPublicKey(this.key).export({ format: 'der', type: 'spki' }).toString('base64');
  }

  private sign(payload: string): string {
    return sign(null, Buffer.from(payload, 'utf8'), this.key).toString('hex');
  }

  decision(decision: Omit<ApprovalDecision, 'signature'>): ApprovalDecision {
    return { ...decision, signature: this.sign(decisionSigningPayload(decision)) };
  }

  cancel(workflowId: string, cancel: Omit<CancelRequest, 'signature'>): CancelRequest {
    return { ...cancel, signature: this.sign(cancelSigningPayload(workflowId, cancel)) };
  }

  request(workflowId: string, request: Omit<RemediationRequest, 'signature'>): RemediationRequest {
    return { ...request, signature: this.sign(remediationRequestSigningPayload(workflowId, request)) };
  }
}
