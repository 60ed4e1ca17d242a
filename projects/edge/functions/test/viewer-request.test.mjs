// Viewer-request: reads pass, valid writes pass unchanged (the API verifies the token again and
// is the only source of identity), internal headers never pass.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createViewerRequestHandler } from '../src/viewer-request.mjs';
import { rsa, ec, config, claims, signJwt, viewerEvent, silent, SMUGGLED, bearer, requestOf } from './helpers.mjs';

const rsaHandler = createViewerRequestHandler(config(rsa), { log: silent });
const ecHandler = createViewerRequestHandler(config(ec), { log: silent });

describe('reads are public', () => {
  for (const method of ['GET', 'HEAD', 'OPTIONS']) {
    test(`${method} without a token passes, internal headers stripped`, async () => {
      const event = viewerEvent({ method, headers: structuredClone(SMUGGLED) });
      const result = await rsaHandler(event);
      assert.equal(result, requestOf(event), 'the request itself is returned (forwarded)');
      assert.equal(result.uri, '/api/products');
      for (const name of Object.keys(SMUGGLED)) assert.equal(result.headers[name], undefined, name);
      assert.deepEqual(result.headers.host, [{ key: 'Host', value: 'd111111abcdef8.cloudfront.net' }]);
    });
  }

  test('a read carries no identity even with a valid token', async () => {
    const result = await rsaHandler(viewerEvent({ method: 'GET', authorization: bearer(signJwt(claims())) }));
    assert.equal(result.headers['x-catalog-user'], undefined);
  });
});

const IDENTITY_HEADERS = ['x-catalog-user', 'x-catalog-role'];

describe('writes with a valid token', () => {
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    test(`${method} with RS256 is forwarded with its Authorization header and no identity header`, async () => {
      const authorization = bearer(signJwt(claims()));
      const event = viewerEvent({ method, authorization });
      const result = await rsaHandler(event);
      assert.equal(result, requestOf(event), 'the request itself is returned (forwarded)');
      assert.equal(result.method, method);
      assert.deepEqual(result.headers.authorization, [{ key: 'Authorization', value: authorization }]);
      for (const name of IDENTITY_HEADERS) assert.equal(result.headers[name], undefined, name);
    });
  }

  test('ES256 passes', async () => {
    const token = signJwt(claims({ sub: 'ec-user' }), { alg: 'ES256', key: ec.privateKey });
    const result = await ecHandler(viewerEvent({ authorization: bearer(token) }));
    assert.equal(result.method, 'POST');
    assert.equal(result.status, undefined);
  });

  test('smuggled internal headers are removed and not replaced by anything', async () => {
    const event = viewerEvent({ authorization: bearer(signJwt(claims())), headers: structuredClone(SMUGGLED) });
    const result = await rsaHandler(event);
    assert.equal(result.method, 'POST');
    for (const name of Object.keys(SMUGGLED)) assert.equal(result.headers[name], undefined, name);
  });

  test('aud may be an array containing the audience', async () => {
    const token = signJwt(claims({ aud: ['other-api', 'catalog-api'] }));
    assert.equal((await rsaHandler(viewerEvent({ authorization: bearer(token) }))).method, 'POST');
  });

  test('the role claim, whatever its value, never becomes a header (the API reads it from the token)', async () => {
    const custom = createViewerRequestHandler(config(rsa, { roleClaim: 'https://catalog/role' }), { log: silent });
    for (const role of ['admin', 'Admin', 'admin\r\nx-evil: 1', ['admin'], 42, '']) {
      const result = await custom(viewerEvent({ authorization: bearer(signJwt(claims({ role, 'https://catalog/role': role }))) }));
      assert.equal(result.method, 'POST', 'a role value does not decide the edge check');
      for (const name of IDENTITY_HEADERS) assert.equal(result.headers[name], undefined, `${name} for ${JSON.stringify(role)}`);
    }
  });

  test('clock skew is allowed up to clockSkewSeconds', async () => {
    const now = 1_800_000_000;
    const handler = createViewerRequestHandler(config(rsa, { clockSkewSeconds: 30 }), { now: () => now, log: silent });
    const passes = async (c) => (await handler(viewerEvent({ authorization: bearer(signJwt(c)) }))).status === undefined;
    const base = { iss: 'https://auth.catalog.example/', aud: 'catalog-api', sub: 'u' };
    assert.equal(await passes({ ...base, exp: now - 29 }), true, 'expired 29 s ago is within skew');
    assert.equal(await passes({ ...base, exp: now - 30 }), false, 'expired 30 s ago is not');
    assert.equal(await passes({ ...base, exp: now + 60, nbf: now + 30, iat: now + 30 }), true);
    assert.equal(await passes({ ...base, exp: now + 60, nbf: now + 31 }), false);
    assert.equal(await passes({ ...base, exp: now + 60, iat: now + 31 }), false);
  });
});
