// Strict input on every route: unknown or repeated query parameters are 400 (on HTTP, ALB multi-value and
// API Gateway multi-value events), a non-JSON body is 415, and none of them reaches code that reads or writes.
// A client hanging up mid-body is logged as a client abort, not as a server error.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { seedAsOwner } from '../src/seed-data.mjs';
import { startServer } from '../src/server.mjs';
import { alb, apigw, context, unwrap } from './events.mjs';
import { call, captureJsonStdout, setupInfra, sleep, writeState } from './helpers.mjs';
import { adminHeaders, userHeaders } from './identity.mjs';

let infra;
let api;
let db;
let lambda;
let stdout;
let savedEnv;
let admin;
const emf = [];

before(async () => {
  infra = await setupInfra();
  savedEnv = { ...process.env };
  Object.assign(process.env, infra.env, { AWS_LAMBDA_FUNCTION_NAME: 'catalog-api-qa' });
  stdout = captureJsonStdout();
  api = await startServer({ env: infra.env, port: 0, runtimeOptions: { metricsWrite: (line) => emf.push(JSON.parse(line)) } });
  await seedAsOwner(infra.env, { count: 3, stock: 10 });
  db = new pg.Client(infra.pgOptions);
  await db.connect();
  lambda = await import('../src/lambda.mjs');
  admin = await adminHeaders();
});

after(async () => {
  stdout?.restore();
  process.env = savedEnv;
  await db?.end();
  await api?.close();
  await infra?.cleanup();
});

const state = () => writeState({ db, api, tables: infra.tables });

const SOME_ID = '00000000-0000-4000-8000-000000000001'; // cancel/confirm: the query is refused before the lookup
// Every route with a valid request apart from the query string.
async function routes() {
  const user = await userHeaders();
  const json = { 'content-type': 'application/json' };
  return [
    ['GET', '/health', {}, undefined],
    ['GET', '/health/ready', {}, undefined],
    ['GET', '/api/products', {}, undefined],
    ['GET', '/api/products/SKU-000001', {}, undefined],
    ['GET', '/api/products/SKU-000001/inventory', {}, undefined],
    ['PUT', '/api/products/SKU-000001/inventory', { ...admin, ...json }, '{"add":1}'],
    ['POST', '/api/products/SKU-000001/reservations', { ...user, ...json }, '{"quantity":1,"idempotencyKey":"strict-0001"}'],
    ['DELETE', `/api/products/SKU-000001/reservations/${SOME_ID}`, user, undefined],
    ['POST', `/api/products/SKU-000001/reservations/${SOME_ID}/confirm`, user, undefined],
    ['POST', '/api/sessions', { ...user, ...json }, '{}'],
    ['GET', '/api/sessions/current', {}, undefined],
  ];
}

test('an unknown query parameter is refused on every route, on HTTP and both Lambda event shapes, before any I/O', async () => {
  const before = await state();
  for (const [method, path, headers, body] of await routes()) {
    const http = await call(api.url, `${path}?debug=1`, { method, headers, body });
    assert.equal(http.status, 400, `${method} ${path}: ${JSON.stringify(http.body)}`);
    assert.equal(http.body.error, 'validation_error');
    assert.equal(http.body.field, 'debug');
    for (const event of [
      apigw({ method, path, headers, body: body ?? null, query: { debug: '1' } }),
      alb({ multi: true, method, path, headers, body: body ?? '', query: { debug: '1' } }),
      alb({ method, path, headers, body: body ?? '', query: { debug: '1' } }),
    ]) {
      const res = unwrap(await lambda.handler(event, context));
      assert.equal(res.status, 400, `${method} ${path} (lambda): ${JSON.stringify(res.body)}`);
      assert.equal(res.body.field, 'debug');
    }
  }
  // In particular the product detail read did not fill the cache, and no write happened.
  assert.deepEqual(await state(), before);
});

