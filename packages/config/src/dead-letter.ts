import { intVar } from './env.js';

/** How ingestion watches the dead-letter stream's discards (cortexops_deadletters_dropped_total). */
export const deadLetterDropsSpec = {
  deadLetterDropsIntervalMs: intVar(
    'CORTEXOPS_DEADLETTER_DROPS_INTERVAL_MS',
    15_000,
    1000,
    3_600_000,
    "how often ingestion reads the dead-letter stream's state to count the letters its limits discarded (cortexops_deadletters_dropped_total)",
  ),
} as const;
