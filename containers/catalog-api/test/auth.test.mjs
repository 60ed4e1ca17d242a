// Identity on every path: the real Lambda handler with API Gateway REST and ALB events, and the local HTTP
// server. The API verifies the bearer token itself; no header grants anything; a refused request writes
// nothing (checked in PostgreSQL and in both DynamoDB tables).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { seedAsOwner } from '../src/seed-data.mjs';
import { startServer } from '../src/server.mjs';
import { alb, apigw, context, unwrap } from './events.mjs';
import { call, captureJsonStdout, setupInfra, writeState } from './helpers.mjs';
import {
  adminHeaders, authEnv, bearer, ec, hmacWithPublicKey, rsa, startJwks, token, unsignedToken, userHeaders,
} from './identity.mjs';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const ESCALATE = { 'x-catalog-role': 'admin', 'x-catalog-user': 'cfo@example.com' };
let infra;
let api;
let db;
let lambda;
let stdout;
let savedEnv;

before(async () => {
  infra = await setupInfra();
  savedEnv = { ...process.env };
  Object.assign(process.env, infra.env, { AWS_LAMBDA_FUNCTION_NAME: 'catalog-api-qa' });
  stdout = captureJsonStdout();
  api = await startServer({ env: infra.env, port: 0, runtimeOptions: { metricsWrite: () => {} } });
  await seedAsOwner(infra.env, { count: 5, stock: 10 });
  db = new pg.Client(infra.pgOptions);
  await db.connect();
  lambda = await import('../src/lambda.mjs');
});

after(async () => {
  stdout?.restore();
  process.env = savedEnv;
  await db?.end();
  await api?.close();
  await infra?.cleanup();
});

const state = () => writeState({ db, api, tables: infra.tables });

// The three write routes, each on the three paths. headers: extra request headers.
const WRITES = [
  ['PUT', '/api/products/SKU-000001/inventory', '{"available":0}'],
  ['POST', '/api/products/SKU-000001/reservations', '{"quantity":1,"idempotencyKey":"escalate-0001"}'],
  ['POST', '/api/sessions', '{}'],
];
const PATHS = {
  http: async (method, path, headers, body) => call(api.url, path, { method, headers: { 'content-type': 'application/json', ...headers }, body }),
  apigw: async (method, path, headers, body) => unwrap(await lambda.handler(apigw({ method, path, headers: { 'content-type': 'application/json', ...headers }, body }), context)),
  alb: async (method, path, headers, body) => unwrap(await lambda.handler(alb({ multi: true, method, path, headers: { 'content-type': 'application/json', ...headers }, body }), context)),
  albSingleValue: async (method, path, headers, body) => unwrap(await lambda.handler(alb({ method, path, headers: { 'content-type': 'application/json', ...headers }, body }), context)),
};
const headerOf = (res, name) => (typeof res.headers.get === 'function' ? res.headers.get(name) : res.headers[name]);

