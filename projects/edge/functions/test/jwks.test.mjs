// Viewer-request with a jwksUrl: keys fetched by the function from a (local) key set server,
// cached, with a bounded fetch. Same deny rules as with a static key.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { parseConfig, JWKS_TIMEOUT_MS } from '../src/config.mjs';
import { createViewerRequestHandler } from '../src/viewer-request.mjs';
import { rsa, ec, otherRsa, pem, rawConfig, claims, signJwt, viewerEvent, silent, bearer, expectDenied, nowSeconds } from './helpers.mjs';

const jwk = (keyPair, kid, alg) => ({ ...keyPair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' });
const JWKS = { keys: [jwk(rsa, 'rsa-1', 'RS256'), jwk(ec, 'ec-1', 'ES256')] };

/** A key set server on 127.0.0.1; `mode` decides each answer; `hits` counts requests. */
async function keySetServer() {
  const state = { mode: 'ok', hits: 0 };
  const server = createServer((req, res) => {
    state.hits += 1;
    if (state.mode === 'hang') return; // never answers: the function's timeout must end it
    if (state.mode === 'error') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(JWKS));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${server.address().port}/.well-known/jwks.json`;
  state.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  return state;
}

function jwksHandler(url) {
  const { publicKeyPem, ...rest } = rawConfig(rsa);
  const result = parseConfig({ ...rest, jwksUrl: url }, { allowInsecureLoopback: true });
  assert.equal(result.ok, true, result.error);
  return createViewerRequestHandler(result, { log: silent });
}

const rsaToken = (overrides = {}, options = {}) => signJwt(claims(overrides), { header: { kid: 'rsa-1' }, ...options });

describe('jwksUrl', async () => {
  const server = await keySetServer();
  after(() => server.close());

  test('RS256 and ES256 tokens verify against keys fetched once, then cached', async () => {
    const handler = jwksHandler(server.url);
    const before = server.hits;
    const ecToken = signJwt(claims(), { alg: 'ES256', key: ec.privateKey, header: { kid: 'ec-1' } });
    for (const token of [rsaToken(), ecToken, rsaToken(), ecToken]) {
      const result = await handler(viewerEvent({ authorization: bearer(token) }));
      assert.equal(result.status, undefined, JSON.stringify(result.body));
      assert.equal(result.method, 'POST');
    }
    assert.equal(server.hits - before, 1, 'one fetch for four verifications');
  });

  test('a token without kid verifies: the key is chosen by the alg\'s key type', async () => {
    const handler = jwksHandler(server.url);
    assert.equal((await handler(viewerEvent({ authorization: bearer(signJwt(claims())) }))).method, 'POST');
    const ecToken = signJwt(claims(), { alg: 'ES256', key: ec.privateKey });
    assert.equal((await handler(viewerEvent({ authorization: bearer(ecToken) }))).method, 'POST');
  });

  describe('the static-key deny rules hold', () => {
    const handler = jwksHandler(server.url);
    const now = nowSeconds();
    const cases = [
      ['unsupported_alg', signJwt(claims(), { alg: 'none', header: { kid: 'rsa-1' } })],
      ['unsupported_alg', signJwt(claims(), { alg: 'HS256', key: pem(rsa), header: { kid: 'rsa-1' } })],
      ['unsupported_alg', signJwt(claims(), { header: { alg: 'RS512', kid: 'rsa-1' } })],
      ['bad_signature', rsaToken({}, { key: otherRsa.privateKey })],
      // An ES256 token naming the RSA key: no key of that type/kid, refused before any crypto.
      ['unknown_key', signJwt(claims(), { alg: 'ES256', key: ec.privateKey, header: { kid: 'rsa-1' } })],
      ['unknown_key', rsaToken({}, { header: { kid: 'made-up' } })],
      ['expired', rsaToken({ exp: now - 3600, iat: now - 7200, nbf: now - 7200 })],
      ['not_yet_valid', rsaToken({ nbf: now + 3600 })],
      ['wrong_issuer', rsaToken({ iss: 'https://evil.example/' })],
      ['wrong_audience', rsaToken({ aud: 'someone-else' })],
      ['invalid_claims', rsaToken({ sub: undefined })],
    ];
    for (const [reason, token] of cases) {
      test(`${reason}: ${token.slice(0, 40)}`, async () => {
        await expectDenied(handler, viewerEvent({ authorization: bearer(token) }), reason);
      });
    }
  });

  test('unknown kids do not make the function refetch within the cooldown', async () => {
    const handler = jwksHandler(server.url);
    await handler(viewerEvent({ authorization: bearer(rsaToken()) }));
    const before = server.hits;
    for (let i = 0; i < 5; i += 1) {
      await expectDenied(handler, viewerEvent({ authorization: bearer(rsaToken({}, { header: { kid: `k${i}` } })) }), 'unknown_key');
    }
    assert.equal(server.hits, before, 'no fetch storm from made-up kids');
  });

  test('a key set answering 500 is a 503 (not a 401: the token may be valid), never cached', async () => {
    server.mode = 'error';
    try {
      const result = await jwksHandler(server.url)(viewerEvent({ authorization: bearer(rsaToken()) }));
      assert.equal(result.status, '503');
      assert.deepEqual(JSON.parse(result.body), { error: 'service_unavailable', reason: 'jwks_unavailable' });
      assert.deepEqual(result.headers['cache-control'], [{ key: 'Cache-Control', value: 'no-store' }]);
      assert.deepEqual(result.headers['retry-after'], [{ key: 'Retry-After', value: '5' }]);
      assert.ok(result.headers['strict-transport-security'], 'security headers on the generated 503');
    } finally {
      server.mode = 'ok';
    }
  });

  test('a key set that never answers is abandoned after the fetch timeout (well inside the 5 s viewer limit)', async () => {
    server.mode = 'hang';
    try {
      const started = performance.now();
      const result = await jwksHandler(server.url)(viewerEvent({ authorization: bearer(rsaToken()) }));
      const elapsed = performance.now() - started;
      assert.equal(result.status, '503');
      assert.equal(JSON.parse(result.body).reason, 'jwks_unavailable');
      assert.ok(elapsed >= JWKS_TIMEOUT_MS - 50 && elapsed < JWKS_TIMEOUT_MS + 1000, `${elapsed} ms`);
    } finally {
      server.mode = 'ok';
    }
  });

  test('an unreachable key set (connection refused) is a 503', async () => {
    const gone = await keySetServer();
    await gone.close();
    const result = await jwksHandler(gone.url)(viewerEvent({ authorization: bearer(rsaToken()) }));
    assert.equal(result.status, '503');
    assert.equal(JSON.parse(result.body).reason, 'jwks_unavailable');
  });

  test('reads never fetch keys', async () => {
    const before = server.hits;
    const result = await jwksHandler(server.url)(viewerEvent({ method: 'GET', authorization: bearer(rsaToken()) }));
    assert.equal(result.method, 'GET');
    assert.equal(server.hits, before);
  });
});
