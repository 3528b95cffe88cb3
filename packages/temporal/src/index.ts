export { connectTemporal, TemporalConnectionError, type TemporalConnector } from './connect.js';
export { temporalConnectOptions, TemporalSettingsError, TEMPORAL_CONNECTION_ERROR_CODES, type TemporalConnectionConfig, type TemporalConnectOptions } from './options.js';