async function badTokens() {
  const now = Math.floor(Date.now() / 1000);
  const other = (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 2048 });
  return [
    ['missing', undefined, undefined],
    ['expired', `Bearer ${await token({ role: 'admin' }, { exp: -120 })}`, 'token expired'],
    ['not yet valid', `Bearer ${await token({ role: 'admin' }, { nbf: 120 })}`, 'token not yet valid'],
    ['issued a day in the future', `Bearer ${await token({ role: 'admin' }, { iat: 86_400 })}`, 'token not yet valid'],
    ['wrongly signed', `Bearer ${await token({ role: 'admin' }, { pair: other })}`, 'signature verification failed'],
    ['alg none', `Bearer ${unsignedToken()}`, 'signing algorithm not allowed'],
    ['HS256 with the public key', `Bearer ${await hmacWithPublicKey()}`, 'signing algorithm not allowed'],
    ['ES256 where the key is RSA', `Bearer ${await token({ role: 'admin' }, { pair: ec })}`, 'signing algorithm not allowed'],
    ['wrong issuer', `Bearer ${await token({ role: 'admin' }, { iss: 'https://evil.example/' })}`, 'unexpected issuer'],
    ['wrong audience', `Bearer ${await token({ role: 'admin' }, { aud: 'someone-else' })}`, 'unexpected audience'],
    ['no exp', `Bearer ${await token({ role: 'admin' }, { exp: null })}`, 'claim exp invalid or missing'],
    ['no sub', `Bearer ${await token({ role: 'admin', sub: undefined })}`, 'claim sub invalid or missing'],
    ['malformed', 'Bearer not-a-jwt', 'malformed token'],
    ['garbage segments', `Bearer e30.${Buffer.from('{').toString('base64url')}.x`, 'malformed token'],
    ['basic scheme', `Basic ${Buffer.from('admin:admin').toString('base64')}`, 'malformed token'],
    ['living two days', `Bearer ${await token({ role: 'admin' }, { exp: 2 * 86_400 })}`, 'token lifetime over 86400 s'],
    ['exp in the far past with iat now', `Bearer ${await token({ role: 'admin', exp: now - 3600 }, { exp: null })}`, 'token expired'],
  ];
}

test('every bad token, on every write route and every path, is 401 with a Bearer challenge and writes nothing', async () => {
  const before = await state();
  for (const [name, authorization, description] of await badTokens()) {
    for (const [pathName, send] of Object.entries(PATHS)) {
      for (const [method, path, body] of WRITES) {
        const headers = { ...ESCALATE, ...(authorization ? { authorization } : {}) };
        const res = await send(method, path, headers, body);
        const where = `${name} / ${pathName} / ${method} ${path}`;
        assert.equal(res.status, 401, `${where}: ${JSON.stringify(res.body)}`);
        const challenge = headerOf(res, 'www-authenticate');
        if (description) {
          assert.equal(challenge, `Bearer realm="catalog", error="invalid_token", error_description="${description}"`, where);
          assert.equal(res.body.error, 'invalid_token', where);
          assert.equal(res.body.message, `authorization: ${description}`, where);
        } else {
          assert.equal(challenge, 'Bearer realm="catalog"', where);
          assert.equal(res.body.error, 'unauthorized', where);
        }
        assert.equal(res.body.field, 'authorization', where);
      }
    }
  }
  assert.deepEqual(await state(), before);
});

test('the partner key path (API Gateway) with x-catalog-role: admin and a shopper token is 403, nothing written', async () => {
  const before = await state();
  const shopper = await userHeaders('partner-shopper');
  for (const send of Object.values(PATHS)) {
    const res = await send('PUT', '/api/products/SKU-000001/inventory', { ...ESCALATE, ...shopper, 'x-api-key': 'qa-key-0123456789' }, '{"available":0}');
    assert.equal(res.status, 403, JSON.stringify(res.body));
    assert.equal(res.body.error, 'forbidden');
    // A role claim that is not the admin role is not the admin role, whatever the headers say.
    const other = await send('PUT', '/api/products/SKU-000001/inventory', { ...ESCALATE, ...(await bearer({ role: 'Admin' })) }, '{"available":0}');
    assert.equal(other.status, 403);
  }
  assert.deepEqual(await state(), before);
});

