import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { InvalidGatewayInputError } from './errors.js';
import { ClusterGateway } from './gateway.js';

describe('gateway — options', () => {
  it('refuses bounds that are not a range or not a quantity, naming the option', () => {
    const kubeConfig = new KubeConfig();
    expect(() => ClusterGateway.create({ kubeConfig, bounds: { minReplicas: 5, maxReplicas: 2 } })).toThrow(/bounds: replica bounds \[5, 2\] are not a range/);
    expect(() => ClusterGateway.create({ kubeConfig, bounds: { maxMemory: 'lots' } })).toThrow(InvalidGatewayInputError);
    expect(() => ClusterGateway.create({ kubeConfig, bounds: { maxMemory: 'lots' } })).toThrow(/bounds\.maxMemory: "lots" is not a Kubernetes quantity/);
  });
});
