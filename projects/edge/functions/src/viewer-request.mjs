// Viewer-request trigger on /api/*: reads are public, writes need a valid bearer JWT.
// The verified identity travels to the API as x-catalog-user / x-catalog-role; client-sent
// copies of those (and of every internal header) are always removed first.
import { loadConfig } from './config.mjs';
import { MAX_TOKEN_BYTES, verifyJwt } from './jwt.mjs';
import { headerValues, setHeader, stripInternalHeaders } from './cf-headers.mjs';
import { applySecurityHeaders } from './security-headers.mjs';

export const READ_METHODS = Object.freeze(['GET', 'HEAD', 'OPTIONS']);
export const ROLE_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

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

      const config = configResult.config;
      const result = verifyJwt(token, config, now());
      if (!result.ok) return deny(result.reason);

      setHeader(request.headers, 'X-Catalog-User', result.claims.sub);
      const role = result.claims[config.roleClaim];
      if (typeof role === 'string' && ROLE_PATTERN.test(role)) setHeader(request.headers, 'X-Catalog-Role', role);
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
      return unauthorized(reason);
    }
  };
}

// Module init: read config.json once per container (Lambda@Edge has no environment variables).
const CONFIG = loadConfig(new URL('./config.json', import.meta.url));
if (!CONFIG.ok) {
  console.error(`catalog-edge viewer-request: ${CONFIG.error}; writes are refused (auth_not_configured), reads pass`);
}

export const handler = createViewerRequestHandler(CONFIG);