test('admin restock works with an admin token on API Gateway, ALB and HTTP; the audit actor is the token sub', async () => {
  let available = 10;
  for (const [pathName, send] of Object.entries(PATHS)) {
    const sub = `ops-${pathName}@example.com`;
    const res = await send('PUT', '/api/products/SKU-000002/inventory', { ...ESCALATE, ...(await adminHeaders(sub)) }, JSON.stringify({ add: 1, reason: pathName }));
    assert.equal(res.status, 200, `${pathName}: ${JSON.stringify(res.body)}`);
    available += 1;
    assert.equal(res.body.available, available);
    const { rows } = await db.query('SELECT actor, reason FROM inventory_audit WHERE id = $1', [res.body.auditId]);
    assert.deepEqual(rows[0], { actor: sub, reason: pathName });
  }
  // An EC-signed token is refused by an RSA-keyed API; the same token is fine once the API holds the EC key.
  const ecApi = await startServer({ env: { ...infra.env, ...authEnv(ec) }, port: 0, runtimeOptions: { metricsWrite: () => {} } });
  try {
    const res = await call(ecApi.url, '/api/products/SKU-000002/inventory', { method: 'PUT', headers: await bearer({ sub: 'ec-admin', role: 'admin' }, { pair: ec }), json: { add: 1 } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await call(ecApi.url, '/api/products/SKU-000002/inventory', { method: 'PUT', headers: await adminHeaders(), json: { add: 1 } })).status, 401);
  } finally {
    await ecApi.close();
  }
});

test('reservations need a signed-in user; any verified user may reserve', async () => {
  const res = await PATHS.apigw('POST', '/api/products/SKU-000003/reservations', await userHeaders('buyer-1'), '{"quantity":1,"idempotencyKey":"auth-resv-0001"}');
  assert.equal(res.status, 201, JSON.stringify(res.body));
});

