// Origin-response trigger on every behavior (site and /api/*). It runs once per cache miss and
// its result is cached with the object, so everything here costs nothing on a hit.
//  - Every response: the security headers, and no fingerprinting headers.
//  - Site paths, status >= 400: the body becomes the site's own error page (bundled in the zip,
//    see error-pages/), status kept. This replaces CloudFront custom error responses, which are
//    distribution-wide and would also turn the API's JSON errors into HTML.
//  - /api/* paths: the API's own JSON errors pass untouched (status and body). An error without
//    a JSON body (the ALB's or CloudFront's own 502/503/504 HTML) gets a small JSON document
//    with the same status, so an API client always reads JSON.
import { REMOVED_RESPONSE_HEADERS, SECURITY_HEADERS, applySecurityHeaders } from './security-headers.mjs';
import { setHeader } from './cf-headers.mjs';
import { FALLBACK_PAGES, loadErrorPages, pageFor } from './error-pages.mjs';

export { REMOVED_RESPONSE_HEADERS, SECURITY_HEADERS };

export const API_PREFIX = '/api/';
export const HTML_TYPE = 'text/html; charset=utf-8';
export const JSON_TYPE = 'application/json';
// Protocol answers, not failures to show a page for (conditional and range requests).
const PASS_THROUGH_STATUSES = new Set([412, 416]);
// Describe the origin's body, which is replaced: sending them with the new body would be wrong.
const BODY_HEADERS = ['content-length', 'content-encoding', 'content-md5', 'etag', 'last-modified'];

const API_ERRORS = {
  400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed',
  408: 'request_timeout', 409: 'conflict', 413: 'payload_too_large', 414: 'uri_too_long', 429: 'too_many_requests',
  500: 'internal_error', 502: 'bad_gateway', 503: 'service_unavailable', 504: 'gateway_timeout',
};

export function apiErrorCode(status) {
  return API_ERRORS[status] ?? (status >= 500 ? 'server_error' : 'client_error');
}

// Mirrors the /api/* path pattern of the API cache behavior (a bare /api goes to the site).
export const isApiPath = (uri) => typeof uri === 'string' && uri.startsWith(API_PREFIX);

function isJson(headers) {
  const type = headers['content-type']?.[0]?.value;
  return typeof type === 'string' && /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(type.trim());
}

function replaceBody(response, body, contentType) {
  for (const name of BODY_HEADERS) delete response.headers[name];
  setHeader(response.headers, 'Content-Type', contentType);
  response.body = body;
  response.bodyEncoding = 'text';
}

/** Body replacement for one error response; `pages` from loadErrorPages. */
function rewriteError(response, uri, pages) {
  const status = Number.parseInt(response.status, 10);
  if (!(status >= 400 && status <= 599) || PASS_THROUGH_STATUSES.has(status)) return;
  if (isApiPath(uri)) {
    // The API's own error document is the contract with its clients: never touched.
    if (isJson(response.headers)) return;
    replaceBody(response, JSON.stringify({ error: apiErrorCode(status), status }), JSON_TYPE);
    return;
  }
  replaceBody(response, pages[pageFor(status)], HTML_TYPE);
}

/** Builds the handler around a page set (tests inject one; the deployed handler reads the zip's). */
export function createOriginResponseHandler({ pages = FALLBACK_PAGES } = {}) {
  return async function handler(event) {
    const cf = event?.Records?.[0]?.cf;
    const response = cf?.response;
    // Without a response object there is nothing to decorate; returning it unchanged keeps the
    // failure CloudFront's (a 502), which is the honest outcome for a malformed event.
    if (!response || typeof response !== 'object') return response;
    try {
      if (!response.headers || typeof response.headers !== 'object') response.headers = {};
      for (const name of Object.keys(response.headers)) {
        if (REMOVED_RESPONSE_HEADERS.includes(name.toLowerCase())) delete response.headers[name];
      }
      // Bodies may only be replaced in an origin-response event (the one this function is for).
      if (cf.config?.eventType === 'origin-response') rewriteError(response, cf.request?.uri, pages);
    } catch (err) {
      console.error(`catalog-edge origin-response: error body not replaced: ${err?.message}`);
    }
    try {
      // Origin-sent values of these headers are replaced: the edge owns the policy.
      applySecurityHeaders(response.headers);
    } catch (err) {
      console.error(`catalog-edge origin-response: headers not applied: ${err?.message}`);
    }
    return response;
  };
}

const PAGES = loadErrorPages();
if (PAGES.missing.length > 0) {
  console.error(`catalog-edge origin-response: ${PAGES.missing.join(', ')} missing from the package; plain pages used`);
}

export const handler = createOriginResponseHandler({ pages: PAGES.pages });
