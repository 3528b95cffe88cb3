import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { classifyKubernetesError, KubernetesConflictError, KubernetesForbiddenError, KubernetesInvalidError, KubernetesTransientError, type RequestContext } from './errors.js';

const req: RequestContext = { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'shop', name: 'web' };
const status = (code: number, body: object) => new ApiException(code, 'HTTP', JSON.stringify(body), {});

describe('errors — classification of API answers', () => {
  it('Forbidden names the user and the missing verb, resource and namespace', () => {
    const error = classifyKubernetesError(status(403, { message: 'deployments.apps "web" is forbidden: User "system:serviceaccount:a:b" cannot patch resource "deployments" in API group "apps" in the namespace "shop"' }), req);
    expect(error).toBeInstanceOf(KubernetesForbiddenError);
    expect(error.message).toMatch(/^forbidden: system:serviceaccount:a:b lacks permission to patch deployments\.apps in namespace "shop"/);
    expect(error.retryable).toBe(false);
  });

  it('Conflict and 5xx/429 are retryable, Invalid carries the fields the server named', () => {
    expect(classifyKubernetesError(status(409, { message: 'the object has been modified' }), req)).toBeInstanceOf(KubernetesConflictError);
    for (const code of [429, 500, 503]) expect(classifyKubernetesError(status(code, {}), req)).toMatchObject({ retryable: true, status: code });
    const invalid = classifyKubernetesError(status(422, { message: 'invalid', details: { causes: [{ field: 'spec.replicas', message: 'must be >= 0' }] } }), req);
    expect(invalid).toBeInstanceOf(KubernetesInvalidError);
    expect((invalid as KubernetesInvalidError).causes).toEqual([{ field: 'spec.replicas', message: 'must be >= 0' }]);
  });

  it('network errors (by code, also nested as a cause) are transient; anything else is not retried', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(classifyKubernetesError(refused, req)).toBeInstanceOf(KubernetesTransientError);
    expect(classifyKubernetesError(new Error('fetch failed', { cause: { code: 'ECONNRESET' } }), req)).toBeInstanceOf(KubernetesTransientError);
    expect(classifyKubernetesError(new Error('boom'), req)).toMatchObject({ code: 'K8S_API_ERROR', retryable: false });
  });
});
