// Helpers for CloudFront's header map: lowercase keys, each an array of {key, value}.

// Headers that only the edge may set. A viewer must never be able to smuggle an identity
// (x-catalog-user/role) or the CloudFront-to-ALB shared secret (x-origin-verify) to the API.
const INTERNAL_PREFIX = 'x-catalog-';
const INTERNAL_EXACT = new Set(['x-origin-verify']);

export function isInternalHeader(name) {
  const lower = String(name).toLowerCase();
  return lower.startsWith(INTERNAL_PREFIX) || INTERNAL_EXACT.has(lower);
}

/** Deletes every internal header in place; returns the names removed (for tests and logs). */
export function stripInternalHeaders(headers) {
  const removed = [];
  if (!headers || typeof headers !== 'object') return removed;
  for (const name of Object.keys(headers)) {
    if (isInternalHeader(name)) {
      delete headers[name];
      removed.push(name);
    }
  }
  return removed;
}

/** All values of a header (CloudFront keys are lowercase already; lower ours to match). */
export function headerValues(headers, name) {
  const entries = headers?.[name.toLowerCase()];
  if (!Array.isArray(entries)) return [];
  return entries.map((entry) => entry?.value);
}

export function setHeader(headers, key, value) {
  headers[key.toLowerCase()] = [{ key, value }];
}
