// The response headers every viewer gets, shared by origin-response (origin replies) and
// viewer-request (the 401s it generates never reach the origin-response trigger).
// Keys are canonical header names; the CloudFront map key is their lowercase form.

// CSP for a static site that talks only to its own JSON API (/api/* on the same host):
// nothing third-party, no plugins, no framing, no inline script.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  'upgrade-insecure-requests',
].join('; ');

export const SECURITY_HEADERS = Object.freeze({
  // Two years, the minimum the HSTS preload list accepts with `preload`.
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains; preload',
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  // Legacy twin of frame-ancestors 'none' for browsers without CSP level 2.
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
});

// Fingerprinting headers the origin (S3, the ALB, Express) may add. Neither is on CloudFront's
// read-only list for origin-response events (that list is Transfer-Encoding and Via), so
// removing them passes CloudFront's validation of the function's result.
export const REMOVED_RESPONSE_HEADERS = Object.freeze(['server', 'x-powered-by']);

/** Writes SECURITY_HEADERS into a CloudFront header map, replacing any origin-sent value. */
export function applySecurityHeaders(headers) {
  for (const [key, value] of Object.entries(SECURITY_HEADERS)) {
    headers[key.toLowerCase()] = [{ key, value }];
  }
  return headers;
}
