// Bad input gets a JSON error naming the field and writes nothing; sessions
// live in DynamoDB with a TTL and a cookie; unknown routes are 404.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { startServer } from '../src/server.mjs';
import { call, startApi, sleep } from './helpers.mjs';
import { adminHeaders, userHeaders } from './identity.mjs';

let ctx;
let infra;
let api;
let db;
let stdout;
let shopper;

before(async () => {
  ctx = await startApi({ servers: { api: { SESSION_TTL_SECONDS: '1' } }, seed: { count: 3, stock: 5 } });
  ({ infra, db, stdout, servers: { api } } = ctx);
  shopper = await userHeaders('shopper-1');
});

after(() => ctx?.stop());

const reserve = (sku, body, headers = {}) => call(api.url, `/api/products/${sku}/reservations`, {
  method: 'POST', headers: { 'content-type': 'application/json', ...shopper, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body),
});

test('reservation input errors name the field and change nothing', async () => {
  const cases = [
    ['{"quantity": 1,', 'body'],
    ['[1, 2]', 'body'],
    ['', 'body'],
    [{ quantity: '2', idempotencyKey: 'key-000001' }, 'quantity'],
    [{ quantity: -1, idempotencyKey: 'key-000001' }, 'quantity'],
    [{ quantity: 0, idempotencyKey: 'key-000001' }, 'quantity'],
    [{ quantity: 1.5, idempotencyKey: 'key-000001' }, 'quantity'],
    [{ quantity: 1e12, idempotencyKey: 'key-000001' }, 'quantity'],
    [{ idempotencyKey: 'key-000001' }, 'quantity'],
    [{ quantity: 1 }, 'idempotencyKey'],
    [{ quantity: 1, idempotencyKey: 'short' }, 'idempotencyKey'],
    [{ quantity: 1, idempotencyKey: 12345678 }, 'idempotencyKey'],
    [{ quantity: 1, idempotencyKey: 'key with spaces' }, 'idempotencyKey'],
    [{ quantity: 1, idempotencyKey: 'key-000001', price: 0 }, 'price'],
  ];
  for (const [body, field] of cases) {
    const res = await reserve('SKU-000001', body);
    assert.equal(res.status, 400, `${JSON.stringify(body)} -> ${res.status}`);
    assert.equal(res.body.error, 'validation_error');
    assert.equal(res.body.field, field, JSON.stringify(body));
    assert.match(res.body.message, new RegExp(`^${field}`));
  }
  const badSku = await reserve('bad%24sku', { quantity: 1, idempotencyKey: 'key-000001' });
  assert.equal(badSku.status, 400);
  assert.equal(badSku.body.field, 'sku');
  const unknown = await reserve('NOPE-404', { quantity: 1, idempotencyKey: 'key-000001' });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error, 'not_found');

  const huge = await reserve('SKU-000001', JSON.stringify({ quantity: 1, idempotencyKey: 'key-000001', pad: 'x'.repeat(20_000) }));
  assert.equal(huge.status, 413);
  assert.equal(huge.body.field, 'body');

  const { rows } = await db.query(`SELECT (SELECT count(*)::int FROM reservations) AS reservations, (SELECT available FROM inventory WHERE sku = 'SKU-000001') AS available`);
  assert.deepEqual(rows[0], { reservations: 0, available: 5 });
});

test('a reused idempotency key with a different request is refused', async () => {
  assert.equal((await reserve('SKU-000002', { quantity: 2, idempotencyKey: 'reuse-key-1' })).status, 201);
  const other = await reserve('SKU-000002', { quantity: 3, idempotencyKey: 'reuse-key-1' });
  assert.equal(other.status, 422);
  assert.equal(other.body.field, 'idempotencyKey');
  const inv = await call(api.url, '/api/products/SKU-000002/inventory');
  assert.equal(inv.body.available, 3);
});

