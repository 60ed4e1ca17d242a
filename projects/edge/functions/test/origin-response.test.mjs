import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  handler, createOriginResponseHandler, apiErrorCode, SECURITY_HEADERS, REMOVED_RESPONSE_HEADERS,
} from '../src/origin-response.mjs';
import { ERROR_PAGE_FILES, loadErrorPages, pageFor } from '../src/error-pages.mjs';
import { SITE_DIR } from '../scripts/build-zip.mjs';
import { fixture } from './helpers.mjs';

// Pinned here, literally: changing a security header must be a deliberate edit of this test.
const EXPECTED_SECURITY_HEADERS = {
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains; preload',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; " +
    'upgrade-insecure-requests',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

test('the exported header set is exactly the pinned one and frozen', () => {
  assert.deepEqual({ ...SECURITY_HEADERS }, EXPECTED_SECURITY_HEADERS);
  assert.ok(Object.isFrozen(SECURITY_HEADERS));
  assert.deepEqual([...REMOVED_RESPONSE_HEADERS], ['server', 'x-powered-by']);
});

test('origin headers + security headers - fingerprinting headers, exactly', async () => {
  const event = fixture('origin-response');
  const original = structuredClone(event.Records[0].cf.response.headers);
  const response = await handler(event);

  const expected = { ...original };
  delete expected.server;
  delete expected['x-powered-by'];
  for (const [key, value] of Object.entries(EXPECTED_SECURITY_HEADERS)) expected[key.toLowerCase()] = [{ key, value }];
  assert.deepEqual(response.headers, expected);
  assert.equal(response.status, '200');
  assert.equal(response.statusDescription, 'OK');
});

test('an origin-sent X-Frame-Options is replaced, not duplicated', async () => {
  const response = await handler(fixture('origin-response'));
  assert.deepEqual(response.headers['x-frame-options'], [{ key: 'X-Frame-Options', value: 'DENY' }]);
});

test('read-only headers (Via, Transfer-Encoding) are left untouched', async () => {
  const event = fixture('origin-response');
  const { via, 'transfer-encoding': te } = structuredClone(event.Records[0].cf.response.headers);
  const response = await handler(event);
  assert.deepEqual(response.headers.via, via);
  assert.deepEqual(response.headers['transfer-encoding'], te);
});

test('error responses get the headers too (origin-response runs for 4xx/5xx)', async () => {
  const event = fixture('origin-response');
  Object.assign(event.Records[0].cf.response, { status: '403', statusDescription: 'Forbidden' });
  const response = await handler(event);
  assert.equal(response.status, '403');
  assert.equal(response.headers['strict-transport-security'][0].value, EXPECTED_SECURITY_HEADERS['Strict-Transport-Security']);
});

test('a response without headers gets exactly the security headers', async () => {
  const event = fixture('origin-response');
  delete event.Records[0].cf.response.headers;
  const response = await handler(event);
  assert.deepEqual(Object.keys(response.headers).sort(), Object.keys(EXPECTED_SECURITY_HEADERS).map((k) => k.toLowerCase()).sort());
});

test('malformed events do not throw', async () => {
  for (const event of [undefined, null, {}, { Records: [] }, { Records: [{ cf: {} }] }]) {
    assert.equal(await handler(event), undefined);
  }
});

// ---- Error bodies per path: custom error responses are distribution-wide, so the
// choice between the site's HTML page and the API's JSON is made here, per request path.

const SITE_PAGES = loadErrorPages(pathToFileURL(`${SITE_DIR}/`));
const pagesHandler = createOriginResponseHandler({ pages: SITE_PAGES.pages });
const sitePage = (name) => readFileSync(join(SITE_DIR, name), 'utf8');
const statusText = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 412: 'Precondition Failed', 416: 'Range Not Satisfiable', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

/** An S3 error as the site behavior's origin-response sees it (S3 answers errors in XML). */
function siteError(status, uri = '/products/gone.html') {
  const event = fixture('origin-response');
  const { request, response } = event.Records[0].cf;
  request.uri = uri;
  Object.assign(response, { status: String(status), statusDescription: statusText[status] });
  response.headers['content-type'] = [{ key: 'Content-Type', value: 'application/xml' }];
  delete response.headers['last-modified'];
  return event;
}

/** An /api/* origin response; by default the API's own JSON error. */
function apiResponse(status, { contentType = 'application/json; charset=utf-8', uri } = {}) {
  const event = fixture('origin-response-api');
  const { request, response } = event.Records[0].cf;
  if (uri) request.uri = uri;
  Object.assign(response, { status: String(status), statusDescription: statusText[status] });
  response.headers['content-type'] = [{ key: 'Content-Type', value: contentType }];
  return event;
}

/** CloudFront's own 504 for /api/* (ALB did not answer within the origin read timeout). */
function cloudFrontGenerated(status) {
  const event = apiResponse(status, { contentType: 'text/html' });
  const { headers } = event.Records[0].cf.response;
  headers.server = [{ key: 'Server', value: 'CloudFront' }];
  headers['content-length'] = [{ key: 'Content-Length', value: '915' }];
  delete headers['cache-control'];
  delete headers['x-powered-by'];
  return event;
}

function assertSecurityHeaders(response) {
  for (const [key, value] of Object.entries(EXPECTED_SECURITY_HEADERS)) {
    assert.deepEqual(response.headers[key.toLowerCase()], [{ key, value }], key);
  }
  assert.equal(response.headers.server, undefined);
  assert.equal(response.headers['x-powered-by'], undefined);
}

describe('site paths: S3 errors become the site error page, status kept', () => {
  test('the site pages are bundled, none missing', () => {
    assert.deepEqual(SITE_PAGES.missing, []);
    assert.deepEqual(Object.keys(SITE_PAGES.pages).sort(), [...ERROR_PAGE_FILES].sort());
  });

  for (const [status, page] of [[404, '404.html'], [403, '403.html'], [400, '404.html'], [500, '5xx.html'], [502, '5xx.html'], [503, '5xx.html'], [504, '5xx.html']]) {
    test(`${status} -> ${page} as text/html, status ${status}`, async () => {
      const response = await pagesHandler(siteError(status));
      assert.equal(response.status, String(status));
      assert.equal(response.statusDescription, statusText[status]);
      assert.equal(response.body, sitePage(page));
      assert.equal(response.bodyEncoding, 'text');
      assert.deepEqual(response.headers['content-type'], [{ key: 'Content-Type', value: 'text/html; charset=utf-8' }]);
      // The origin's length and validators describe the XML error, not the page.
      for (const name of ['content-length', 'etag', 'last-modified']) assert.equal(response.headers[name], undefined, name);
      assertSecurityHeaders(response);
    });
  }

  test('the page for the site root and for a bare /api (no /api/* match: the site behavior)', async () => {
    for (const uri of ['/', '/index.html', '/api', '/apiary/x']) {
      const response = await pagesHandler(siteError(404, uri));
      assert.equal(response.body, sitePage('404.html'), uri);
    }
  });

  for (const status of [200, 304, 412, 416]) {
    test(`${status} passes with its body untouched`, async () => {
      const event = siteError(status);
      const response = await pagesHandler(event);
      assert.equal(response.status, String(status));
      assert.equal('body' in response, false, 'the origin body is returned as is');
      assert.deepEqual(response.headers['content-type'], [{ key: 'Content-Type', value: 'application/xml' }]);
      assertSecurityHeaders(response);
    });
  }

  test('without the page files (a broken package) a plain page is served, never the S3 XML', async () => {
    const response = await createOriginResponseHandler()(siteError(404));
    assert.match(response.body, /<title>Not found<\/title>/);
  });
});

describe('/api/* paths: the API keeps its status and JSON body', () => {
  for (const status of [400, 403, 404, 409, 500, 503]) {
    test(`API ${status} JSON is untouched`, async () => {
      const event = apiResponse(status);
      const original = structuredClone(event.Records[0].cf.response);
      const response = await pagesHandler(event);
      assert.equal(response.status, String(status));
      assert.equal(response.statusDescription, original.statusDescription);
      assert.equal('body' in response, false, 'the API body passes as is');
      assert.deepEqual(response.headers['content-type'], original.headers['content-type']);
      assert.deepEqual(response.headers['content-length'], original.headers['content-length']);
      assert.deepEqual(response.headers['cache-control'], [{ key: 'Cache-Control', value: 'no-store' }]);
      assertSecurityHeaders(response);
    });
  }

  test('application/problem+json is JSON too', async () => {
    const response = await pagesHandler(apiResponse(422, { contentType: 'application/problem+json' }));
    assert.equal('body' in response, false);
  });

  for (const [status, error] of [[504, 'gateway_timeout'], [502, 'bad_gateway'], [503, 'service_unavailable']]) {
    test(`CloudFront's own ${status} on /api/* answers JSON {"error":"${error}"} with status ${status}`, async () => {
      const response = await pagesHandler(cloudFrontGenerated(status));
      assert.equal(response.status, String(status));
      assert.equal(response.statusDescription, statusText[status]);
      assert.deepEqual(JSON.parse(response.body), { error, status });
      assert.deepEqual(response.headers['content-type'], [{ key: 'Content-Type', value: 'application/json' }]);
      assert.equal(response.headers['content-length'], undefined);
      assertSecurityHeaders(response);
    });
  }

  test('an ALB HTML 502 (no healthy target) becomes JSON as well', async () => {
    const response = await pagesHandler(apiResponse(502, { contentType: 'text/html' }));
    assert.deepEqual(JSON.parse(response.body), { error: 'bad_gateway', status: 502 });
  });

  test('API successes are never touched', async () => {
    const response = await pagesHandler(apiResponse(200));
    assert.equal(response.status, '200');
    assert.equal('body' in response, false);
  });
});

test('bodies are replaced only in origin-response events (headers are set in any)', async () => {
  for (const eventType of ['viewer-response', undefined]) {
    const event = siteError(404);
    if (eventType) event.Records[0].cf.config.eventType = eventType;
    else delete event.Records[0].cf.config;
    const response = await pagesHandler(event);
    assert.equal('body' in response, false, String(eventType));
    assertSecurityHeaders(response);
  }
});

test('pageFor and apiErrorCode cover every 4xx/5xx', () => {
  assert.equal(pageFor(403), '403.html');
  assert.equal(pageFor(404), '404.html');
  assert.equal(pageFor(429), '404.html');
  assert.equal(pageFor(599), '5xx.html');
  assert.equal(apiErrorCode(418), 'client_error');
  assert.equal(apiErrorCode(599), 'server_error');
});
