export const MESSAGING_ERROR_CODES = {
  invalidOption: 'MESSAGING_INVALID_OPTION',
  layout: 'MESSAGING_LAYOUT_FAILED',
  missing: 'MESSAGING_RESOURCE_MISSING',
  permanent: 'MESSAGING_PERMANENT_FAILURE',
  publish: 'MESSAGING_PUBLISH_FAILED',
} as const;
export type MessagingErrorCode = (typeof MESSAGING_ERROR_CODES)[keyof typeof MESSAGING_ERROR_CODES];

/** A messaging option is wrong; the message names the option. */
export class InvalidMessagingOptionError extends Error {
  readonly code = MESSAGING_ERROR_CODES.invalidOption;
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`messaging option ${option}: ${problem}`);
    this.name = 'InvalidMessagingOptionError';
  }
}

/** A stream or consumer could not be created or updated. */
export class JetStreamLayoutError extends Error {
  readonly code = MESSAGING_ERROR_CODES.layout;
  constructor(
    readonly resource: string,
    options: { cause: unknown },
  ) {
    super(`cannot create or update ${resource}: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options);
    this.name = 'JetStreamLayoutError';
  }
}

/**
 * A stream or KV bucket a service binds to does not exist: services never create them (their NATS users may not);
 * the admin step does (`cortexops-admin nats apply`, or the local stack's set-up).
 */
export class MissingJetStreamResourceError extends Error {
  readonly code = MESSAGING_ERROR_CODES.missing;
  constructor(
    readonly resource: string,
    options?: { cause?: unknown },
  ) {
    super(`${resource} does not exist: create it with \`cortexops-admin nats apply\` (the admin step; services only bind to what exists)`, options);
    this.name = 'MissingJetStreamResourceError';
  }
}

/**
 * Thrown by a message handler when retrying cannot help (bad input): the message is dead-lettered
 * with `reason` (and `field` when one field is to blame) and terminated.
 */
export class PermanentMessageError extends Error {
  readonly code = MESSAGING_ERROR_CODES.permanent;
  constructor(
    readonly reason: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
    this.name = 'PermanentMessageError';
  }
}

/** A publish was not acknowledged by the stream. */
export class PublishError extends Error {
  readonly code = MESSAGING_ERROR_CODES.publish;
  constructor(
    readonly subject: string,
    options: { cause: unknown },
  ) {
    super(`publish to ${subject} failed: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options);
    this.name = 'PublishError';
  }
}
