// Bearer JWT verification for the edge: `jose` does the cryptography and the standard claim
// checks (the API verifies with the same library and the same config, so both apply one rule
// set); this module only adds a cheap structural pre-filter and maps every failure to a short,
// safe reason. Nothing here throws for any input: every failure is a return value.
import { readFileSync } from 'node:fs';
import { errors, jwtVerify } from 'jose';

// The token rules the API applies too (algorithms, clock skew, required claims, role claim): one table,
// containers/catalog-api/src/jwt-rules.json, packaged beside this module (src/jwt-rules.json links to it).
export const JWT_RULES = Object.freeze(JSON.parse(readFileSync(new URL('./jwt-rules.json', import.meta.url), 'utf8')));

// A bearer token larger than this is refused before any decoding (CPU and memory bound; real
// access tokens are well under 2 KB).
export const MAX_TOKEN_BYTES = 8192;
// The only JWS algs the platform issues.
export const ALLOWED_ALGS = Object.freeze([...JWT_RULES.algorithms]);

const SEGMENT = /^[A-Za-z0-9_-]+$/;

const fail = (reason) => ({ ok: false, reason });

function decodeJsonObject(segment) {
  // Buffer's base64url decoder skips invalid characters silently, so the alphabet is checked
  // first; a length of 1 mod 4 cannot come from any byte string.
  if (!SEGMENT.test(segment) || segment.length % 4 === 1) return null;
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Structure only, no crypto: three strict base64url segments, JSON-object header and payload, an
 * allowed alg, no `crit`. Keeps the reasons stable and refuses junk before any key is fetched.
 * @returns {string | null} a reason, or null when the token may go to jose
 */
function structuralReason(token, algs) {
  if (typeof token !== 'string' || token === '') return 'missing_token';
  if (Buffer.byteLength(token, 'utf8') > MAX_TOKEN_BYTES) return 'token_too_large';
  const parts = token.split('.');
  if (parts.length !== 3) return 'malformed_token';
  const header = decodeJsonObject(parts[0]);
  if (!header) return 'malformed_token';
  // Only the algs bound to the configured key(s): refuses "none", every HS* (including HS256
  // keyed with our public key) and RS/ES mismatches before any key is touched.
  if (!algs.includes(header.alg)) return 'unsupported_alg';
  // We understand no critical extensions (RFC 7515 4.1.11).
  if (header.crit !== undefined) return 'malformed_token';
  if (!decodeJsonObject(parts[1])) return 'malformed_token';
  // An empty signature segment (typical of alg "none") is malformed.
  if (!SEGMENT.test(parts[2]) || parts[2].length % 4 === 1) return 'malformed_token';
  return null;
}

const isAudience = (aud) =>
  typeof aud === 'string' || (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string'));

/** Maps a jose claim failure to our reason; wrong types are invalid_claims, not a "wrong" value. */
function claimReason(err) {
  const claims = err.payload ?? {};
  if (typeof claims.iss !== 'string' || !isAudience(claims.aud)) return 'invalid_claims';
  if (err.reason !== 'check_failed') return 'invalid_claims'; // missing or wrongly typed claim
  if (err.claim === 'iss') return 'wrong_issuer';
  if (err.claim === 'aud') return 'wrong_audience';
  if (err.claim === 'exp') return 'expired';
  if (err.claim === 'nbf' || err.claim === 'iat') return 'not_yet_valid';
  return 'invalid_claims';
}

function joseReason(err) {
  if (err instanceof errors.JWTExpired) return claimReason(err);
  if (err instanceof errors.JWTClaimValidationFailed) return claimReason(err);
  if (err instanceof errors.JOSEAlgNotAllowed) return 'unsupported_alg';
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return 'unknown_key';
  // The key set could not be fetched or parsed (timeout, network, non-200, not a JWKS): not the
  // caller's fault, so the handler answers 503 rather than 401.
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return 'jwks_unavailable';
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid) return 'malformed_token';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (err instanceof errors.JOSENotSupported) return 'unsupported_alg';
  // fetch() failures (DNS, connection refused) surface as plain errors from the JWKS getter.
  if (err?.name === 'TypeError' && /fetch/i.test(String(err.message))) return 'jwks_unavailable';
  if (err instanceof errors.JOSEError && err.code === 'ERR_JOSE_GENERIC') return 'jwks_unavailable';
  return 'bad_signature';
}

/**
 * Verifies a compact JWS against the configured key (or key set), issuer, audience and clock.
 * @param {string} token the bearer token (no "Bearer " prefix)
 * @param {{key: KeyObject | Function, algs: string[], issuer: string, audience: string,
 *          clockSkewSeconds: number}} config from parseConfig
 * @param {number} nowSeconds current Unix time in seconds
 * @returns {Promise<{ok: true, claims: object} | {ok: false, reason: string}>}
 */
export async function verifyJwt(token, config, nowSeconds) {
  try {
    const reason = structuralReason(token, config.algs);
    if (reason) return fail(reason);
    const { payload } = await jwtVerify(token, config.key, {
      algorithms: config.algs,
      issuer: config.issuer,
      audience: config.audience,
      clockTolerance: config.clockSkewSeconds,
      currentDate: new Date(nowSeconds * 1000),
      // exp: a token that never expires is not accepted; sub: every write has an author.
      requiredClaims: [...JWT_RULES.requiredClaims],
    });
    // jose judges iat only together with maxTokenAge; a token issued in the future (beyond the
    // skew) is refused here, the same rule the API applies.
    if (payload.iat !== undefined && payload.iat > nowSeconds + config.clockSkewSeconds) return fail('not_yet_valid');
    // A stolen token is good until exp: no token lives longer than the rules allow, from its iat (or now).
    const lifetime = payload.exp - (typeof payload.iat === 'number' ? payload.iat : nowSeconds);
    if (lifetime > JWT_RULES.maxLifetimeSeconds + config.clockSkewSeconds) return fail('lifetime_too_long');
    // sub names the writer: printable ASCII only, bounded (the same rule the API applies).
    if (typeof payload.sub !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(payload.sub)) return fail('invalid_claims');
    return { ok: true, claims: payload };
  } catch (err) {
    return fail(joseReason(err));
  }
}