test('query, restock and session input errors name the field', async () => {
  const admin = await adminHeaders();
  const cases = [
    [call(api.url, '/api/products?limit=0'), 'limit'],
    [call(api.url, '/api/products?limit=abc'), 'limit'],
    [call(api.url, '/api/products?limit=101'), 'limit'],
    [call(api.url, '/api/products?cursor=not-a-cursor'), 'cursor'],
    [call(api.url, `/api/products?cursor=${Buffer.from('{"k":"x y"}').toString('base64url')}`), 'cursor'],
    [call(api.url, '/api/products?category=%27%3B%20DROP'), 'category'],
    [call(api.url, '/api/products?sort=price'), 'sort'],
    [call(api.url, '/api/products/has.dot'), 'sku'],
    [call(api.url, '/api/products/SKU-000001/inventory', { method: 'PUT', headers: admin, json: { available: 1, add: 1 } }), 'available'],
    [call(api.url, '/api/products/SKU-000001/inventory', { method: 'PUT', headers: admin, json: {} }), 'available'],
    [call(api.url, '/api/products/SKU-000001/inventory', { method: 'PUT', headers: admin, json: { available: -1 } }), 'available'],
    [call(api.url, '/api/products/SKU-000001/inventory', { method: 'PUT', headers: admin, json: { add: 1e9 } }), 'add'],
    [call(api.url, '/api/products/SKU-000001/inventory', { method: 'PUT', headers: admin, json: { add: 1, reason: 'x'.repeat(201) } }), 'reason'],
    [call(api.url, '/api/sessions', { method: 'POST', headers: shopper, json: { userId: 'admin' } }), 'userId'],
    [call(api.url, '/api/sessions', { method: 'POST', headers: shopper, json: { data: [1] } }), 'data'],
    [call(api.url, '/api/sessions', { method: 'POST', headers: { ...shopper, 'content-type': 'application/json' }, body: 'nope' }), 'body'],
  ];
  for (const [pending, field] of cases) {
    const res = await pending;
    assert.equal(res.status, 400, `${field}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.field, field);
    assert.ok(res.body.requestId);
  }
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM inventory_audit`);
  assert.equal(rows[0].n, 0);
});

test('unknown routes and methods answer 404 in JSON', async () => {
  for (const [method, path] of [['GET', '/nope'], ['DELETE', '/api/products'], ['GET', '/api/products/SKU-000001/extra'], ['POST', '/health']]) {
    const res = await call(api.url, path, { method });
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.equal(res.body.error, 'not_found');
  }
  assert.equal((await call(api.url, '/api/products/SKU-999999')).status, 404);
  assert.equal((await call(api.url, '/api/products/SKU-999999/inventory')).status, 404);
});

test('sessions: stored in DynamoDB with a TTL attribute, cookie-bound, expired after SESSION_TTL_SECONDS', async () => {
  const created = await call(api.url, '/api/sessions', { method: 'POST', headers: shopper, json: { data: { cart: 'c1' } } });
  assert.equal(created.status, 201);
  const setCookie = created.headers.get('set-cookie');
  assert.match(setCookie, /^catalog_session=[A-Za-z0-9_-]{43}; Max-Age=1; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
  const cookie = setCookie.split(';')[0];
  const sessionId = cookie.split('=')[1];
  const { Item } = await api.runtime.doc.send(new GetCommand({ TableName: infra.tables.sessions, Key: { sessionId } }));
  assert.equal(Item.userId, 'shopper-1');
  assert.equal(typeof Item.expiresAt, 'number');
  assert.ok(Item.expiresAt >= Date.now() / 1000 && Item.expiresAt <= Date.now() / 1000 + 2);
  assert.equal(typeof Item.createdAt, 'number');

  const current = await call(api.url, '/api/sessions/current', { headers: { cookie } });
  assert.equal(current.status, 200);
  assert.deepEqual(current.body.session.data, { cart: 'c1' });
  assert.equal(current.body.session.userId, 'shopper-1');
  assert.equal(current.body.session.sessionId, undefined);

  assert.equal((await call(api.url, '/api/sessions/current')).status, 401);
  assert.equal((await call(api.url, '/api/sessions/current', { headers: { cookie: 'catalog_session=forged' } })).status, 401);
  await sleep(2100);
  const expired = await call(api.url, '/api/sessions/current', { headers: { cookie } });
  assert.equal(expired.status, 401);
  assert.equal(expired.body.error, 'no_session');
});

test('a session accepts an empty body and belongs to the token subject', async () => {
  const res = await call(api.url, '/api/sessions', { method: 'POST', headers: await userHeaders('someone@example.com') });
  assert.equal(res.status, 201);
  assert.equal(res.body.session.userId, 'someone@example.com');
});

test('readiness reports 503 naming the unreachable dependency, logged at ERROR', async () => {
  const broken = await startServer({ env: { ...infra.env, DB_PORT: '1' }, port: 0, runtimeOptions: { metricsWrite: () => {} } });
  try {
    stdout.lines.length = 0;
    const res = await call(broken.url, '/health/ready');
    assert.equal(res.status, 503);
    assert.match(res.body.checks.writer, /^error/);
    assert.equal(res.body.checks.cacheTable, 'ok');
    assert.ok(stdout.lines.some((l) => l.level === 'ERROR' && l.status === 503 && l.route === 'GET /health/ready'));
    const read = await call(broken.url, '/api/products/SKU-000001/inventory');
    assert.equal(read.status, 503);
    assert.equal(read.body.error, 'service_unavailable');
  } finally {
    await broken.close();
  }
});
