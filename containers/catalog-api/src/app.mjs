// The one router. Lambda (ALB and API Gateway events) and the local HTTP server
// both call app.fetch; nothing here knows which entry point is in use.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Hono } from 'hono';
import { swaggerUI } from '@hono/swagger-ui';
import { bodyLimit } from 'hono/body-limit';
import { createVerifier } from './auth.mjs';
import { HttpError } from './errors.mjs';
import { F, RequestLog } from './observability.mjs';
import { productRoutes } from './routes/products.mjs';
import { reservationRoutes } from './routes/reservations.mjs';
import { sessionRoutes } from './routes/sessions.mjs';
import { healthRoutes } from './routes/health.mjs';
import { ClientAbortError, route } from './routes/route.mjs';
import { ROUTES, openApiDocument } from './contract.mjs';
import { earlyShed } from './routes/early-shed.mjs';
import { waitingRoomRoutes } from './routes/waiting-room.mjs';

export const MAX_BODY_BYTES = 16 * 1024;
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;
// pg / network failures that mean "the database is not reachable right now": refused or lost connections, a
// server shutting down or crashed (57P01-57P03), connection exceptions (class 08), too many connections (53300).
const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
// What pg says when the socket dies under a query or a checked-out client (no code attached).
const CONNECTION_LOST = /Connection terminated|not queryable|timeout/i;
// A bound was hit (overload sheds fast): lock_timeout (55P03), statement_timeout (57014), a deadlock
// broken by the server (40P01), a retry loop given up (40001), no pool connection within DB_CONNECT_TIMEOUT_MS, or
// a writer queue too long to wait in (POOL_QUEUE_FULL: DB_QUEUE_WAIT_BUDGET_MS / DB_POOL_MAX_WAITING, before any SQL).
// The transaction was rolled back (or never began): nothing was granted.
const SHED = new Set(['55P03', '57014', '40P01', '40001', 'POOL_QUEUE_FULL']);
const POOL_TIMEOUT = /timeout exceeded when trying to connect|connection timeout/i;
const isShed = (err) => SHED.has(err.code) || (err.code === undefined && POOL_TIMEOUT.test(err.message ?? ''));
// Which bound refused, in the 503 body (an operator's and the benchmark's first question).
const SHED_REASON = { '55P03': 'lock_timeout', '57014': 'statement_timeout', '40P01': 'deadlock', '40001': 'serialization', POOL_QUEUE_FULL: 'queue_full' };
const shedReason = (err) => SHED_REASON[err.code] ?? 'pool_timeout';

/**
 * The request body never arrived in full and the connection is gone: closed or reset by the client, a chunk
 * framing error, the server's request timeout. Whatever failed then (a body read in bodyLimit or in a route,
 * with 'aborted' / ECONNRESET), failed because the client left: it is not a server error.
 */
function clientGone(c) {
  const incoming = c.env?.incoming;
  return Boolean(incoming && !incoming.complete && (incoming.aborted || incoming.destroyed || incoming.errored));
}

// One spelling per path. The edge's WAF rules (rate limits by path) match the path after decoding it, resolving
// `.`/`..` and repeated slashes and lower-casing it; the router here decodes percent-encoded characters and (through
// URL parsing) resolves dot segments and reads backslashes as slashes. A path the router would reach under another
// spelling than its canonical one is refused, so no spelling acts on a route while escaping a rule meant for it.
const UNRESERVED = /^[A-Za-z0-9\-._~]$/; // RFC 3986 2.3: these are never percent-encoded in a canonical URI
const PERCENT = /%([0-9A-Fa-f]{2})/g;

