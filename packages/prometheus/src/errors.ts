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
    problem: string,
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
 * One failed attempt of a query. `retryable`: a network error, a timeout, 429 or 5xx (another attempt may succeed);
 * a bad query (400 bad_data, 422 execution) or an unreadable response is not.
 */
export class PrometheusQueryError extends Error {
  readonly code = PROMETHEUS_ERROR_CODES.query;
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PrometheusQueryError';
  }
}
