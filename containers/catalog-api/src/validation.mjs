// Every input is checked here, and each failure names the field. Unknown body
// fields are refused too: a typo like "quantitiy" must not silently become 1.
import { HttpError, badRequest } from './errors.mjs';

export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const CATEGORY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 _-]{0,63}$/;
const KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

export const LIMITS = Object.freeze({
  pageDefault: 20,
  pageMax: 100,
  reservationMax: 10, // per request: a flash sale caps what one shopper can hold
  stockMax: 1_000_000,
  shardsMax: 64, // stock shards per SKU (migrations/010: shard 0-63)
  reasonMax: 200,
  sessionDataMax: 2048,
});

export function sku(value) {
  if (typeof value !== 'string' || !SKU_PATTERN.test(value)) {
    throw badRequest('sku', 'must be 1-64 letters, digits, "-" or "_", starting with a letter or digit');
  }
  return value;
}

function integerIn(field, value, min, max) {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badRequest(field, 'must be an integer');
  if (value < min || value > max) throw badRequest(field, `must be between ${min} and ${max}`);
  return value;
}

function queryInteger(field, raw, fallback, min, max) {
  if (raw === undefined) return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw badRequest(field, 'must be an integer');
  return integerIn(field, Number(raw), min, max);
}

export function encodeCursor(lastSku) {
  return Buffer.from(JSON.stringify({ k: lastSku })).toString('base64url');
}

function decodeCursor(raw) {
  if (raw === undefined) return undefined;
  try {
    if (raw.length > 200 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw new Error('shape');
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (typeof parsed?.k !== 'string' || !SKU_PATTERN.test(parsed.k)) throw new Error('content');
    return parsed.k;
  } catch {
    throw badRequest('cursor', 'is not a cursor returned by this API');
  }
}

/**
 * queries: Hono's c.req.queries() (every name with all its values, so a repeated name is visible; the Lambda
 * adapter turns ALB and API Gateway multiValueQueryStringParameters into the same repeated names).
 * Refuses names the route does not take and names given twice; returns { name: value }.
 */
export function strictQuery(queries, allowed) {
  const out = {};
  for (const [name, values] of Object.entries(queries)) {
    if (!allowed.includes(name)) throw badRequest(name, 'is not a known query parameter');
    if (values.length !== 1) throw badRequest(name, 'is given more than once');
    out[name] = values[0];
  }
  return out;
}

/** application/json, with parameters (charset must then be utf-8): anything else is 415. */
export function jsonMediaType(header) {
  if (header === undefined) return;
  const [type, ...params] = header.split(';').map((p) => p.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice(8).replace(/^"|"$/g, '');
  if (type !== 'application/json' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw new HttpError(415, 'unsupported_media_type', `content-type: must be application/json, got "${header.slice(0, 100) || '(none)'}"`, { field: 'content-type' });
  }
}

export function listQuery(query) {
  const { category } = query;
  if (category !== undefined && !CATEGORY_PATTERN.test(category)) {
    throw badRequest('category', 'must be 1-64 letters, digits, spaces, "-" or "_"');
  }
  return {
    category,
    limit: queryInteger('limit', query.limit, LIMITS.pageDefault, 1, LIMITS.pageMax),
    afterSku: decodeCursor(query.cursor),
  };
}

/** Parse a JSON object body; an empty body is allowed only when `optional`. */
export function parseJsonObject(text, { optional = false } = {}) {
  if (text.trim() === '') {
    if (optional) return {};
    throw badRequest('body', 'a JSON object is required');
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest('body', 'is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('body', 'must be a JSON object');
  }
  return body;
}

function onlyFields(body, allowed) {
  const unknown = Object.keys(body).find((k) => !allowed.includes(k));
  if (unknown) throw badRequest(unknown, 'is not a known field');
}

export function reservationBody(body) {
  onlyFields(body, ['quantity', 'idempotencyKey']);
  if (body.quantity === undefined) throw badRequest('quantity', 'is required');
  if (body.idempotencyKey === undefined) throw badRequest('idempotencyKey', 'is required');
  const quantity = integerIn('quantity', body.quantity, 1, LIMITS.reservationMax);
  if (typeof body.idempotencyKey !== 'string' || !KEY_PATTERN.test(body.idempotencyKey)) {
    throw badRequest('idempotencyKey', 'must be 8-128 characters of letters, digits, "_", ".", ":" or "-"');
  }
  return { quantity, idempotencyKey: body.idempotencyKey };
}

/** { available } sets the total, { add } increments it, { shards } alone re-shards keeping the total; shards
 *  (1-64) may come with either, otherwise the SKU keeps its count (raised to the sale-ready default at >= 1,000). */
export function restockBody(body) {
  onlyFields(body, ['available', 'add', 'shards', 'reason']);
  const hasSet = body.available !== undefined;
  const hasAdd = body.add !== undefined;
  const hasShards = body.shards !== undefined;
  if (hasSet && hasAdd) throw badRequest('available', 'give exactly one of "available" (set) or "add" (increment)');
  if (!hasSet && !hasAdd && !hasShards) {
    throw badRequest('available', 'give exactly one of "available" (set) or "add" (increment), or "shards" alone (re-shard)');
  }
  const reason = body.reason ?? '';
  if (typeof reason !== 'string' || reason.length > LIMITS.reasonMax) {
    throw badRequest('reason', `must be a string of at most ${LIMITS.reasonMax} characters`);
  }
  const shards = hasShards ? integerIn('shards', body.shards, 1, LIMITS.shardsMax) : undefined;
  if (hasSet) return { mode: 'set', value: integerIn('available', body.available, 0, LIMITS.stockMax), shards, reason };
  if (hasAdd) return { mode: 'add', value: integerIn('add', body.add, 1, LIMITS.stockMax), shards, reason };
  return { mode: 'add', value: 0, shards, reason };
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Cancel and confirm take no input: an empty body or {} (any field is unknown). */
export function emptyBody(body) {
  onlyFields(body, []);
}

export function reservationId(value) {
  if (typeof value !== 'string' || !UUID_PATTERN.test(value)) throw badRequest('id', 'must be a reservation id (UUID)');
  return value.toLowerCase();
}

/** The session's user is the verified token's sub: a userId in the body is an unknown field. */
export function sessionBody(body) {
  onlyFields(body, ['data']);
  if (body.data !== undefined) {
    if (body.data === null || typeof body.data !== 'object' || Array.isArray(body.data)) {
      throw badRequest('data', 'must be a JSON object');
    }
    if (JSON.stringify(body.data).length > LIMITS.sessionDataMax) {
      throw badRequest('data', `must serialize to at most ${LIMITS.sessionDataMax} characters`);
    }
  }
  return { data: body.data ?? {} };
}
