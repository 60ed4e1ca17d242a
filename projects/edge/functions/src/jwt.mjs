// JWT (JWS compact) verification with node:crypto only. Every failure is a return value with a
// short, safe reason: nothing here throws for any input, whatever the token contains.
import { verify } from 'node:crypto';

// A bearer token larger than this is refused before any decoding (CPU and memory bound; real
// access tokens are well under 2 KB).
export const MAX_TOKEN_BYTES = 8192;

const SEGMENT = /^[A-Za-z0-9_-]+$/;
// Signature lengths the algs produce: ES256 is r||s (2 x 32 bytes, IEEE P1363, what JWS uses);
// RS256 is the modulus length, checked against the key.
const ES256_SIGNATURE_BYTES = 64;

const fail = (reason) => ({ ok: false, reason });

function decodeSegment(segment) {
  // Buffer's base64url decoder skips invalid characters silently, so the alphabet is checked
  // first; a length of 1 mod 4 cannot come from any byte string.
  if (!SEGMENT.test(segment) || segment.length % 4 === 1) return null;
  return Buffer.from(segment, 'base64url');
}

function decodeJsonObject(segment) {
  const bytes = decodeSegment(segment);
  if (!bytes) return null;
  try {
    const value = JSON.parse(bytes.toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function signatureMatches(alg, key, signingInput, signature) {
  if (alg === 'ES256') {
    if (signature.length !== ES256_SIGNATURE_BYTES) return false;
    return verify('sha256', signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
  }
  // RSA signatures are exactly the modulus length in whole bytes (2048 bits: 256 bytes, 2052 bits: 257).
  if (signature.length !== Math.ceil(key.asymmetricKeyDetails.modulusLength / 8)) return false;
  return verify('sha256', signingInput, key, signature);
}

const isNumber = (value) => typeof value === 'number' && Number.isFinite(value);

function checkClaims(claims, config, nowSeconds) {
  const skew = config.clockSkewSeconds;
  if (typeof claims.iss !== 'string') return 'invalid_claims';
  if (claims.iss !== config.issuer) return 'wrong_issuer';

  const aud = claims.aud;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (audiences.length === 0 || !audiences.every((a) => typeof a === 'string')) return 'invalid_claims';
  if (!audiences.includes(config.audience)) return 'wrong_audience';

  // exp is mandatory: a token that never expires is not accepted at the edge.
  if (!isNumber(claims.exp)) return 'invalid_claims';
  if (claims.nbf !== undefined && !isNumber(claims.nbf)) return 'invalid_claims';
  if (claims.iat !== undefined && !isNumber(claims.iat)) return 'invalid_claims';
  if (nowSeconds >= claims.exp + skew) return 'expired';
  if (claims.nbf !== undefined && claims.nbf > nowSeconds + skew) return 'not_yet_valid';
  if (claims.iat !== undefined && claims.iat > nowSeconds + skew) return 'not_yet_valid';

  // sub becomes the x-catalog-user header: printable ASCII only, so it can never inject header
  // syntax or control characters, and bounded.
  if (typeof claims.sub !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(claims.sub)) return 'invalid_claims';
  return null;
}

/**
 * Verifies a compact JWS against the configured key, issuer, audience and clock.
 * @param {string} token the bearer token (no "Bearer " prefix)
 * @param {{key: KeyObject, alg: string, issuer: string, audience: string,
 *          clockSkewSeconds: number}} config from parseConfig
 * @param {number} nowSeconds current Unix time in seconds
 * @returns {{ok: true, claims: object} | {ok: false, reason: string}}
 */
export function verifyJwt(token, config, nowSeconds) {
  try {
    if (typeof token !== 'string' || token === '') return fail('missing_token');
    if (Buffer.byteLength(token, 'utf8') > MAX_TOKEN_BYTES) return fail('token_too_large');

    const parts = token.split('.');
    if (parts.length !== 3) return fail('malformed_token');
    const [headerB64, payloadB64, signatureB64] = parts;

    const header = decodeJsonObject(headerB64);
    if (!header) return fail('malformed_token');
    // Only the alg bound to the configured key is accepted: this refuses "none", every HS*
    // (including HS256 keyed with our public key) and RS/ES mismatches before any crypto.
    if (header.alg !== config.alg) return fail('unsupported_alg');
    // We understand no critical extensions, so any "crit" must be refused (RFC 7515 4.1.11).
    if (header.crit !== undefined) return fail('malformed_token');

    const claims = decodeJsonObject(payloadB64);
    if (!claims) return fail('malformed_token');
    // An empty signature segment (typical of alg "none") fails here too.
    const signature = decodeSegment(signatureB64);
    if (!signature) return fail('malformed_token');

    const signingInput = Buffer.from(`${headerB64}.${payloadB64}`, 'ascii');
    if (!signatureMatches(config.alg, config.key, signingInput, signature)) return fail('bad_signature');

    // Claims are judged only after the signature: an attacker learns nothing from unsigned data.
    const reason = checkClaims(claims, config, nowSeconds);
    return reason ? fail(reason) : { ok: true, claims };
  } catch {
    // node:crypto may throw on inputs it cannot parse; that is a bad signature, never a crash.
    return fail('bad_signature');
  }
}
