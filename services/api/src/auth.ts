import { createHash, timingSafeEqual } from 'node:crypto';
import { API_ERROR_CODES, ApiError } from './errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The read routes' bearer token (CORTEXOPS_API_TOKEN), compared in constant time (hashing first equalises the
 * lengths). Without a configured token the read routes answer 503: nothing is readable without credentials.
 */
export function requireReadToken(authorization: string | undefined, token: string | undefined): void {
  if (token === undefined) throw new ApiError(API_ERROR_CODES.notConfigured, 'The api read routes are not configured (CORTEXOPS_API_TOKEN).');
  const presented = /^Bearer (\S{1,512})$/i.exec(authorization ?? '')?.[1];
  if (presented === undefined) throw new ApiError(API_ERROR_CODES.unauthenticated, 'A bearer token is required (Authorization: Bearer <CORTEXOPS_API_TOKEN>).');
  if (!timingSafeEqual(digest(presented), digest(token))) throw new ApiError(API_ERROR_CODES.unauthenticated, 'The bearer token is not valid.');
}