/** Why the raw request path is not canonical, or undefined when it is. */
export function nonCanonical(rawPath) {
  const path = rawPath.split('?')[0];
  if (path.includes('\\')) return 'a backslash';
  // RFC 3986 path characters only (pchar and "/"): a raw "#" or space is not part of a path a rule can match.
  const stray = path.match(/[^A-Za-z0-9\-._~!$&'()*+,;=:@%/]/);
  if (stray) return `a character outside the path syntax (${JSON.stringify(stray[0])})`;
  if (path.includes('//')) return 'an empty segment (//)';
  if (path.split('/').some((s) => s === '.' || s === '..')) return 'a dot segment (. or ..)';
  for (const [, hex] of path.matchAll(PERCENT)) {
    if (UNRESERVED.test(String.fromCharCode(Number.parseInt(hex, 16)))) return `a percent-encoded unreserved character (%${hex})`;
  }
  return undefined;
}

/** The path as the client sent it: node:http's request target, or the Lambda event's path (ALB, API Gateway). */
function rawPathOf(c) {
  return c.env?.incoming?.url ?? c.env?.event?.rawPath ?? c.env?.event?.path ?? new URL(c.req.url).pathname;
}

function requestIdOf(c) {
  const event = c.env?.event;
  if (event?.requestContext?.requestId) return event.requestContext.requestId; // API Gateway
  if (c.env?.lambdaContext?.awsRequestId) return c.env.lambdaContext.awsRequestId; // ALB
  const given = c.req.header('x-request-id');
  return given && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
}

function errorBody(c, code, message, extra = {}) {
  return { error: code, message, ...extra, requestId: c.get('requestId') };
}

/**
 * deps: { store, cache, sessions, logger, metrics, config, health, verifier? } (verifier: built from config.auth)
 * Each route sets its own label (c.set('route', ...)): that label is the
 * "route" metric dimension and log field, so it must stay low-cardinality.
 */
export function createApp(deps) {
  const { logger, metrics } = deps;
  const requestLog = deps.requestLog ?? new RequestLog({ logger, metrics });
  const verifier = deps.verifier ?? createVerifier(deps.config.auth);
  const app = new Hono();

  app.use('*', async (c, next) => {
    const started = performance.now();
    const requestId = requestIdOf(c);
    c.set('requestId', requestId);
    // Set before the handler builds its response: a header added to a finished response makes Hono re-create
    // it around a stream body (an undici Response and a web stream per request in the bench/ profile), which the
    // local server must then pump chunk by chunk. Every response (routes, notFound, onError, 413) is built by
    // c.json and keeps it.
    c.header('x-request-id', requestId);
    const m = metrics.begin();
    c.set('metrics', m);
    c.set('route', 'UNMATCHED');
    c.set('verifier', verifier);
    await next();
    const status = c.res.status;
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    const route = c.get('route');
    m.add('RequestCount', 1);
    m.add('Latency', durationMs);
    m.add('ServerErrors', status >= 500 ? 1 : 0);
    m.add('ClientErrors', status >= 400 && status < 500 ? 1 : 0);
    // One log line and one EMF line (src/metrics-contract.json), written together: see RequestLog.
    requestLog.write(m, { requestId, route, status, durationMs, method: c.req.method, path: c.req.path });
  });

  app.use('*', (c, next) => {
    const why = nonCanonical(rawPathOf(c));
    if (why === undefined) return next();
    c.set('route', 'NON_CANONICAL_PATH');
    return c.json(errorBody(c, 'non_canonical_path', `path: not in canonical form (${why}); send the path as the API documents it`,
      { field: 'path' }), 400);
  });

  const tooLarge = (c) => c.json(errorBody(c, 'payload_too_large', `body: larger than ${MAX_BODY_BYTES} bytes`, { field: 'body' }), 413);
  const limitBody = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge });
  app.use('*', (c, next) => {
    const method = c.req.method;
    // A GET or HEAD request never has a body (fetch semantics, every entry point): bodyLimit would only call
    // next(). On the local server, merely reading `c.req.raw.body` builds a full web Request (AbortController,
    // web stream) per request, and the route must then read the body through it (bench/: the largest
    // avoidable cost of a cached read and of a reservation).
    if (method === 'GET' || method === 'HEAD') return next();
    // Local server (@hono/node-server passes `incoming`): every other method has a body, so bodyLimit decides
    // on content-length alone when it is given without transfer-encoding. Same decision, taken here, keeps
    // node-server's direct body read. Lambda events and chunked bodies still go through bodyLimit.
    if (c.env?.incoming && c.req.header('transfer-encoding') === undefined) {
      const length = c.req.header('content-length');
      if (length !== undefined) return Number.parseInt(length || '0', 10) > MAX_BODY_BYTES ? tooLarge(c) : next();
    }
    return limitBody(c, next);
  });

  earlyShed(app, deps);
  waitingRoomRoutes(app, deps);
  healthRoutes(app, deps);
  productRoutes(app, deps);
  reservationRoutes(app, deps);
  sessionRoutes(app, deps);
  documentRoutes(app, deps);

  app.notFound((c) => {
    c.set('route', 'NOT_FOUND');
    return c.json(errorBody(c, 'not_found', `no route for ${c.req.method} ${c.req.path}`), 404);
  });

  const retryAfter = String(deps.config?.retryAfterSeconds ?? 1);
  // Every shed answer alike: the metrics, Retry-After, and a body naming the bound that refused.
  const shed = (c, message, reason) => {
    const m = c.get('metrics');
    m?.add('RequestsShed');
    if (c.get('route')?.includes('/reservations')) m?.add('ReservationsShed');
    c.header('retry-after', retryAfter);
    return c.json(errorBody(c, 'overloaded', message, { reason, retryAfterSeconds: Number(retryAfter) }), 503);
  };

  app.onError((err, c) => {
    if (err instanceof HttpError) {
      // Only our own overload answers are shedding (a 503 for unreachable signing keys is not).
      if (err.code === 'overloaded') return shed(c, err.message, err.extra.reason);
      return c.json(errorBody(c, err.code, err.message, err.extra), err.status, err.headers);
    }
    if (err instanceof ClientAbortError || clientGone(c)) {
      // The client hung up mid-body: nobody will read an answer and nothing is wrong with the server. 499 (the
      // nginx convention) keeps it out of ServerErrors; the log line says what happened, at INFO.
      logger.info('request aborted by the client', { [F.event]: 'request.aborted', [F.requestId]: c.get('requestId'), route: c.get('route') });
      return c.json(errorBody(c, 'client_aborted', err.message), 499);
    }
    if (isShed(err)) return shed(c, 'too many concurrent requests, retry shortly', shedReason(err));
    if (UNAVAILABLE.has(err.code) || CONNECTION_LOST.test(err.message ?? '')) {
      logger.error('dependency unavailable', { [F.event]: 'dependency.unavailable', [F.requestId]: c.get('requestId'), error: err });
      c.header('retry-after', retryAfter);
      return c.json(errorBody(c, 'service_unavailable', 'a dependency is not reachable, retry shortly'), 503);
    }
    logger.error('unhandled error', { [F.event]: 'request.error', [F.requestId]: c.get('requestId'), error: err });
    return c.json(errorBody(c, 'internal_error', 'internal error'), 500);
  });

  return app;
}

// Public and the same for everyone: cacheable by browsers and the edge for 5 minutes (a deploy changes it).
const DOCUMENT_CACHE = 'public, max-age=300';

function documentRoutes(app, { config }) {
  let text; // built on first request
  route(app, ROUTES.openapi, (c) => {
    text ??= JSON.stringify(openApiDocument());
    c.header('cache-control', DOCUMENT_CACHE);
    return c.body(text, 200, { 'Content-Type': 'application/json' });
  });
  // A page for humans (Swagger UI, its script and style from a CDN): only where API_DOCS=true (npm run dev sets
  // it); a deployed API serves the document alone, and its page would load third-party script on the API's origin.
  if (config?.apiDocs) {
    const page = swaggerUI({ url: '/api/openapi.json', title: 'Catalog API' });
    app.get('/api/docs', (c, next) => {
      c.set('route', 'GET /api/docs');
      return page(c, next);
    });
  }
}