test('session user ids come from tokens; a userId in the body is refused as an unknown field', async () => {
  for (const [pathName, send] of Object.entries(PATHS)) {
    const sub = `sess-${pathName}`;
    const res = await send('POST', '/api/sessions', { ...ESCALATE, ...(await userHeaders(sub)) }, '{"data":{"cart":"c"}}');
    assert.equal(res.status, 201, `${pathName}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.session.userId, sub);
    const claimed = await send('POST', '/api/sessions', await userHeaders(sub), '{"userId":"admin"}');
    assert.equal(claimed.status, 400);
    assert.equal(claimed.body.field, 'userId');
  }
});

test('reads stay public, and a token or x-catalog-* header changes nothing on them', async () => {
  assert.equal((await call(api.url, '/api/products/SKU-000004')).status, 200);
  assert.equal((await call(api.url, '/api/products/SKU-000004/inventory', { headers: ESCALATE })).status, 200);
  assert.equal((await PATHS.apigw('GET', '/api/products', {}, null)).status, 200);
});

test('the clock skew setting: a token expired within AUTH_CLOCK_SKEW_SECONDS passes, older does not', async () => {
  const within = await call(api.url, '/api/sessions', { method: 'POST', headers: await bearer({}, { exp: -10 }) });
  assert.equal(within.status, 201);
  const strict = await startServer({ env: { ...infra.env, AUTH_CLOCK_SKEW_SECONDS: '0' }, port: 0, runtimeOptions: { metricsWrite: () => {} } });
  try {
    const res = await call(strict.url, '/api/sessions', { method: 'POST', headers: await bearer({}, { exp: -10 }) });
    assert.equal(res.status, 401);
    assert.equal(res.body.message, 'authorization: token expired');
  } finally {
    await strict.close();
  }
});

test('iat: up to AUTH_CLOCK_SKEW_SECONDS in the future passes, beyond it is refused (the edge\'s rule)', async () => {
  // The default skew (30 s), as the edge applies it: iat 20 s ahead passes, 40 s ahead does not.
  assert.equal((await call(api.url, '/api/sessions', { method: 'POST', headers: await bearer({}, { iat: 20 }) })).status, 201);
  const ahead = await call(api.url, '/api/sessions', { method: 'POST', headers: await bearer({}, { iat: 40 }) });
  assert.equal(ahead.status, 401);
  assert.equal(ahead.body.message, 'authorization: token not yet valid');
  const strict = await startServer({ env: { ...infra.env, AUTH_CLOCK_SKEW_SECONDS: '0' }, port: 0, runtimeOptions: { metricsWrite: () => {} } });
  try {
    assert.equal((await call(strict.url, '/api/sessions', { method: 'POST', headers: await bearer({}, { iat: 20 }) })).status, 401);
  } finally {
    await strict.close();
  }
});

test('verified tokens are cached by their exact string: a hit returns the same identity, a changed byte is verified afresh, the cache never outlives exp', async () => {
  const { loadAuthConfig } = await import('../src/config.mjs');
  const { createVerifier } = await import('../src/auth.mjs');
  const env = { ...infra.env, AUTH_CLOCK_SKEW_SECONDS: '0' };
  const cached = createVerifier(loadAuthConfig(env));
  const uncached = createVerifier(loadAuthConfig({ ...env, AUTH_VERIFY_CACHE_ENTRIES: '0' }));
  const shopper = await token({ sub: 'cached-1' }, { exp: 4 });
  const header = `Bearer ${shopper}`;
  // The second call is a hit: the very identity object the first verification produced.
  const first = await cached.verify(header);
  assert.deepEqual(first, { sub: 'cached-1', role: null });
  assert.equal(await cached.verify(header), first);
  assert.notEqual(await uncached.verify(header), await uncached.verify(header));
  // One changed character of the signature: not the string that verified, so it is checked and refused.
  const last = shopper.at(-2) === 'A' ? 'B' : 'A';
  await assert.rejects(cached.verify(`Bearer ${shopper.slice(0, -2)}${last}${shopper.at(-1)}`),
    (err) => err.status === 401 && /signature verification failed|malformed token/.test(err.message));
  // Through the server, the cached identity is a shopper's: the admin route stays 403 on every hit.
  for (let i = 0; i < 2; i += 1) {
    const res = await call(api.url, '/api/products/SKU-000002/inventory', { method: 'PUT', headers: { authorization: header, 'content-type': 'application/json' }, body: '{"available":1}' });
    assert.equal(res.status, 403);
  }
  // Past exp (no clock tolerance here): the entry is dropped and the verifier names the reason.
  const { exp } = JSON.parse(Buffer.from(shopper.split('.')[1], 'base64url').toString());
  await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 200));
  await assert.rejects(cached.verify(header), (err) => err.status === 401 && err.message === 'authorization: token expired');
});

test('JWKS URL: RS256 and ES256 keys by kid, unknown kid refused, keys cached between requests', async () => {
  const jwks = await startJwks([['rsa-1', rsa], ['ec-1', ec]]);
  const env = { ...infra.env, AUTH_PUBLIC_KEY_PEM: '', AUTH_JWKS_URL: jwks.url, AUTH_ROLE_CLAIM: 'custom:role' };
  const server = await startServer({ env, port: 0, runtimeOptions: { metricsWrite: () => {} } });
  try {
    const viaRsa = await call(server.url, '/api/products/SKU-000005/inventory', { method: 'PUT', headers: await bearer({ sub: 'jwks-rsa', 'custom:role': 'admin' }, { kid: 'rsa-1' }), json: { add: 1 } });
    assert.equal(viaRsa.status, 200, JSON.stringify(viaRsa.body));
    const viaEc = await call(server.url, '/api/products/SKU-000005/inventory', { method: 'PUT', headers: await bearer({ sub: 'jwks-ec', 'custom:role': 'admin' }, { pair: ec, kid: 'ec-1' }), json: { add: 1 } });
    assert.equal(viaEc.status, 200, JSON.stringify(viaEc.body));
    // role claim name is configurable: "role" means nothing when AUTH_ROLE_CLAIM is custom:role
    const plainRole = await call(server.url, '/api/products/SKU-000005/inventory', { method: 'PUT', headers: await bearer({ role: 'admin' }, { kid: 'rsa-1' }), json: { add: 1 } });
    assert.equal(plainRole.status, 403);
    const fetched = jwks.state.requests;
    assert.equal(fetched, 1, 'one fetch serves every request while the cache is fresh');
    const unknownKid = await call(server.url, '/api/sessions', { method: 'POST', headers: await bearer({}, { kid: 'nope' }) });
    assert.equal(unknownKid.status, 401);
    assert.equal(unknownKid.body.message, 'authorization: no matching signing key');
    const again = await call(server.url, '/api/sessions', { method: 'POST', headers: await bearer({}, { kid: 'nope-2' }) });
    assert.equal(again.status, 401);
    // The first unknown kid may refetch once; the cooldown stops a second one from doing so.
    assert.ok(jwks.state.requests <= fetched + 1, `JWKS fetched ${jwks.state.requests} times`);
    const hmac = await call(server.url, '/api/sessions', { method: 'POST', headers: { authorization: `Bearer ${await hmacWithPublicKey()}` } });
    assert.equal(hmac.status, 401);
  } finally {
    await server.close();
    await jwks.close();
  }
});

test('JWKS unreachable: 503 (retryable), not a verdict on the token', async () => {
  const env = { ...infra.env, AUTH_PUBLIC_KEY_PEM: '', AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks.json' };
  const server = await startServer({ env, port: 0, runtimeOptions: { metricsWrite: () => {} } });
  try {
    const res = await call(server.url, '/api/sessions', { method: 'POST', headers: await bearer({}, { kid: 'k' }) });
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.error, 'service_unavailable');
  } finally {
    await server.close();
  }
});

test('identity settings: the server refuses to start with one line naming the setting', () => {
  const base = { PATH: process.env.PATH, ...infra.env };
  const cases = [
    [{ AUTH_ISSUER: '' }, /^Configuration error: AUTH_ISSUER is required but not set$/],
    [{ AUTH_AUDIENCE: '' }, /^Configuration error: AUTH_AUDIENCE is required but not set$/],
    [{ AUTH_PUBLIC_KEY_PEM: '' }, /^Configuration error: AUTH_PUBLIC_KEY_PEM or AUTH_JWKS_URL is required \(exactly one\)/],
    [{ AUTH_JWKS_URL: 'https://idp.example/jwks.json' }, /^Configuration error: AUTH_PUBLIC_KEY_PEM and AUTH_JWKS_URL are both set/],
    [{ AUTH_PUBLIC_KEY_PEM: '', AUTH_JWKS_URL: 'http://idp.example/jwks.json' }, /^Configuration error: AUTH_JWKS_URL must be an https:\/\/ URL/],
    [{ AUTH_PUBLIC_KEY_PEM: 'not a pem' }, /^Configuration error: AUTH_PUBLIC_KEY_PEM must be a PEM SPKI public key/],
    [{ AUTH_CLOCK_SKEW_SECONDS: '301' }, /^Configuration error: AUTH_CLOCK_SKEW_SECONDS must be between 0 and 300/],
    [{ AUTH_VERIFY_CACHE_SECONDS: '3601' }, /^Configuration error: AUTH_VERIFY_CACHE_SECONDS must be between 0 and 3600/],
    [{ AUTH_VERIFY_CACHE_ENTRIES: 'many' }, /^Configuration error: AUTH_VERIFY_CACHE_ENTRIES /],
  ];
  for (const [change, expected] of cases) {
    const run = spawnSync(process.execPath, ['src/server.mjs'], { cwd: PKG, env: { ...base, ...change }, encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 2, `${JSON.stringify(change)}: ${run.stderr}`);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0], expected);
  }
  // A small RSA key is refused like the edge refuses it.
  const weak = spawnSync(process.execPath, ['-e', `
    const { generateKeyPairSync } = require('node:crypto');
    process.stdout.write(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }));`], { encoding: 'utf8' }).stdout;
  const run = spawnSync(process.execPath, ['src/server.mjs'], { cwd: PKG, env: { ...base, AUTH_PUBLIC_KEY_PEM: weak }, encoding: 'utf8', timeout: 20_000 });
  assert.match(run.stderr, /AUTH_PUBLIC_KEY_PEM is unusable: RSA key under 2048 bits/);
});
