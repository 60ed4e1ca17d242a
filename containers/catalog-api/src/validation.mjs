// What the route schemas (src/contract.mjs, zod) cannot say, and the bridge from a zod failure to the API's
// error: each failure names the field. Unknown body fields are refused too: a typo like "quantitiy" must not
// silently become 1.
import { HttpError, badRequest } from './errors.mjs';

export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const CATEGORY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 _-]{0,63}$/;
export const KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;
export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const LIMITS = Object.freeze({
  pageDefault: 20,
  pageMax: 100,
  reservationMax: 10, // per request: a flash sale caps what one shopper can hold
  stockMax: 1_000_000,
  shardsMax: 64, // stock shards per SKU (migrations/010: shard 0-63)
  reasonMax: 200,
  sessionDataMax: 2048,
});

export function encodeCursor(lastSku) {
  return Buffer.from(JSON.stringify({ k: lastSku })).toString('base64url');
}

/** The SKU inside a cursor this API returned, or undefined when it is not one. */
export function decodeCursor(raw) {
  try {
    if (raw.length > 200 || !/^[A-Za-z0-9_-]+$/.test(raw)) return undefined;
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    return typeof parsed?.k === 'string' && SKU_PATTERN.test(parsed.k) ? parsed.k : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Hand-written because a schema sees one value per name: queries is Hono's c.req.queries() (every name with all
 * its values, so a repeated name is visible; the Lambda adapter turns ALB and API Gateway
 * multiValueQueryStringParameters into the same repeated names).
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

/**
 * value checked by a zod schema; the first problem becomes a 400 naming its field. Which problem is first is the
 * API's rule, not zod's order: an unknown field, then a cross-field rule of the route (`rule`, hand-written:
 * JSON Schema's oneOf cannot name the field the API names), then a missing required field, then the rest in the
 * schema's order.
 */
export function checked(schema, value, rule) {
  const result = schema.safeParse(value);
  const issues = result.success ? [] : result.error.issues;
  const unknown = issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown) throw badRequest(unknown.keys[0], 'is not a known field');
  rule?.(value);
  if (result.success) return result.data;
  const first = issues.find((i) => i.message === 'is required') ?? issues[0];
  throw badRequest(String(first.path[0] ?? 'body'), first.message);
}

/** Restock: exactly one of available (set) / add (increment), or shards alone (re-shard keeping the total). */
export function restockRule(body) {
  const hasSet = body.available !== undefined;
  const hasAdd = body.add !== undefined;
  if (hasSet && hasAdd) throw badRequest('available', 'give exactly one of "available" (set) or "add" (increment)');
  if (!hasSet && !hasAdd && body.shards === undefined) {
    throw badRequest('available', 'give exactly one of "available" (set) or "add" (increment), or "shards" alone (re-shard)');
  }
}

/** The restock body (already checked) as the store's input. */
export function restockInput(body) {
  const reason = body.reason ?? '';
  const { shards } = body;
  if (body.available !== undefined) return { mode: 'set', value: body.available, shards, reason };
  if (body.add !== undefined) return { mode: 'add', value: body.add, shards, reason };
  return { mode: 'add', value: 0, shards, reason };
}
