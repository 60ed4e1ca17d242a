// Configuration is read once, validated, and frozen. A missing or malformed
// variable stops start-up with a message naming it, so a bad deploy fails in the
// first invocation's log instead of as a confusing error on some later request.
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadWaitingRoomConfig } from './waiting-room-config.mjs';

export class ConfigError extends Error {
  constructor(variable, problem) {
    super(`Configuration error: ${variable} ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

function required(env, name) {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(name, 'is required but not set');
  }
  return value.trim();
}

function optional(env, name, fallback) {
  const value = env[name];
  return value === undefined || value.trim() === '' ? fallback : value.trim();
}

function integer(env, name, fallback, min, max) {
  const raw = optional(env, name, undefined);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolean(env, name, fallback) {
  const raw = optional(env, name, undefined);
  if (raw === undefined) return fallback;
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

// DynamoDB table names: 3-255 characters of [a-zA-Z0-9_.-] (AWS rule).
function tableName(env, name) {
  const value = required(env, name);
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(value)) {
    throw new ConfigError(name, `is not a valid DynamoDB table name: "${value}"`);
  }
  return value;
}

export const DEFAULT_APP_ROLE = 'catalog_app';
export const DEFAULT_OWNER_ROLE = 'catalog_owner';

/** Database settings only: what migrate and seed need. */
export function loadDbConfig(env = process.env) {
  const iamAuth = boolean(env, 'DB_IAM_AUTH', false);
  const writerHost = required(env, 'DB_WRITER_HOST');
  const caBundlePath = optional(env, 'DB_CA_BUNDLE', undefined);
  // IAM tokens are only accepted over TLS, so the bundle is mandatory with IAM auth.
  if (iamAuth && !caBundlePath) throw new ConfigError('DB_CA_BUNDLE', 'is required when DB_IAM_AUTH=true (IAM auth needs TLS)');
  let caBundle;
  if (caBundlePath) {
    try {
      caBundle = readFileSync(caBundlePath, 'utf8');
    } catch (err) {
      throw new ConfigError('DB_CA_BUNDLE', `points to an unreadable file "${caBundlePath}" (${err.code ?? err.message})`);
    }
  }
  const region = optional(env, 'AWS_REGION', optional(env, 'AWS_DEFAULT_REGION', undefined));
  if (iamAuth && !region) throw new ConfigError('AWS_REGION', 'is required when DB_IAM_AUTH=true (the token is signed for a region)');
  // Lambda: each execution environment serves one request at a time, so 2
  // connections (reader + writer pools each) is plenty and keeps the proxy's
  // connection budget for scale-out. The local server serves many at once.
  const inLambda = Boolean(env.AWS_LAMBDA_FUNCTION_NAME);
  return Object.freeze({
    writerHost,
    readerHost: optional(env, 'DB_READER_HOST', writerHost),
    port: integer(env, 'DB_PORT', 5432, 1, 65535),
    database: required(env, 'DB_NAME'),
    // The API's own login: the least-privileged app role (see src/db-roles.mjs), never the master user.
    user: optional(env, 'DB_USER', DEFAULT_APP_ROLE),
    password: iamAuth ? undefined : optional(env, 'DB_PASSWORD', undefined),
    iamAuth,
    caBundle,
    region,
    poolMax: integer(env, 'DB_POOL_MAX', inLambda ? 2 : 10, 1, 200),
    // Named prepared statements for the product read: server-side session state, which RDS Proxy may answer by
    // pinning the client connection to one database connection; so off by default in Lambda (behind the proxy),
    // on for the local server (bench/: no parse and plan per request).
    preparedStatements: boolean(env, 'DB_PREPARED_STATEMENTS', !inLambda),
    // Overload sheds fast: a request waits at most this long for a pool connection, then gets 503.
    connectTimeoutMs: integer(env, 'DB_CONNECT_TIMEOUT_MS', 500, 1, 60_000),
    // ...and is refused at once (503, reason queue_full) when the writer queue, drained at the rate the database
    // was measured to complete, would keep it longer than DB_QUEUE_WAIT_BUDGET_MS (half the 200 ms goal: the other
    // half is the transaction and the network), or when DB_POOL_MAX_WAITING requests already wait (src/admission.mjs).
    queueWaitBudgetMs: integer(env, 'DB_QUEUE_WAIT_BUDGET_MS', 100, 1, 60_000),
    poolMaxWaiting: integer(env, 'DB_POOL_MAX_WAITING', 1000, 0, 100_000),
    // Once a queue stands (its shortest wait over 100 ms above this), only this much of it is kept: src/admission.mjs.
    queueTargetMs: integer(env, 'DB_QUEUE_TARGET_MS', 20, 1, 60_000),
    // Reservation, cancel and confirm transactions: SET LOCAL bounds (a lock wait, the whole statement).
    lockTimeoutMs: integer(env, 'DB_LOCK_TIMEOUT_MS', 200, 1, 60_000),
    statementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 1000, 1, 60_000),
  });
}

// The token rules the edge applies too (projects/edge/functions ships this same file; the deploy's Python
// validation reads it): allowed algorithms, clock skew, required claims, role claim.
export const JWT_RULES = Object.freeze(JSON.parse(readFileSync(new URL('./jwt-rules.json', import.meta.url), 'utf8')));
export const DEFAULT_ROLE_CLAIM = JWT_RULES.roleClaim.default;
export const MAX_ROLE_CLAIM = JWT_RULES.roleClaim.maxLength;
export const DEFAULT_CLOCK_SKEW_SECONDS = JWT_RULES.clockSkewSeconds.default;
export const MAX_CLOCK_SKEW_SECONDS = JWT_RULES.clockSkewSeconds.max;
const MIN_RSA_BITS = JWT_RULES.minRsaBits;

/** The one alg a static key may verify: binding the alg to the key (not to the token header) defeats alg confusion. */
function algForKey(key) {
  const alg = keyAlg(key);
  if (!JWT_RULES.algorithms.includes(alg)) throw new Error(`${alg} keys are not allowed (allowed: ${JWT_RULES.algorithms.join(', ')})`);
  return alg;
}

function keyAlg(key) {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    if (!(details.modulusLength >= MIN_RSA_BITS)) throw new Error(`RSA key under ${MIN_RSA_BITS} bits`);
    return 'RS256';
  }
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve !== 'prime256v1') throw new Error(`EC key must be P-256, got ${details.namedCurve}`);
    return 'ES256';
  }
  throw new Error(`key type ${key.asymmetricKeyType} is not RSA or EC P-256`);
}

function jwksUrl(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('AUTH_JWKS_URL', `is not a URL: "${raw}"`);
  }
  // Keys fetched in clear text could be swapped in transit; plain http only for a loopback test server.
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError('AUTH_JWKS_URL', `must be an https:// URL, got "${raw}"`);
  }
  return url;
}

/**
 * Bearer token verification settings. There is no "auth disabled" mode: without an issuer, an audience and
 * exactly one key source the API does not start.
 */
export function loadAuthConfig(env = process.env) {
  const issuer = required(env, 'AUTH_ISSUER');
  const audience = required(env, 'AUTH_AUDIENCE');
  // A PEM pasted into a one-line setting often arrives with literal "\n" sequences.
  const pem = optional(env, 'AUTH_PUBLIC_KEY_PEM', undefined)?.replace(/\\n/g, '\n');
  const jwks = optional(env, 'AUTH_JWKS_URL', undefined);
  if (pem && jwks) throw new ConfigError('AUTH_PUBLIC_KEY_PEM', 'and AUTH_JWKS_URL are both set: give exactly one');
  if (!pem && !jwks) throw new ConfigError('AUTH_PUBLIC_KEY_PEM', 'or AUTH_JWKS_URL is required (exactly one): the key that verifies bearer tokens');
  const roleClaim = optional(env, 'AUTH_ROLE_CLAIM', DEFAULT_ROLE_CLAIM);
  if (roleClaim.length > MAX_ROLE_CLAIM) throw new ConfigError('AUTH_ROLE_CLAIM', `must be at most ${MAX_ROLE_CLAIM} characters`);
  const clockSkewSeconds = integer(env, 'AUTH_CLOCK_SKEW_SECONDS', DEFAULT_CLOCK_SKEW_SECONDS, 0, MAX_CLOCK_SKEW_SECONDS);
  let key;
  let algorithms;
  if (pem) {
    // SPKI only, as at the edge: one format for every checker to agree on.
    if (!pem.includes('-----BEGIN PUBLIC KEY-----')) {
      throw new ConfigError('AUTH_PUBLIC_KEY_PEM', 'must be a PEM SPKI public key (-----BEGIN PUBLIC KEY-----)');
    }
    try {
      key = createPublicKey({ key: pem, format: 'pem' });
      algorithms = [algForKey(key)];
    } catch (err) {
      throw new ConfigError('AUTH_PUBLIC_KEY_PEM', `is unusable: ${err.message}`);
    }
  }
  return Object.freeze({
    issuer,
    audience,
    key,
    jwksUrl: jwks ? jwksUrl(jwks) : undefined,
    // A JWKS (e.g. a Cognito user pool's) may hold RSA and EC keys; jose still checks each key's type.
    algorithms: Object.freeze(algorithms ?? [...JWT_RULES.algorithms]),
    roleClaim,
    clockSkewSeconds,
    jwksCacheMaxAgeMs: integer(env, 'AUTH_JWKS_CACHE_SECONDS', 600, 30, 86400) * 1000,
    // Verified tokens kept per process (src/auth.mjs VerifiedTokens): the signature is checked once per token.
    verifyCacheEntries: integer(env, 'AUTH_VERIFY_CACHE_ENTRIES', 10_000, 0, 1_000_000),
    verifyCacheSeconds: integer(env, 'AUTH_VERIFY_CACHE_SECONDS', 300, 0, 3600),
  });
}

/** Everything the API needs. */
export function loadConfig(env = process.env) {
  const db = loadDbConfig(env);
  const auth = loadAuthConfig(env);
  const dynamoEndpoint = optional(env, 'DYNAMODB_ENDPOINT', undefined);
  const region = db.region ?? (dynamoEndpoint ? 'us-east-1' : undefined);
  if (!region) throw new ConfigError('AWS_REGION', 'is required (Lambda sets it; locally set it or DYNAMODB_ENDPOINT)');
  const logLevel = optional(env, 'LOG_LEVEL', 'INFO').toUpperCase();
  if (!['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of DEBUG, INFO, WARN, ERROR, SILENT; got "${logLevel}"`);
  }
  return Object.freeze({
    db,
    auth,
    region,
    dynamoEndpoint,
    sessionsTable: tableName(env, 'SESSIONS_TABLE'),
    cacheTable: tableName(env, 'CACHE_TABLE'),
    cacheTtlSeconds: integer(env, 'CACHE_TTL_SECONDS', 5, 0, 86400),
    localCacheTtlMs: integer(env, 'LOCAL_CACHE_TTL_MS', 1000, 0, 60000),
    localCacheMaxEntries: integer(env, 'LOCAL_CACHE_MAX_ENTRIES', 1000, 1, 100000),
    sessionTtlSeconds: integer(env, 'SESSION_TTL_SECONDS', 1800, 1, 30 * 86400),
    reservationTtlSeconds: integer(env, 'RESERVATION_TTL_SECONDS', 600, 1, 86400),
    // A reservation deletes the product's DynamoDB cache item at most once per SKU per this interval per process
    // (the hot key of a flash sale); 0 deletes on every reservation.
    cacheInvalidateIntervalMs: integer(env, 'CACHE_INVALIDATE_INTERVAL_MS', 1000, 0, 60_000),
    // A warning about a failing dependency (cache tier, lost database connection) is logged at most once per
    // kind per this interval per process; the next line counts the ones left out.
    warnIntervalMs: integer(env, 'WARN_LOG_INTERVAL_MS', 10_000, 0, 3_600_000),
    // Cache tier calls (DynamoDB) give up after this long, retries included: a slow or restarting cache tier
    // then costs a read this much at most, and the database answers.
    dynamoTimeoutMs: integer(env, 'DYNAMODB_TIMEOUT_MS', 50, 5, 10_000),
    // Local server / container: the whole request (headers and body) must arrive within this (node:http's
    // requestTimeout, default 300 s): a stalled body holds a socket and a request slot no longer.
    httpRequestTimeoutMs: integer(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 300_000),
    // Retry-After (seconds) of a shed request (503 overloaded).
    retryAfterSeconds: integer(env, 'RETRY_AFTER_SECONDS', 1, 1, 60),
    // GET /api/docs (Swagger UI) for humans: local development only (npm run dev turns it on).
    apiDocs: boolean(env, 'API_DOCS', false),
    waitingRoom: loadWaitingRoomConfig(env),
    serviceName: optional(env, 'POWERTOOLS_SERVICE_NAME', 'catalog-api'),
    metricsNamespace: optional(env, 'POWERTOOLS_METRICS_NAMESPACE', undefined),
    logLevel,
  });
}
