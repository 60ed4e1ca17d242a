// Viewer-request trigger on /api/*: reads are public, writes need a valid bearer JWT. This is the
// early refusal only: the API verifies the same token itself (same library, same config) and is
// the one source of identity, so the edge adds no identity header. Client-sent internal headers
// (x-catalog-*, x-origin-verify) are still removed first, allowed or denied (defense in depth).
import { loadConfig } from './config.mjs';
import { MAX_TOKEN_BYTES, verifyJwt } from './jwt.mjs';
import { headerValues, setHeader, stripInternalHeaders } from './cf-headers.mjs';
import { applySecurityHeaders } from './security-headers.mjs';

export const READ_METHODS = Object.freeze(['GET', 'HEAD', 'OPTIONS']);
// Seconds a client should wait before retrying a write when the key set could not be fetched.
export const RETRY_AFTER_SECONDS = 5;

const BEARER = /^Bearer ([^\s]+)$/i;
const REALM = 'realm="catalog"';

/** The generated 401. CloudFront returns it to the viewer without caching it or calling the origin. */
export function unauthorized(reason) {
  const headers = {};
  // RFC 6750 3.1: no error code when the request carried no token at all.
  const challenge = reason === 'missing_token' ? `Bearer ${REALM}` : `Bearer ${REALM}, error="invalid_token"`;
  setHeader(headers, 'WWW-Authenticate', challenge);
  setHeader(headers, 'Content-Type', 'application/json');
  setHeader(headers, 'Cache-Control', 'no-store');
  applySecurityHeaders(headers);
  return {
    status: '401',
    statusDescription: 'Unauthorized',
    headers,
    body: JSON.stringify({ error: 'unauthorized', reason }),
  };
}

/**
 * The generated 503 when the key set is unreachable: the token may well be valid, so a 401
 * (which tells clients to re-authenticate) would be a lie. Not cached, no origin call.
 */
export function authUnavailable(reason) {
  const headers = {};
  setHeader(headers, 'Content-Type', 'application/json');
  setHeader(headers, 'Cache-Control', 'no-store');
  setHeader(headers, 'Retry-After', String(RETRY_AFTER_SECONDS));
  applySecurityHeaders(headers);
  return {
    status: '503',
    statusDescription: 'Service Unavailable',
    headers,
    body: JSON.stringify({ error: 'service_unavailable', reason }),
  };
}

/** Extracts the bearer token or the reason there is none usable. */
function bearerToken(headers) {
  const values = headerValues(headers, 'authorization');
  if (values.length === 0) return { reason: 'missing_token' };
  if (values.length > 1 || typeof values[0] !== 'string') return { reason: 'malformed_token' };
  const value = values[0];
  // Size first: no regex over an arbitrarily large header.
  if (value.length > MAX_TOKEN_BYTES + 'Bearer '.length) return { reason: 'token_too_large' };
  if (!/^bearer(\s|$)/i.test(value)) return { reason: 'missing_token' };
  const match = BEARER.exec(value);
  return match ? { token: match[1] } : { reason: 'malformed_token' };
}

const defaultLog = (entry) => console.log(JSON.stringify(entry));

/**
 * Builds a handler around a config result from loadConfig/parseConfig. Exported so tests can
 * inject keys, a clock and a quiet logger; the deployed `handler` below uses config.json.
 */
export function createViewerRequestHandler(configResult, { now = () => Date.now() / 1000, log = defaultLog } = {}) {
  return async function handler(event) {
    let requestId;
    try {
      const cf = event.Records[0].cf;
      requestId = cf.config?.requestId;
      const request = cf.request;
      request.headers ??= {};
      stripInternalHeaders(request.headers);

      if (READ_METHODS.includes(request.method)) return request;

      // Writes fail closed: no usable config means nobody can write.
      if (!configResult?.ok) return deny('auth_not_configured');

      const { token, reason } = bearerToken(request.headers);
      if (!token) return deny(reason);

      const result = await verifyJwt(token, configResult.config, now());
      if (!result.ok) return deny(result.reason);
      // Forwarded unchanged: Authorization reaches the API (the /api/* cache policy carries it),
      // which verifies the token again.
      return request;
    } catch {
      // A malformed event or a bug: refuse rather than forward an unchecked request.
      return deny('internal_error');
    }

    function deny(reason) {
      try {
        log({ level: 'warn', msg: 'write denied', reason, requestId });
      } catch {
        // logging must never turn a 401 into a 502
      }
      return reason === 'jwks_unavailable' ? authUnavailable(reason) : unauthorized(reason);
    }
  };
}

// Module init: read config.json once per container (Lambda@Edge has no environment variables).
const CONFIG = loadConfig(new URL('./config.json', import.meta.url));
if (!CONFIG.ok) {
  console.error(`catalog-edge viewer-request: ${CONFIG.error}; writes are refused (auth_not_configured), reads pass`);
}

export const handler = createViewerRequestHandler(CONFIG);
