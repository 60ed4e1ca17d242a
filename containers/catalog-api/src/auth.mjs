// Bearer token verification. The API is the authority for identity on every path (CloudFront, ALB, API
// Gateway, local server): it verifies the token itself and takes `sub` and the role from the verified claims.
// No request header other than Authorization is ever read for identity (x-catalog-* from a client mean nothing).
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { JWT_RULES } from './config.mjs';
import { HttpError } from './errors.mjs';

export const REALM = 'catalog';
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/;
// Same shape the edge accepts for a role value; anything else is "no role".
const ROLE_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
const SUB_PATTERN = /^[\x21-\x7e]{1,256}$/;

/** 401 with the RFC 6750 challenge. `description` is a fixed string (no quotes): it goes into a header. */
export function unauthorized(description) {
  const err = description
    ? new HttpError(401, 'invalid_token', `authorization: ${description}`, { field: 'authorization' })
    : new HttpError(401, 'unauthorized', 'authorization: a bearer token is required', { field: 'authorization' });
  err.headers = {
    'www-authenticate': description
      ? `Bearer realm="${REALM}", error="invalid_token", error_description="${description}"`
      : `Bearer realm="${REALM}"`,
  };
  return err;
}

export const forbidden = (role) => new HttpError(403, 'forbidden', `authorization: the ${role} role is required`, { field: 'authorization' });

function describe(err) {
  // The issuer's key set could not be fetched or parsed: says nothing about the token.
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) return undefined;
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'token not yet valid';
    if (err.claim === 'iss') return 'unexpected issuer';
    if (err.claim === 'aud') return 'unexpected audience';
    return `claim ${err.claim} invalid or missing`;
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'signing algorithm not allowed';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) return 'no matching signing key';
  if (err instanceof joseErrors.JOSENotSupported) return 'unsupported token';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JOSEError) return 'malformed token';
  return undefined;
}

// A stolen token is good until exp: the rules cap how long any token may live, from its iat (or from now when it
// carries none), whatever the issuer set.
const lifetimeSeconds = (payload, now) => payload.exp - (typeof payload.iat === 'number' ? payload.iat : now);

/** auth: loadAuthConfig() result. Returns { verify(authorizationHeader) -> {sub, role} }. */
export function createVerifier(auth) {
  // Bounded caching: keys are refetched at most every cacheMaxAge, and an unknown `kid` triggers at most one
  // fetch per cooldown, so a flood of forged kids cannot turn into a flood of requests to the issuer.
  const key = auth.key ?? createRemoteJWKSet(auth.jwksUrl, {
    cacheMaxAge: auth.jwksCacheMaxAgeMs,
    cooldownDuration: 30_000,
    timeoutDuration: 3_000,
  });
  const options = {
    issuer: auth.issuer,
    audience: auth.audience,
    algorithms: [...auth.algorithms],
    clockTolerance: auth.clockSkewSeconds,
    requiredClaims: [...JWT_RULES.requiredClaims],
  };
  const cache = new VerifiedTokens(auth.verifyCacheEntries, auth.verifyCacheSeconds, auth.clockSkewSeconds);
  return {
    async verify(header) {
      if (header === undefined || header === '') throw unauthorized();
      const match = BEARER.exec(header);
      if (!match) throw unauthorized('malformed token');
      const known = cache.get(match[1]);
      if (known) return known;
      let payload;
      try {
        ({ payload } = await jwtVerify(match[1], key, options));
      } catch (err) {
        const description = describe(err);
        if (description) throw unauthorized(description);
        // Not a verdict on the token: the issuer's keys could not be fetched. Retryable, not the client's fault.
        throw new HttpError(503, 'service_unavailable', 'token signing keys are not reachable, retry shortly');
      }
      // jose judges iat only together with maxTokenAge: a token issued in the future (beyond the clock skew) is
      // refused here, by the same rule and the same AUTH_CLOCK_SKEW_SECONDS value as at the edge.
      if (payload.iat !== undefined && payload.iat > Date.now() / 1000 + auth.clockSkewSeconds) throw unauthorized('token not yet valid');
      if (lifetimeSeconds(payload, Date.now() / 1000) > JWT_RULES.maxLifetimeSeconds + auth.clockSkewSeconds) {
        throw unauthorized(`token lifetime over ${JWT_RULES.maxLifetimeSeconds} s`);
      }
      if (typeof payload.sub !== 'string' || !SUB_PATTERN.test(payload.sub)) throw unauthorized('claim sub invalid or missing');
      const role = payload[auth.roleClaim];
      const identity = Object.freeze({ sub: payload.sub, role: typeof role === 'string' && ROLE_PATTERN.test(role) ? role : null });
      cache.set(match[1], identity, payload.exp);
      return identity;
    },
  };
}

/**
 * Tokens that verified, by their exact compact string, until `exp` (plus the clock tolerance) or `maxAgeSeconds`
 * after verification, whichever is first; at most `maxEntries` (oldest first out). The signature check (ES256
 * verify: ~14 % of the API's CPU in a flash-sale profile) then runs once per token per process, not per request,
 * as Envoy's jwt_authn `jwt_cache_config` does. Only successes are kept, so a hit needs the very bytes that
 * verified; `maxAgeSeconds` bounds how long a key dropped from the JWKS keeps being honoured (the JWKS itself is
 * cached AUTH_JWKS_CACHE_SECONDS). maxEntries 0 turns it off.
 */
class VerifiedTokens {
  constructor(maxEntries = 0, maxAgeSeconds = 0, skewSeconds = 0) {
    this.maxEntries = maxEntries;
    this.maxAgeMs = maxAgeSeconds * 1000;
    this.skewMs = skewSeconds * 1000;
    this.entries = new Map();
  }

  get(token) {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (Date.now() < entry.until) return entry.identity;
    this.entries.delete(token); // expired: verified afresh, which names the reason (e.g. "token expired")
    return undefined;
  }

  set(token, identity, exp) {
    if (this.maxEntries === 0 || this.maxAgeMs === 0) return;
    const until = Math.min(exp * 1000 + this.skewMs, Date.now() + this.maxAgeMs);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value);
    this.entries.set(token, { identity, until });
  }
}
