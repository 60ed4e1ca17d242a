import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handler, SECURITY_HEADERS, REMOVED_RESPONSE_HEADERS } from '../src/origin-response.mjs';
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
