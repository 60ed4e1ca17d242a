// The viewer-request function's configuration. Lambda@Edge has no environment variables, so the
// deploy step writes config.json beside the handlers inside the zip; it is read once per
// container, at module init, and the parsed public key is kept for every invocation.
import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';

export const DEFAULT_ROLE_CLAIM = 'role';
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;
export const MAX_CLOCK_SKEW_SECONDS = 300;

// Accepted key types and the one JWT alg each may verify. Binding the alg to the key (instead of
// trusting the token's header) is what defeats alg-confusion attacks.
const EC_P256 = 'prime256v1';
const MIN_RSA_BITS = 2048;

function nonEmptyString(value) {
  return typeof value === 'string' && value.trim() !== '' && value === value.trim();
}

/** Returns the JWT alg the key verifies, or throws with a short reason. */
function algForKey(key) {
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

/**
 * Validates a parsed config.json. Never throws.
 * @returns {{ok: true, config: object} | {ok: false, error: string}}
 */
export function parseConfig(raw) {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, error: 'not a JSON object' };
  const { issuer, audience, publicKeyPem } = raw;
  const roleClaim = raw.roleClaim ?? DEFAULT_ROLE_CLAIM;
  const clockSkewSeconds = raw.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;

  if (!nonEmptyString(issuer)) return { ok: false, error: 'issuer must be a non-empty string' };
  if (!nonEmptyString(audience)) return { ok: false, error: 'audience must be a non-empty string' };
  if (!nonEmptyString(roleClaim) || roleClaim.length > 128) {
    return { ok: false, error: 'roleClaim must be a non-empty string (max 128 chars)' };
  }
  if (!Number.isInteger(clockSkewSeconds) || clockSkewSeconds < 0 || clockSkewSeconds > MAX_CLOCK_SKEW_SECONDS) {
    return { ok: false, error: `clockSkewSeconds must be an integer 0-${MAX_CLOCK_SKEW_SECONDS}` };
  }
  // SPKI only ("BEGIN PUBLIC KEY"): one format for the Python validator and this code to agree on.
  if (typeof publicKeyPem !== 'string' || !publicKeyPem.includes('-----BEGIN PUBLIC KEY-----')) {
    return { ok: false, error: 'publicKeyPem must be a PEM SPKI public key (-----BEGIN PUBLIC KEY-----)' };
  }
  let key;
  let alg;
  try {
    key = createPublicKey({ key: publicKeyPem, format: 'pem' });
    alg = algForKey(key);
  } catch (err) {
    return { ok: false, error: `publicKeyPem unusable: ${err.message}` };
  }
  return { ok: true, config: Object.freeze({ issuer, audience, roleClaim, clockSkewSeconds, key, alg }) };
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
