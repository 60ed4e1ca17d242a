// Viewer-request: every way a write can be refused, always a 401 document, never an exception.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createViewerRequestHandler, unauthorized } from '../src/viewer-request.mjs';
import { SECURITY_HEADERS } from '../src/security-headers.mjs';
import {
  rsa, ec, otherRsa, pem, config, claims, signJwt, b64url, viewerEvent, silent, nowSeconds,
  SMUGGLED, bearer, requestOf, expectDenied,
} from './helpers.mjs';

const rsaHandler = createViewerRequestHandler(config(rsa), { log: silent });
const ecHandler = createViewerRequestHandler(config(ec), { log: silent });

describe('writes are denied with a 401 and a safe reason', () => {
  const now = nowSeconds();
  const cases = [
    ['missing_token', undefined],
    ['missing_token', 'Basic dXNlcjpwYXNz'],
    ['malformed_token', 'Bearer'],
    ['malformed_token', 'Bearer  two  spaces'],
    ['expired', bearer(signJwt(claims({ exp: now - 3600, iat: now - 7200, nbf: now - 7200 })))],
    ['not_yet_valid', bearer(signJwt(claims({ nbf: now + 3600 })))],
    ['not_yet_valid', bearer(signJwt(claims({ iat: now + 3600 })))],
    ['wrong_audience', bearer(signJwt(claims({ aud: 'someone-else' })))],
    ['wrong_audience', bearer(signJwt(claims({ aud: ['a', 'b'] })))],
    ['wrong_issuer', bearer(signJwt(claims({ iss: 'https://evil.example/' })))],
    ['bad_signature', bearer(signJwt(claims(), { key: otherRsa.privateKey }))],
    ['unsupported_alg', bearer(signJwt(claims(), { alg: 'none' }))],
    // "none" without the trailing dot has two segments: malformed before the alg is even read.
    ['malformed_token', bearer(signJwt(claims(), { alg: 'none' }).slice(0, -1))],
    // The classic confusion attack: HMAC keyed with the (public) verification key.
    ['unsupported_alg', bearer(signJwt(claims(), { alg: 'HS256', key: pem(rsa) }))],
    ['unsupported_alg', bearer(signJwt(claims(), { alg: 'ES256', key: ec.privateKey }))],
    ['unsupported_alg', bearer(signJwt(claims(), { header: { alg: 'RS384' } }))],
    ['unsupported_alg', bearer(signJwt(claims(), { header: { alg: 'rs256' } }))],
    ['malformed_token', bearer('onlyonesegment')],
    ['malformed_token', bearer('two.segments')],
    ['malformed_token', bearer('a.b.c.d')],
    ['malformed_token', bearer(`${b64url({ alg: 'RS256' })}.${b64url(claims())}.`)],
    ['malformed_token', bearer(`${b64url({ alg: 'RS256' }).slice(0, -1)}*.${b64url(claims())}.c2ln`)],
    ['malformed_token', bearer(`${b64url('not json')}.${b64url(claims())}.c2ln`)],
    ['malformed_token', bearer(`${b64url('["RS256"]')}.${b64url(claims())}.c2ln`)],
    ['malformed_token', bearer(`${b64url({ alg: 'RS256' })}.${b64url('{"sub":')}.c2ln`)],
    ['malformed_token', bearer(`${b64url({ alg: 'RS256' })}.${b64url('null')}.c2ln`)],
    ['malformed_token', bearer(`${b64url({ alg: 'RS256' })}.${b64url(claims())}.c2ln=`)],
    ['malformed_token', bearer(signJwt(claims(), { header: { crit: ['exp'] } }))],
    ['token_too_large', bearer(signJwt(claims({ pad: 'x'.repeat(9000) })))],
    ['invalid_claims', bearer(signJwt(claims({ exp: String(now + 300) })))],
    ['invalid_claims', bearer(signJwt(claims({ exp: undefined })))],
    ['invalid_claims', bearer(signJwt(claims({ nbf: 'yesterday' })))],
    ['invalid_claims', bearer(signJwt(claims({ iss: 42 })))],
    ['invalid_claims', bearer(signJwt(claims({ aud: [42] })))],
    ['invalid_claims', bearer(signJwt(claims({ sub: { id: 1 } })))],
    ['invalid_claims', bearer(signJwt(claims({ sub: 'has space' })))],
    ['invalid_claims', bearer(signJwt(claims({ sub: undefined })))],
  ];
  for (const [reason, authorization] of cases) {
    test(`${reason}: ${String(authorization).slice(0, 60)}`, async () => {
      const event = viewerEvent({ authorization, headers: structuredClone(SMUGGLED) });
      const result = await expectDenied(rsaHandler, event, reason);
      for (const name of Object.keys(SMUGGLED)) {
        assert.equal(result.headers[name], undefined, `${name} absent from the 401`);
        assert.equal(requestOf(event).headers[name], undefined, `${name} stripped from the request`);
      }
    });
  }

  test('an ES256 signature in DER (not JWS P1363) encoding is a bad signature', async () => {
    const token = signJwt(claims(), { alg: 'ES256', key: ec.privateKey, dsaEncoding: 'der' });
    await expectDenied(ecHandler, viewerEvent({ authorization: bearer(token) }), 'bad_signature');
  });

  test('RS256 token against an EC key is refused (alg/key-type mismatch)', async () => {
    await expectDenied(ecHandler, viewerEvent({ authorization: bearer(signJwt(claims())) }), 'unsupported_alg');
  });

  test('a tampered payload is a bad signature', async () => {
    const [h, , s] = signJwt(claims()).split('.');
    await expectDenied(rsaHandler, viewerEvent({ authorization: bearer(`${h}.${b64url(claims({ role: 'admin' }))}.${s}`) }), 'bad_signature');
  });

  test('two Authorization headers are malformed', async () => {
    const event = viewerEvent();
    const token = signJwt(claims());
    requestOf(event).headers.authorization = [{ key: 'Authorization', value: bearer(token) }, { key: 'Authorization', value: bearer(token) }];
    await expectDenied(rsaHandler, event, 'malformed_token');
  });

  test('a huge Authorization header is refused without an exception', async () => {
    await expectDenied(rsaHandler, viewerEvent({ authorization: `Bearer ${'a'.repeat(1_000_000)}` }), 'token_too_large');
  });

  test('an unknown method is treated as a write', async () => {
    await expectDenied(rsaHandler, viewerEvent({ method: 'TRACE' }), 'missing_token');
  });

  test('garbage events are a 401, never an exception', async () => {
    for (const event of [undefined, null, {}, { Records: [] }, { Records: [{ cf: {} }] }, 'x']) {
      await expectDenied(rsaHandler, event, 'internal_error');
    }
    const weird = viewerEvent();
    requestOf(weird).headers.authorization = [{ key: 'Authorization', value: 12345 }];
    await expectDenied(rsaHandler, weird, 'malformed_token');
  });

  test('a denial is logged once, with the reason and request id but not the token', async () => {
    const lines = [];
    const handler = createViewerRequestHandler(config(rsa), { log: (entry) => lines.push(entry) });
    const token = signJwt(claims({ aud: 'nope' }));
    await handler(viewerEvent({ authorization: bearer(token) }));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].reason, 'wrong_audience');
    assert.match(lines[0].requestId, /^4Tyz/);
    assert.ok(!JSON.stringify(lines).includes(token.split('.')[2]));
  });
});

test('the 401 document is exactly CloudFront-shaped', () => {
  const expected = {
    status: '401',
    statusDescription: 'Unauthorized',
    body: '{"error":"unauthorized","reason":"bad_signature"}',
    headers: {
      'www-authenticate': [{ key: 'WWW-Authenticate', value: 'Bearer realm="catalog", error="invalid_token"' }],
      'content-type': [{ key: 'Content-Type', value: 'application/json' }],
      'cache-control': [{ key: 'Cache-Control', value: 'no-store' }],
    },
  };
  for (const [key, value] of Object.entries(SECURITY_HEADERS)) expected.headers[key.toLowerCase()] = [{ key, value }];
  assert.deepEqual(unauthorized('bad_signature'), expected);
  assert.deepEqual(unauthorized('missing_token').headers['www-authenticate'], [{ key: 'WWW-Authenticate', value: 'Bearer realm="catalog"' }]);
});

test('a valid ES256 signature by another P-256 key is refused', async () => {
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const token = signJwt(claims(), { alg: 'ES256', key: stranger.privateKey });
  await expectDenied(ecHandler, viewerEvent({ authorization: bearer(token) }), 'bad_signature');
});
