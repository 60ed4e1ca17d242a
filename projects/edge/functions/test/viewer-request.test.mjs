// Viewer-request: reads pass, valid writes carry the verified identity, internal headers never pass.
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

describe('writes with a valid token', () => {
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    test(`${method} with RS256 passes with identity headers`, async () => {
      const event = viewerEvent({ method, authorization: bearer(signJwt(claims())) });
      const result = await rsaHandler(event);
      assert.equal(result.method, method);
      assert.deepEqual(result.headers['x-catalog-user'], [{ key: 'X-Catalog-User', value: 'user-123' }]);
      assert.deepEqual(result.headers['x-catalog-role'], [{ key: 'X-Catalog-Role', value: 'editor' }]);
    });
  }

  test('ES256 passes', async () => {
    const token = signJwt(claims({ sub: 'ec-user' }), { alg: 'ES256', key: ec.privateKey });
    const result = await ecHandler(viewerEvent({ authorization: bearer(token) }));
    assert.deepEqual(result.headers['x-catalog-user'], [{ key: 'X-Catalog-User', value: 'ec-user' }]);
  });

  test('smuggled internal headers are replaced by the verified identity', async () => {
    const event = viewerEvent({ authorization: bearer(signJwt(claims({ role: undefined }))), headers: structuredClone(SMUGGLED) });
    const result = await rsaHandler(event);
    assert.deepEqual(result.headers['x-catalog-user'], [{ key: 'X-Catalog-User', value: 'user-123' }]);
    for (const name of ['x-catalog-role', 'x-catalog-tenant', 'x-origin-verify']) assert.equal(result.headers[name], undefined, name);
  });

  test('aud may be an array containing the audience', async () => {
    const token = signJwt(claims({ aud: ['other-api', 'catalog-api'] }));
    assert.equal((await rsaHandler(viewerEvent({ authorization: bearer(token) }))).method, 'POST');
  });

  test('the role comes from the configured claim, only when it is a safe string', async () => {
    const custom = createViewerRequestHandler(config(rsa, { roleClaim: 'https://catalog/role' }), { log: silent });
    const ok = await custom(viewerEvent({ authorization: bearer(signJwt(claims({ 'https://catalog/role': 'admin' }))) }));
    assert.deepEqual(ok.headers['x-catalog-role'], [{ key: 'X-Catalog-Role', value: 'admin' }]);
    for (const role of ['Admin', 'admin\r\nx-evil: 1', ['admin'], 42, 'a'.repeat(33), '']) {
      const result = await rsaHandler(viewerEvent({ authorization: bearer(signJwt(claims({ role }))) }));
      assert.equal(result.method, 'POST', 'a bad role does not deny the write');
      assert.equal(result.headers['x-catalog-role'], undefined, JSON.stringify(role));
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
