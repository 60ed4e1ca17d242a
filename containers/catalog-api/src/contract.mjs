// The API's contract: one zod schema per route (path parameters, query, body, every response with its error
// bodies). src/routes/route.mjs validates requests with these very schemas and the OpenAPI 3.1 document
// (GET /api/openapi.json) is generated from them, so the two cannot disagree. Messages are the API's own
// ("<field>: <problem>"): each schema carries the text a client gets.
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { JOIN_DAYS } from './waiting-room-config.mjs';
import { LIMITS, SKU_PATTERN, CATEGORY_PATTERN, KEY_PATTERN, UUID_PATTERN, decodeCursor } from './validation.mjs';

// --- inputs ---------------------------------------------------------------------------------------------------

/** An integer in [min, max] with the API's two messages (a missing required one says so). */
const intIn = (min, max) => z.number({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be an integer') })
  .int({ error: 'must be an integer' })
  .min(min, { error: `must be between ${min} and ${max}` })
  .max(max, { error: `must be between ${min} and ${max}` });

const Sku = z.string().regex(SKU_PATTERN, { error: 'must be 1-64 letters, digits, "-" or "_", starting with a letter or digit' })
  .openapi({ example: 'SKU-000001', description: 'product SKU' });
const ReservationId = z.string().regex(UUID_PATTERN, { error: 'must be a reservation id (UUID)' })
  .openapi({ format: 'uuid', example: '7f1d2c4e-8a8b-4c65-9f1e-2d8d1c3b4a5f' });

const SkuParams = z.object({ sku: Sku.openapi({ param: { name: 'sku', in: 'path' } }) });
const ReservationParams = z.object({
  sku: Sku.openapi({ param: { name: 'sku', in: 'path' } }),
  id: ReservationId.openapi({ param: { name: 'id', in: 'path' } }),
});

const ListQuery = z.object({
  category: z.string().regex(CATEGORY_PATTERN, { error: 'must be 1-64 letters, digits, spaces, "-" or "_"' }).optional()
    .openapi({ param: { name: 'category', in: 'query' }, example: 'books' }),
  // Query values are strings: digits only (no sign, exponent or spaces), then the range.
  limit: z.string().regex(/^\d{1,9}$/, { error: 'must be an integer' }).transform(Number)
    .pipe(intIn(1, LIMITS.pageMax)).optional()
    .openapi({ param: { name: 'limit', in: 'query' }, type: 'integer', minimum: 1, maximum: LIMITS.pageMax, default: LIMITS.pageDefault }),
  cursor: z.string().transform((raw, ctx) => {
    const sku = decodeCursor(raw);
    if (sku === undefined) ctx.addIssue({ code: 'custom', message: 'is not a cursor returned by this API' });
    return sku;
  }).optional().openapi({
    param: { name: 'cursor', in: 'query' }, type: 'string', maxLength: 200, pattern: '^[A-Za-z0-9_-]+$',
    description: 'the opaque nextCursor of the previous page',
  }),
});

export const ReservationBody = z.strictObject({
  quantity: intIn(1, LIMITS.reservationMax).openapi({ description: `units to hold (1-${LIMITS.reservationMax} per request)` }),
  idempotencyKey: z.string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be 8-128 characters of letters, digits, "_", ".", ":" or "-"') })
    .regex(KEY_PATTERN, { error: 'must be 8-128 characters of letters, digits, "_", ".", ":" or "-"' })
    .openapi({
      example: 'order-7f1d2c4e-1',
      description: 'The client\'s key for this reservation (the body field; there is no Idempotency-Key header). '
        + 'The same token subject sending the same key again for the same SKU and quantity gets the first '
        + 'reservation back (200, replayed: true, header idempotent-replayed: true) and nothing more is held; the '
        + 'same key with another SKU or quantity, or from another subject, is 422 idempotency_key_reused. Keys are kept '
        + 'with the reservation (they outlive its expiry).',
    }),
});

// Order matters for which problem is reported first: reason, shards, then the amount (as the API always did).
export const RestockBody = z.strictObject({
  reason: z.string({ error: `must be a string of at most ${LIMITS.reasonMax} characters` })
    .max(LIMITS.reasonMax, { error: `must be a string of at most ${LIMITS.reasonMax} characters` })
    // PostgreSQL text cannot hold a NUL character (the audit row would fail with a 500).
    .regex(/^[^\u0000]*$/, { error: 'must not contain a NUL character (U+0000)' }).nullable().optional()
    .openapi({ description: 'free text for the audit row' }),
  shards: intIn(1, LIMITS.shardsMax).optional().openapi({ description: 'stock shards of the SKU after this call' }),
  available: intIn(0, LIMITS.stockMax).optional().openapi({ description: 'set the total to this' }),
  add: intIn(1, LIMITS.stockMax).optional().openapi({ description: 'add this to the total' }),
}).openapi({
  description: 'Exactly one of available (set) or add (increment), or shards alone (re-shard keeping the total).',
  // The rule itself is checked by validation.restockRule (the API names "available" as the field at fault).
  anyOf: [{ required: ['available'] }, { required: ['add'] }, { required: ['shards'] }],
  not: { required: ['available', 'add'] },
});

const EmptyBody = z.strictObject({}).openapi({ description: 'no input: an empty body or {}' });

export const SessionBody = z.strictObject({
  data: z.record(z.string(), z.unknown(), { error: 'must be a JSON object' })
    .refine((d) => JSON.stringify(d).length <= LIMITS.sessionDataMax, { error: `must serialize to at most ${LIMITS.sessionDataMax} characters` })
    .optional().openapi({ description: `free data, at most ${LIMITS.sessionDataMax} characters as JSON` }),
});

// --- outputs --------------------------------------------------------------------------------------------------

const Timestamp = z.string().openapi({ format: 'date-time' });

const Product = z.object({
  sku: z.string(), name: z.string(), description: z.string().nullable(), category: z.string().nullable(),
  priceCents: z.int(), currency: z.string(), updatedAt: Timestamp,
}).openapi('ProductSummary');
const ProductDetail = Product.extend({ available: z.int() }).openapi('Product');
const Page = z.object({ items: z.array(Product), nextCursor: z.string().nullable() }).openapi('ProductPage');
const Inventory = z.object({ sku: z.string(), available: z.int(), reserved: z.int(), shards: z.int(), asOf: Timestamp })
  .openapi('Inventory');
const Reservation = z.object({
  id: z.string().openapi({ format: 'uuid' }), sku: z.string(), quantity: z.int(), idempotencyKey: z.string(),
  status: z.enum(['active', 'cancelled', 'confirmed', 'expired']), createdAt: Timestamp, expiresAt: Timestamp,
}).openapi('Reservation');
const ReservationResult = z.object({ reservation: Reservation, replayed: z.boolean() }).openapi('ReservationResult');
const Restocked = z.object({
  sku: z.string(), previousAvailable: z.int(), available: z.int(), previousShards: z.int(), shards: z.int(),
  updatedAt: Timestamp, auditId: z.union([z.int(), z.string()]),
}).openapi('Restocked');
const Session = z.object({ session: z.object({ userId: z.string().nullable(), data: z.record(z.string(), z.unknown()), createdAt: Timestamp, expiresAt: Timestamp }) })
  .openapi('SessionResult');

// The waiting room (src/waiting-room.mjs): a shopper's standing, leaving, the shared state.
const QueueStanding = z.object({
  sku: z.string(),
  ticket: z.string().openapi({ description: 'signed queue ticket: send it back as x-queue-ticket when polling' }),
  admitted: z.boolean(),
  position: z.int().nullable().optional().openapi({ description: 'place in line (1 = next); null before the sale start (places are drawn then)' }),
  estimatedWaitSeconds: z.int().nullable().optional().openapi({ description: 'position / admission rate; null before the start' }),
  retryAfterSeconds: z.int().optional().openapi({ description: 'poll again after this many seconds (also the Retry-After header)' }),
  opensAt: Timestamp.optional().openapi({ description: 'before the sale start: when the queue opens' }),
  message: z.string().optional(),
  pass: z.string().optional().openapi({ description: 'admitted: the admission pass to send as x-admission-pass when reserving' }),
  passExpiresAt: Timestamp.optional(),
}).openapi('QueueStanding');
const QueueLeft = z.object({
  sku: z.string(), left: z.literal(true), admitted: z.boolean().openapi({ description: 'the ticket had been admitted (its pass is now revoked)' }),
  slotReturned: z.boolean().openapi({ description: 'its slot went back to the cap on active shoppers' }),
  replayed: z.boolean().openapi({ description: 'true when the shopper had left already' }),
}).openapi('QueueLeft');
const QueueState = z.object({
  sku: z.string(), queued: z.int(), admittedTotal: z.int(),
  ratePerSecond: z.number().openapi({ description: 'admissions per second now (lowered from the configured rate while the API sheds)' }),
  soldOut: z.boolean(), opensAt: Timestamp.nullable(), updatedAt: Timestamp.nullable(),
}).openapi('QueueState');

/** Every answer that is not a 2xx: the code, a message naming the field first, and the request id. */
export const ErrorBody = z.object({
  error: z.string().openapi({ description: 'machine-readable code: validation_error, not_found, unauthorized, invalid_token, forbidden, ...' }),
  message: z.string(),
  field: z.string().optional().openapi({ description: 'the input at fault (a body field, query parameter, path parameter, header or "body")' }),
  requestId: z.string(),
}).catchall(z.unknown()).openapi('Error', { description: 'Extra members by code: sold_out has sku, requested, available; '
  + 'reservation_<state> has state and reservation; overloaded has reason and retryAfterSeconds.' });

const json = (schema) => ({ 'application/json': { schema } });
const err = (description, headers) => ({ description, content: json(ErrorBody), ...(headers ? { headers } : {}) });
const RETRY_AFTER = { 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer' } } };
const REPLAYED = { 'idempotent-replayed': { description: '"true" when this answer replays an earlier one', schema: { type: 'string' } } };
const CHALLENGE = { 'WWW-Authenticate': { description: 'RFC 6750 challenge (realm "catalog"; error="invalid_token" for a bad token)', schema: { type: 'string' } } };

const QUEUE_RETRY = { 'Retry-After': { description: 'seconds until the next poll is worth making', schema: { type: 'integer' } } };
const NOT_QUEUED = err('not_queued: this SKU is not sold through the waiting room (reserve it directly)');
const QUEUE_GONE = 'sold_out (the room is closed: a restock reopens it), queue_left (the shopper left: final), or '
  + 'queue_turn_expired (admitted, and the pass lifetime is over: nobody is admitted twice)';
const E400 = err('validation_error naming the field (unknown or repeated query parameter, bad path parameter, bad body), or non_canonical_path');
const E404 = err('not_found: no such product or reservation, or no route for this path');
const E503 = err('service_unavailable (a dependency or the token signing keys are not reachable) or overloaded (a bound refused; nothing was written), with Retry-After', RETRY_AFTER);
const E500 = err('internal_error');
const WRITE_ERRORS = {
  401: err('unauthorized (no bearer token) or invalid_token', CHALLENGE),
  413: err(`payload_too_large: body over ${16 * 1024} bytes`),
  415: err('unsupported_media_type: Content-Type must be application/json (charset utf-8 if given)'),
};
// 429 never comes from the API itself: the fronts answer it before the request reaches it.
const RateLimited = z.object({
  error: z.string().optional().openapi({ description: 'rate_limited (the web ACLs)' }),
  message: z.string(),
  retryAfterSeconds: z.int().optional(),
}).catchall(z.unknown()).openapi('RateLimited');
const EDGE_429 = {
  429: {
    description: 'rate_limited, answered in front of the API: the CloudFront web ACL per client IP (600 requests a '
      + 'minute on every path and 60 reservation requests a minute by default: the edge layer\'s wafRateLimit and '
      + 'wafReservationRateLimit) and the API Gateway web ACL per client IP (apiWafRateLimit), with Retry-After '
      + '(the evaluation window) and {"error":"rate_limited","message","retryAfterSeconds"}; through API Gateway '
      + 'also the stage and usage-plan throttle (10,000 requests/s, burst 5,000 by default), whose body is '
      + 'API Gateway\'s own {"message":"Too Many Requests"}',
    content: json(RateLimited),
    headers: RETRY_AFTER,
  },
};

const BEARER = [{ bearerAuth: [] }];

/**
 * A route of the contract. auth: 'public' | 'user' (any verified token) | a role. The document carries it as
 * `security` and `x-catalog-auth`; route.mjs enforces it from the same field.
 */
function op({ auth, ...def }) {
  const needsToken = auth !== 'public';
  const who = auth === 'public' ? 'Public.' : auth === 'user' ? 'Needs a bearer JWT (any verified user).' : `Needs a bearer JWT whose role claim is "${auth}".`;
  return createRoute({
    ...def,
    description: `${who} ${def.description ?? ''}`.trim(),
    ...(needsToken ? { security: BEARER } : { security: [] }),
    'x-catalog-auth': auth,
    responses: {
      ...def.responses,
      400: E400,
      ...(needsToken ? { 401: WRITE_ERRORS[401] } : {}),
      ...(def.method === 'get' ? {} : { 413: WRITE_ERRORS[413], 415: WRITE_ERRORS[415] }),
      ...EDGE_429,
      500: E500,
      503: E503,
    },
  });
}

export const ROUTES = {
  health: op({
    method: 'get', path: '/health', operationId: 'health', tags: ['health'], auth: 'public', summary: 'liveness (no I/O)',
    responses: { 200: { description: 'alive', content: json(z.object({ status: z.literal('ok') })) } },
  }),
  ready: op({
    method: 'get', path: '/health/ready', operationId: 'ready', tags: ['health'], auth: 'public',
    summary: 'readiness: the writer, the reader and both tables answer (2 s each)',
    responses: {
      200: { description: 'ready', content: json(z.object({ status: z.string(), checks: z.record(z.string(), z.string()) })) },
    },
  }),
  openapi: op({
    method: 'get', path: '/api/openapi.json', operationId: 'openapi', tags: ['meta'], auth: 'public',
    summary: 'this document (cacheable)',
    responses: { 200: { description: 'the OpenAPI 3.1 document', content: json(z.object({ openapi: z.string() }).catchall(z.unknown())) } },
  }),
  listProducts: op({
    method: 'get', path: '/api/products', operationId: 'listProducts', tags: ['products'], auth: 'public',
    summary: 'products by SKU, keyset-paginated', request: { query: ListQuery },
    responses: { 200: { description: 'a page; nextCursor is null on the last one', content: json(Page) } },
  }),
  getProduct: op({
    method: 'get', path: '/api/products/{sku}', operationId: 'getProduct', tags: ['products'], auth: 'public',
    summary: 'a product with its stock at read time (cached; may lag)', request: { params: SkuParams },
    responses: { 200: { description: 'the product', content: json(ProductDetail) }, 404: E404 },
  }),
  getInventory: op({
    method: 'get', path: '/api/products/{sku}/inventory', operationId: 'getInventory', tags: ['products'], auth: 'public',
    summary: 'fresh stock from the database (Cache-Control: no-store)', request: { params: SkuParams },
    responses: { 200: { description: 'stock now', content: json(Inventory) }, 404: E404 },
  }),
  reserve: op({
    method: 'post', path: '/api/products/{sku}/reservations', operationId: 'reserve', tags: ['reservations'], auth: 'user',
    summary: 'hold units for the token subject (expires unless confirmed)',
    request: {
      params: SkuParams,
      headers: z.object({
        'x-admission-pass': z.string().optional().openapi({ description: 'required for a SKU behind the waiting room: the pass its '
          + 'queue answered once admitted (bound to the token subject and the SKU, valid until passExpiresAt; one reservation '
          + 'per admission: the first reservation claims it for its idempotencyKey, and a retry with that key is let '
          + 'through, also after a failure (409, 503))' }),
      }),
      body: { required: true, content: json(ReservationBody) },
    },
    responses: {
      201: { description: 'reserved', content: json(ReservationResult), links: {
        cancel: { operationId: 'cancelReservation', parameters: { sku: '$request.path.sku', id: '$response.body#/reservation/id' } },
        confirm: { operationId: 'confirmReservation', parameters: { sku: '$request.path.sku', id: '$response.body#/reservation/id' } },
      } },
      200: { description: 'replayed: the same subject sent this idempotencyKey before for the same SKU and quantity', content: json(ReservationResult), headers: REPLAYED },
      404: E404,
      403: err('a SKU behind the waiting room refused the x-admission-pass: admission_pass_invalid (forged, altered, or a '
        + 'queue ticket), admission_pass_other_shopper, admission_pass_other_sku, admission_pass_expired, '
        + 'admission_pass_revoked (the shopper left the queue), admission_pass_used (a reservation with another idempotencyKey claimed it)'),
      409: err('sold_out: not enough stock (available is the SKU\'s total)'),
      422: err('idempotency_key_reused: the key was used for another SKU or quantity, or by another subject'),
      428: err('admission_pass_required: the SKU is sold through the waiting room; join its queue and send the pass'),
    },
  }),
  cancelReservation: op({
    method: 'delete', path: '/api/products/{sku}/reservations/{id}', operationId: 'cancelReservation', tags: ['reservations'], auth: 'user',
    summary: 'cancel (owner only): the units go back; repeating it replays', request: { params: ReservationParams, body: { required: false, content: json(EmptyBody) } },
    responses: {
      200: { description: 'cancelled (replayed: true when it already was)', content: json(ReservationResult), headers: REPLAYED },
      403: err('forbidden: not the reservation\'s owner'), 404: E404,
      409: err('reservation_expired or reservation_confirmed, with state'),
    },
  }),
  confirmReservation: op({
    method: 'post', path: '/api/products/{sku}/reservations/{id}/confirm', operationId: 'confirmReservation', tags: ['reservations'], auth: 'user',
    summary: 'checkout (owner only): the reservation becomes an order line; repeating it replays', request: { params: ReservationParams, body: { required: false, content: json(EmptyBody) } },
    responses: {
      200: { description: 'confirmed (replayed: true when it already was)', content: json(ReservationResult), headers: REPLAYED },
      403: err('forbidden: not the reservation\'s owner'), 404: E404,
      409: err('reservation_expired or reservation_cancelled, with state'),
    },
  }),
  joinQueue: op({
    method: 'post', path: '/api/products/{sku}/queue', operationId: 'joinQueue', tags: ['waiting room'], auth: 'user',
    summary: 'join the waiting room of a SKU (one ticket per token subject and SKU)',
    request: { params: SkuParams, body: { required: false, content: json(EmptyBody) } },
    responses: {
      201: { description: 'joined: the ticket and the standing', content: json(QueueStanding), headers: QUEUE_RETRY },
      200: { description: 'joined before: the same ticket and the standing now', content: json(QueueStanding), headers: QUEUE_RETRY },
      404: NOT_QUEUED,
      410: err(`${QUEUE_GONE}; queue_closed (the room has taken joins for ${JOIN_DAYS} days since it opened: no new ticket)`),
    },
  }),
  queueStanding: op({
    method: 'get', path: '/api/products/{sku}/queue', operationId: 'queueStanding', tags: ['waiting room'], auth: 'user',
    summary: 'the shopper\'s standing: position and estimated wait, or the admission pass (an HTML page for a browser)',
    request: {
      params: SkuParams,
      headers: z.object({
        'x-queue-ticket': z.string().optional().openapi({ description: 'the ticket the join answered: the standing is then '
          + 'computed from the shared room state alone' }),
      }),
    },
    responses: {
      200: {
        description: 'the standing (Cache-Control: private, no-store); a request preferring text/html gets a page that polls '
          + 'this JSON as Retry-After says. Polling earlier than told answers the same state.',
        content: { ...json(QueueStanding), 'text/html': { schema: z.string() } },
        headers: QUEUE_RETRY,
      },
      403: err('queue_ticket_invalid, queue_ticket_other_shopper or queue_ticket_other_sku (x-queue-ticket)'),
      404: err('not_queued (the SKU is not behind the waiting room) or not_in_queue (no ticket: join first)'),
      410: err(QUEUE_GONE),
    },
  }),
  leaveQueue: op({
    method: 'delete', path: '/api/products/{sku}/queue', operationId: 'leaveQueue', tags: ['waiting room'], auth: 'user',
    summary: 'leave the queue (final): a waiting ticket leaves the line; an admitted shopper\'s pass is revoked and its slot returned',
    request: { params: SkuParams, body: { required: false, content: json(EmptyBody) } },
    responses: {
      200: { description: 'left (replayed: true when the shopper had left already)', content: json(QueueLeft) },
      404: err('not_queued (the SKU is not behind the waiting room) or not_in_queue (no ticket)'),
    },
  }),
  queueState: op({
    method: 'get', path: '/api/products/{sku}/queue/state', operationId: 'queueState', tags: ['waiting room'], auth: 'public',
    summary: 'the waiting room\'s shared state (Cache-Control: public, max-age=1)', request: { params: SkuParams },
    responses: { 200: { description: 'the room now', content: json(QueueState) }, 404: NOT_QUEUED },
  }),
  restock: op({
    method: 'put', path: '/api/products/{sku}/inventory', operationId: 'restock', tags: ['products'], auth: 'admin',
    summary: 'restock and/or re-shard, with an audit row (actor: the token subject)',
    request: { params: SkuParams, body: { required: true, content: json(RestockBody) } },
    responses: {
      200: { description: 'the new stock', content: json(Restocked) },
      403: err('forbidden: the admin role is required'), 404: E404,
    },
  }),
  createSession: op({
    method: 'post', path: '/api/sessions', operationId: 'createSession', tags: ['sessions'], auth: 'user',
    summary: 'a session for the token subject, set as the catalog_session cookie',
    request: { body: { required: false, content: json(SessionBody) } },
    responses: { 201: { description: 'created; Set-Cookie catalog_session (HttpOnly, Secure, SameSite=Lax)', content: json(Session) } },
  }),
  currentSession: op({
    method: 'get', path: '/api/sessions/current', operationId: 'currentSession', tags: ['sessions'], auth: 'public',
    summary: 'the session named by the catalog_session cookie',
    responses: {
      200: { description: 'the session', content: json(Session) },
      401: err('no_session: no valid session cookie (absent, unknown or expired)'),
    },
  }),
};

export const DOCUMENT_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'Catalog API',
    version: '1.0.0',
    description: [
      'Products, fresh stock, flash-sale reservations that never oversell, restocks, sessions.',
      '',
      'Errors are always JSON `{"error","message","field"?,"requestId"}`; `field` names the input at fault. Unknown body '
        + 'fields, unknown query parameters and a query parameter given twice are 400; a body that is not '
        + 'application/json is 415; bodies over 16 KiB are 413. A refused request writes nothing.',
      '',
      'Authentication: `Authorization: Bearer <JWT>` (RS256 or ES256; issuer, audience, exp and sub checked). Reads are '
        + 'public; every write needs a verified token; restock needs the admin role (`x-catalog-auth` on each operation '
        + 'says which). Identity comes from the token only, never from another header.',
      '',
      'Retries: a 503 (overloaded or service_unavailable) carries Retry-After and wrote nothing; a reservation is safe to '
        + 'retry with the same idempotencyKey. In front of the API, the web ACLs (CloudFront, API Gateway) answer 429 '
        + 'with Retry-After when a client IP exceeds their rate limits, and API Gateway throttles partners per stage '
        + 'and usage plan (see each operation\'s 429).',
    ].join('\n'),
  },
};

export const SECURITY_SCHEMES = {
  bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a JWT from the configured issuer (role claim: "role" by default)' },
};

/** The OpenAPI 3.1 document of every route of the contract (the router serves exactly these: test/contract.test.mjs). */
export function openApiDocument() {
  const registry = new OpenAPIHono();
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) registry.openAPIRegistry.registerComponent('securitySchemes', name, scheme);
  for (const def of Object.values(ROUTES)) registry.openAPIRegistry.registerPath(def);
  return registry.getOpenAPI31Document(DOCUMENT_INFO);
}
