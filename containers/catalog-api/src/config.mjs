// Configuration is read once, validated, and frozen. A missing or malformed
// variable stops start-up with a message naming it, so a bad deploy fails in the
// first invocation's log instead of as a confusing error on some later request.
import { readFileSync } from 'node:fs';

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
    user: required(env, 'DB_USER'),
    password: iamAuth ? undefined : optional(env, 'DB_PASSWORD', undefined),
    iamAuth,
    caBundle,
    region,
    poolMax: integer(env, 'DB_POOL_MAX', inLambda ? 2 : 10, 1, 200),
    // Named prepared statements for the product read: server-side session state, which RDS Proxy may answer by
    // pinning the client connection to one database connection; so off by default in Lambda (behind the proxy),
    // on for the local server (bench/: no parse and plan per request).
    preparedStatements: boolean(env, 'DB_PREPARED_STATEMENTS', !inLambda),
    // Overload sheds fast (issue #18): a request waits at most this long for a pool connection, then gets 503.
    connectTimeoutMs: integer(env, 'DB_CONNECT_TIMEOUT_MS', 500, 1, 60_000),
    // Reservation, cancel and confirm transactions: SET LOCAL bounds (a lock wait, the whole statement).
    lockTimeoutMs: integer(env, 'DB_LOCK_TIMEOUT_MS', 200, 1, 60_000),
    statementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 1000, 1, 60_000),
  });
}

/** Everything the API needs. */
export function loadConfig(env = process.env) {
  const db = loadDbConfig(env);
  const dynamoEndpoint = optional(env, 'DYNAMODB_ENDPOINT', undefined);
  const region = db.region ?? (dynamoEndpoint ? 'us-east-1' : undefined);
  if (!region) throw new ConfigError('AWS_REGION', 'is required (Lambda sets it; locally set it or DYNAMODB_ENDPOINT)');
  const logLevel = optional(env, 'LOG_LEVEL', 'INFO').toUpperCase();
  if (!['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of DEBUG, INFO, WARN, ERROR, SILENT; got "${logLevel}"`);
  }
  return Object.freeze({
    db,
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
    // Retry-After (seconds) of a shed request (503 overloaded).
    retryAfterSeconds: integer(env, 'RETRY_AFTER_SECONDS', 1, 1, 60),
    serviceName: optional(env, 'POWERTOOLS_SERVICE_NAME', 'catalog-api'),
    metricsNamespace: optional(env, 'POWERTOOLS_METRICS_NAMESPACE', undefined),
    logLevel,
  });
}
