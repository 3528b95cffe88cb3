export const PROMETHEUS_ERROR_CODES = {
  invalidOption: 'PROMETHEUS_INVALID_OPTION',
  invalidLabelName: 'PROMETHEUS_INVALID_LABEL_NAME',
  invalidLabelValue: 'PROMETHEUS_INVALID_LABEL_VALUE',
  invalidMetricName: 'PROMETHEUS_INVALID_METRIC_NAME',
  invalidTarget: 'PROMETHEUS_INVALID_TARGET',
  unsupportedTemplate: 'PROMETHEUS_UNSUPPORTED_TEMPLATE',
  query: 'PROMETHEUS_QUERY_FAILED',
} as const;
export type PrometheusErrorCode = (typeof PROMETHEUS_ERROR_CODES)[keyof typeof PROMETHEUS_ERROR_CODES];

/** A client option is wrong; the message names the option. */
export class InvalidPrometheusOptionError extends Error {
  readonly code = PROMETHEUS_ERROR_CODES.invalidOption;
  constructor(
    readonly option: string,
    readonly problem: string,
  ) {
    super(`prometheus option ${option}: ${problem}`);
    this.name = 'InvalidPrometheusOptionError';
  }
}

/** A label name is not `[a-zA-Z_][a-zA-Z0-9_]*`. */
export class InvalidLabelNameError extends Error {
  readonly code = PROMETHEUS_ERROR_CODES.invalidLabelName;
  constructor(readonly labelName: string) {
    super(`invalid label name ${JSON.stringify(labelName)}: must match [a-zA-Z_][a-zA-Z0-9_]*`);
    this.name = 'InvalidLabelNameError';
  }
}

/** A label value cannot be a Prometheus label value (it is not valid UTF-8: a lone surrogate). */
export class InvalidLabelValueError extends Error {
  readonly code = PROMETHEUS_ERROR_CODES.invalidLabelValue;
  constructor(
    problem: string,
    readonly labelName: string,
  ) {
    super(`invalid value of label ${labelName}: ${problem}`);
    this.name = 'InvalidLabelValueError';
  }
}

/** A metric name is not `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
export class InvalidMetricNameError extends Error {
  readonly code = PROMETHEUS_ERROR_CODES.invalidMetricName;
  constructor(readonly metricName: string) {
    super(`invalid metric name ${JSON.stringify(metricName)}: must match [a-zA-Z_:][a-zA-Z0-9_:]*`);
    this.name = 'InvalidMetricNameError';
  }
}

/** The target is not a valid `TargetRef` (contracts), or lacks what the template needs (a namespace). */
export class InvalidTargetError extends Error {
  readonly code = PROMETHEUS_ERROR_CODES.invalidTarget;
  constructor(problem: string) {
    super(`invalid target: ${problem}`);
    this.name = 'InvalidTargetError';
  }
}

/** The template does not apply to the target's kind (e.g. `node-ready` of a Deployment), or is not a template at all. */
export class UnsupportedTemplateError extends Error {
  readonly code = PROMETHEUS_ERROR_CODES.unsupportedTemplate;
  constructor(
    readonly template: string,
    readonly kind: string,
    readonly supportedKinds: readonly string[],
  ) {
    super(
      supportedKinds.length === 0
        ? `unknown template ${JSON.stringify(template)}`
        : `template ${template} does not apply to a ${kind} (only to ${supportedKinds.join(', ')})`,
    );
    this.name = 'UnsupportedTemplateError';
  }
}

/**
 * Why a request failed, for a caller to branch on (never on message text):
 * - `network`, `timeout`, `server` (429, 5xx, Prometheus' own `timeout`/`unavailable`...): another attempt may succeed;
 * - `tls`: the handshake failed (the server's certificate does not chain to the CA, names another host, a client
 *   certificate was refused, http spoken to https): a setting is wrong, not retried;
 * - `auth`: 401 or 403 (wrong or missing credentials or tenant), not retried;
 * - `credentials`: a token, password or certificate file cannot be read now, not retried;
 * - `query`: the query's own fault (400 `bad_data`, 422 `execution`), not retried;
 * - `answer`: not an answer of the Prometheus HTTP API, or not the kind asked for, not retried.
 */
export const PROMETHEUS_FAILURE_REASONS = ['network', 'timeout', 'server', 'tls', 'auth', 'credentials', 'query', 'answer'] as const;
export type PrometheusFailureReason = (typeof PROMETHEUS_FAILURE_REASONS)[number];
const RETRYABLE_REASONS: ReadonlySet<PrometheusFailureReason> = new Set(['network', 'timeout', 'server']);

/** One failed attempt of a request; `retryable` follows from the reason (`network`, `timeout`, `server`). */
export class PrometheusQueryError extends Error {
  readonly code = PROMETHEUS_ERROR_CODES.query;
  readonly retryable: boolean;
  constructor(
    message: string,
    readonly reason: PrometheusFailureReason,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PrometheusQueryError';
    this.retryable = RETRYABLE_REASONS.has(reason);
  }
}
