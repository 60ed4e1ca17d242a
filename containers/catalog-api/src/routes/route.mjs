// Register a handler together with its route label: the label is the "route"
// metric dimension and log field, so it is the path template, never the raw
// path (one SKU per dimension value would explode CloudWatch cardinality).
//
// Every route is a route of the contract (src/contract.mjs): who may call it, its parameters and body. The checks
// run before the handler, in this order: identity (401/403), query (400), body media type (415), path parameters,
// body (400). So an unauthenticated or malformed request never reaches code that writes.
import { forbidden } from '../auth.mjs';
import * as v from '../validation.mjs';

const READS = new Set(['GET', 'HEAD']);

/**
 * def: a route of the contract (src/contract.mjs): method, path ({name} parameters), x-catalog-auth
 *   ('public' | 'user' (any verified token) | a role name such as 'admin'), request { params, query, body }.
 * options.rule: a hand-written cross-field check of the body (see validation.checked).
 * Handlers read c.get('identity') ({ sub, role } from the verified token, or null on public routes) and
 * c.get('valid'): { params, query, body } as the schemas returned them.
 */
export function route(app, def, handler, options = {}) {
  const method = def.method.toUpperCase();
  const path = def.path.replace(/\{([a-zA-Z]+)\}/g, ':$1');
  const label = `${method} ${def.path}`;
  const auth = def['x-catalog-auth'] ?? (READS.has(method) ? 'public' : 'user');
  const { params, query, body } = def.request ?? {};
  const allowedQuery = query ? Object.keys(query.shape) : [];
  const bodySchema = body?.content['application/json'].schema;
  app.on(method, path, async (c) => {
    c.set('route', label);
    c.set('identity', null);
    if (auth !== 'public') {
      const identity = await c.get('verifier').verify(c.req.header('authorization'));
      if (auth !== 'user' && identity.role !== auth) throw forbidden(auth);
      c.set('identity', identity);
    }
    const given = v.strictQuery(c.req.queries(), allowedQuery);
    const valid = { query: query ? v.checked(query, given) : {} };
    if (!READS.has(method)) v.jsonMediaType(c.req.header('content-type'));
    valid.params = params ? v.checked(params, c.req.param()) : {};
    if (bodySchema) valid.body = v.checked(bodySchema, await jsonBody(c, { optional: !body.required }), options.rule);
    c.set('valid', valid);
    return handler(c);
  });
}

/**
 * The request body as a JSON object (empty allowed only with `optional`). A body without any Content-Type is
 * refused like a wrong one; a client that hangs up while sending it is a ClientAbortError, not a server error.
 */
export async function jsonBody(c, { optional = false } = {}) {
  let text;
  try {
    text = await c.req.text();
  } catch (err) {
    const incoming = c.env?.incoming;
    if (incoming && (incoming.aborted || incoming.destroyed || incoming.errored)) throw new ClientAbortError(err);
    throw err;
  }
  if (text !== '' && c.req.header('content-type') === undefined) v.jsonMediaType('');
  return v.parseJsonObject(text, { optional });
}

export class ClientAbortError extends Error {
  constructor(cause) {
    super('client closed the connection before the request body was complete', { cause });
    this.name = 'ClientAbortError';
  }
}

/** Set x-cache and count hits/misses for a read-through result. */
export function noteCache(c, source) {
  const m = c.get('metrics');
  if (source === 'database') {
    m.add('CacheMisses');
    c.header('x-cache', 'miss');
  } else {
    m.add('CacheHits');
    if (source === 'local') m.add('LocalCacheHits');
    c.header('x-cache', `hit-${source}`);
  }
}
