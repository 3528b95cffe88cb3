/** Failures of incident memory, by code (callers branch on the code, never on the message). */
export const KNOWLEDGE_ERROR_CODES = {
  /** A store or embedder was given options it cannot work with. */
  invalidOptions: 'KNOWLEDGE_INVALID_OPTIONS',
  /** A vector of the wrong length, or not finite. */
  badVector: 'KNOWLEDGE_BAD_VECTOR',
  /** An existing collection was created for another dimension or distance. */
  dimensionMismatch: 'KNOWLEDGE_DIMENSION_MISMATCH',
  /** The store or the embedding service did not answer as expected. */
  unavailable: 'KNOWLEDGE_UNAVAILABLE',
  /** The embedding service answered with something that is not embeddings of the asked texts. */
  badResponse: 'KNOWLEDGE_BAD_RESPONSE',
} as const;
export type KnowledgeErrorCode = (typeof KNOWLEDGE_ERROR_CODES)[keyof typeof KNOWLEDGE_ERROR_CODES];

export class KnowledgeError extends Error {
  constructor(
    readonly code: KnowledgeErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'KnowledgeError';
  }
}
