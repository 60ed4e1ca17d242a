// The viewer-request function's configuration: the same document the API reads (issuer,
// audience, publicKeyPem OR jwksUrl, roleClaim, clockSkewSeconds), so the edge and the API judge
// a token by one rule set. Lambda@Edge has no environment variables, so the deploy step writes
// config.json beside the handlers inside the zip; it is read once per container, at module init,
// and the parsed key (or the cached remote key set) is kept for every invocation.
import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { createRemoteJWKSet } from 'jose';
import { ALLOWED_ALGS, JWT_RULES } from './jwt.mjs';

// From the shared token rules (jwt-rules.json), as the API reads them.
export const DEFAULT_ROLE_CLAIM = JWT_RULES.roleClaim.default;
export const MAX_ROLE_CLAIM = JWT_RULES.roleClaim.maxLength;
export const DEFAULT_CLOCK_SKEW_SECONDS = JWT_RULES.clockSkewSeconds.default;
export const MAX_CLOCK_SKEW_SECONDS = JWT_RULES.clockSkewSeconds.max;

// Accepted key types and the one JWT alg each may verify. Binding the alg to the key (instead of
// trusting the token's header) is what defeats alg-confusion attacks.
const EC_P256 = 'prime256v1';
const MIN_RSA_BITS = JWT_RULES.minRsaBits;

// Remote key set: the viewer trigger has 5 s in all, so one fetch may take at most 1.5 s; keys
// are kept 10 minutes, and an unknown `kid` refetches at most every 30 s (key rotation without a
// redeploy, and no fetch storm from tokens with made-up kids).
export const JWKS_TIMEOUT_MS = 1500;
export const JWKS_CACHE_MAX_AGE_MS = 10 * 60 * 1000;
export const JWKS_COOLDOWN_MS = 30 * 1000;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function nonEmptyString(value) {
  return typeof value === 'string' && value.trim() !== '' && value === value.trim();
}

/** Returns the JWT alg the key verifies, or throws with a short reason. */
function algForKey(key) {
  const alg = keyAlg(key);
  if (!ALLOWED_ALGS.includes(alg)) throw new Error(`${alg} keys are not allowed (allowed: ${ALLOWED_ALGS.join(', ')})`);
  return alg;
}

function keyAlg(key) {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    if (!(details.modulusLength >= MIN_RSA_BITS)) throw new Error(`RSA key under ${MIN_RSA_BITS} bits`);
    return 'RS256';
  }
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve !== EC_P256) throw new Error(`EC key must be P-256, got ${details.namedCurve}`);
    return 'ES256';
  }
  throw new Error(`key type ${key.asymmetricKeyType} is not RSA or EC P-256`);
}

function staticKey(publicKeyPem) {
  // SPKI only ("BEGIN PUBLIC KEY"): one format for the Python validator and this code to agree on.
  if (typeof publicKeyPem !== 'string' || !publicKeyPem.includes('-----BEGIN PUBLIC KEY-----')) {
    return { error: 'publicKeyPem must be a PEM SPKI public key (-----BEGIN PUBLIC KEY-----)' };
  }
  try {
    const key = createPublicKey({ key: publicKeyPem, format: 'pem' });
    return { key, algs: Object.freeze([algForKey(key)]) };
  } catch (err) {
    return { error: `publicKeyPem unusable: ${err.message}` };
  }
}

function remoteKeySet(jwksUrl, { allowInsecureLoopback = false } = {}) {
  let url;
  try {
    url = new URL(jwksUrl);
  } catch {
    return { error: 'jwksUrl must be an absolute URL' };
  }
  // Keys fetched over plain HTTP could be swapped in transit; only tests may use a loopback server.
  const loopbackHttp = allowInsecureLoopback && url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) return { error: 'jwksUrl must be an https:// URL' };
  if (url.username || url.password) return { error: 'jwksUrl must not carry credentials' };
  const key = createRemoteJWKSet(url, {
    timeoutDuration: JWKS_TIMEOUT_MS,
    cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
    cooldownDuration: JWKS_COOLDOWN_MS,
  });
  // A key set may hold RSA and EC keys; jose matches each token's alg to a key of that type.
  return { key, algs: ALLOWED_ALGS, jwksUrl: url.href };
}

/**
 * Validates a parsed config.json. Never throws.
 * @param {object} raw the parsed document
 * @param {{allowInsecureLoopback?: boolean}} [options] tests only: allow an http://127.0.0.1 jwksUrl
 * @returns {{ok: true, config: object} | {ok: false, error: string}}
 */
export function parseConfig(raw, options = {}) {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, error: 'not a JSON object' };
  const { issuer, audience, publicKeyPem, jwksUrl } = raw;
  const roleClaim = raw.roleClaim ?? DEFAULT_ROLE_CLAIM;
  const clockSkewSeconds = raw.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;

  if (!nonEmptyString(issuer)) return { ok: false, error: 'issuer must be a non-empty string' };
  if (!nonEmptyString(audience)) return { ok: false, error: 'audience must be a non-empty string' };
  if (!nonEmptyString(roleClaim) || roleClaim.length > MAX_ROLE_CLAIM) {
    return { ok: false, error: `roleClaim must be a non-empty string (max ${MAX_ROLE_CLAIM} chars)` };
  }
  if (!Number.isInteger(clockSkewSeconds) || clockSkewSeconds < 0 || clockSkewSeconds > MAX_CLOCK_SKEW_SECONDS) {
    return { ok: false, error: `clockSkewSeconds must be an integer 0-${MAX_CLOCK_SKEW_SECONDS}` };
  }
  // Exactly one key source: with both, which one wins would be a silent policy choice. A null
  // counts as absent (a generator may write the unused one as null).
  const hasPem = publicKeyPem !== undefined && publicKeyPem !== null;
  const hasJwks = jwksUrl !== undefined && jwksUrl !== null;
  if (hasPem === hasJwks) return { ok: false, error: 'exactly one of publicKeyPem or jwksUrl is required' };
  const source = hasPem ? staticKey(publicKeyPem) : remoteKeySet(jwksUrl, options);
  if (source.error) return { ok: false, error: source.error };
  // roleClaim is validated for parity with the API's config but not used here: the edge no
  // longer sends identity headers (the API reads the role from the token it verifies itself).
  return {
    ok: true,
    config: Object.freeze({ issuer, audience, roleClaim, clockSkewSeconds, ...source }),
  };
}

/** Reads and validates a config.json file. Never throws: a missing file is an {ok: false}. */
export function loadConfig(url) {
  let text;
  try {
    text = readFileSync(url, 'utf8');
  } catch (err) {
    return { ok: false, error: err.code === 'ENOENT' ? 'config.json not found' : `config.json unreadable (${err.code})` };
  }
  let raw;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: 'config.json is not valid JSON' };
  }
  return parseConfig(raw);
}