test('a repeated query parameter is refused: HTTP, ALB multiValueQueryStringParameters, API Gateway multi-value', async () => {
  const http = await call(api.url, '/api/products?limit=1&limit=100');
  assert.equal(http.status, 400);
  assert.equal(http.body.field, 'limit');
  assert.match(http.body.message, /more than once/);
  const viaAlb = unwrap(await lambda.handler(alb({ multi: true, path: '/api/products', query: { limit: ['1', '100'] } }), context));
  assert.equal(viaAlb.status, 400);
  assert.equal(viaAlb.body.field, 'limit');
  const viaApigw = unwrap(await lambda.handler(apigw({ path: '/api/products', query: { category: ['books', 'toys'] } }), context));
  assert.equal(viaApigw.status, 400);
  assert.equal(viaApigw.body.field, 'category');
  // Known parameters given once still work everywhere.
  assert.equal(unwrap(await lambda.handler(alb({ multi: true, path: '/api/products', query: { limit: '2' } }), context)).body.items.length, 2);
  assert.equal((await call(api.url, '/api/products?limit=2&category=books')).status, 200);
});

test('a body that is not application/json is 415 and writes nothing; charset=utf-8 is fine', async () => {
  const before = await state();
  const user = await userHeaders();
  const cases = [
    ['POST', '/api/sessions', { ...user, 'content-type': 'text/plain' }, '{}'],
    ['POST', '/api/sessions', { ...user, 'content-type': 'application/x-www-form-urlencoded' }, 'data=1'],
    ['POST', '/api/products/SKU-000002/reservations', { ...user, 'content-type': 'application/json-patch+json' }, '{"quantity":1,"idempotencyKey":"ct-00001"}'],
    ['POST', '/api/products/SKU-000002/reservations', { ...user, 'content-type': 'application/json; charset=latin1' }, '{"quantity":1,"idempotencyKey":"ct-00002"}'],
    ['PUT', '/api/products/SKU-000002/inventory', { ...admin, 'content-type': 'multipart/form-data; boundary=x' }, '--x--'],
    ['POST', `/api/products/SKU-000002/reservations/${SOME_ID}/confirm`, { ...user, 'content-type': 'text/plain' }, '{}'],
  ];
  for (const [method, path, headers, body] of cases) {
    const res = await call(api.url, path, { method, headers, body });
    assert.equal(res.status, 415, `${headers['content-type']}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error, 'unsupported_media_type');
    const viaApigw = unwrap(await lambda.handler(apigw({ method, path, headers, body }), context));
    assert.equal(viaApigw.status, 415);
  }
  // No Content-Type at all with a body: refused too (the Lambda event can carry a body without the header).
  const bare = unwrap(await lambda.handler(apigw({ method: 'POST', path: '/api/sessions', headers: user, body: '{}' }), context));
  assert.equal(bare.status, 415);
  assert.deepEqual(await state(), before);
  const ok = await call(api.url, '/api/sessions', { method: 'POST', headers: { ...user, 'content-type': 'application/json; charset=UTF-8' }, body: '{}' });
  assert.equal(ok.status, 201);
});

test('a client that hangs up mid-body is a client abort: no 500, no ERROR line, no ServerErrors', async () => {
  stdout.lines.length = 0;
  emf.length = 0;
  const before = await state();
  const { port } = new URL(api.url);
  const user = await userHeaders();
  const socket = net.connect({ host: '127.0.0.1', port: Number(port) });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`POST /api/products/SKU-000003/reservations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${user.authorization}\r\n`
    + 'Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"quantity":1,');
  await sleep(100);
  socket.destroy();
  const deadline = Date.now() + 3000;
  while (!stdout.lines.some((l) => l.event === 'request.completed') && Date.now() < deadline) await sleep(25);
  const aborted = stdout.lines.find((l) => l.event === 'request.aborted');
  assert.ok(aborted, JSON.stringify(stdout.lines));
  assert.equal(aborted.level, 'INFO');
  assert.equal(aborted.route, 'POST /api/products/{sku}/reservations');
  assert.ok(!stdout.lines.some((l) => l.level === 'ERROR'), JSON.stringify(stdout.lines));
  const completed = stdout.lines.find((l) => l.event === 'request.completed');
  assert.equal(completed.status, 499);
  assert.ok(emf.length >= 1);
  assert.ok(emf.every((d) => d.ServerErrors === 0), JSON.stringify(emf));
  assert.deepEqual(await state(), before);
});
