// The Lambda entry point with events in the documented AWS shapes: ALB with and
// without multi-value headers, API Gateway REST proxy (v1), and the task
// payloads the App layer sends (migrate on deploy; the seed on the migrate function).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { listMigrations } from '../src/migrate.mjs';
import { contract } from '../src/observability.mjs';
import { captureJsonStdout, setupInfra } from './helpers.mjs';
import { alb, apigw, context } from './events.mjs';
import { userHeaders } from './identity.mjs';


let infra;
let lambda;
let stdout;
let savedEnv;

before(async () => {
  infra = await setupInfra({ migrateSchema: false });
  savedEnv = { ...process.env };
  Object.assign(process.env, infra.env, { AWS_LAMBDA_FUNCTION_NAME: 'catalog-api-qa', POWERTOOLS_SERVICE_NAME: 'catalog-api-qa' });
  stdout = captureJsonStdout();
  lambda = await import('../src/lambda.mjs');
});

after(async () => {
  stdout?.restore();
  process.env = savedEnv;
  await infra?.cleanup();
});

test('migrate payload on the main handler: applies once, then nothing', async () => {
  const first = await lambda.handler({ catalogTask: 'migrate' }, context);
  assert.equal(first.ok, true);
  assert.deepEqual(first.applied, (await listMigrations()).map((m) => m.name));
  const second = await lambda.handler({ catalogTask: 'migrate' }, context);
  assert.deepEqual(second.applied, []);
  assert.equal(second.alreadyApplied.length, first.applied.length);
  assert.deepEqual((await lambda.migrateHandler({}, context)).applied, []);
  // The seed runs on the migrate function, as the owner role; the API's handler refuses it (its role may not seed).
  await assert.rejects(lambda.handler({ catalogTask: 'seed', count: 12, stock: 4 }, context), /runs as the owner role: invoke the migrate function/);
  const seeded = await lambda.migrateHandler({ catalogTask: 'seed', count: 12, stock: 4 }, context);
  assert.equal(seeded.inserted, 12);
  await assert.rejects(lambda.migrateHandler({ catalogTask: 'release-expired' }, context), /unknown catalogTask "release-expired" for the migrate function/);
  assert.equal((await lambda.handler({ catalogTask: 'release-expired' }, context)).released, 0);
  await assert.rejects(lambda.handler({ catalogTask: 'drop-everything' }, context), /unknown catalogTask "drop-everything"/);
  await assert.rejects(lambda.handler({ source: 'aws.events' }, context), /unsupported event/);
});

test('ALB without multi-value headers: single-value response with statusDescription', async () => {
  const res = await lambda.handler(alb({ path: '/api/products/SKU-000001' }), context);
  assert.equal(res.statusCode, 200);
  assert.equal(res.statusDescription, '200 OK');
  assert.equal(res.isBase64Encoded, false);
  assert.equal(res.multiValueHeaders, undefined);
  assert.match(res.headers['content-type'], /^application\/json/);
  assert.equal(res.headers['x-request-id'], context.awsRequestId);
  assert.equal(JSON.parse(res.body).sku, 'SKU-000001');

  const page = await lambda.handler(alb({ path: '/api/products', query: { limit: '5' } }), context);
  assert.equal(JSON.parse(page.body).items.length, 5);

  const created = await lambda.handler(alb({ method: 'POST', path: '/api/sessions', headers: { 'content-type': 'application/json', ...(await userHeaders('alb-user')) }, body: '{}' }), context);
  assert.equal(created.statusCode, 201);
  assert.equal(created.statusDescription, '201 Created');
  assert.match(created.headers['set-cookie'], /^catalog_session=/);
  const cookie = created.headers['set-cookie'].split(';')[0];
  const current = await lambda.handler(alb({ path: '/api/sessions/current', headers: { cookie } }), context);
  assert.equal(JSON.parse(current.body).session.userId, 'alb-user');

  const missing = await lambda.handler(alb({ path: '/nowhere' }), context);
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.statusDescription, '404 Not Found');
});

test('ALB with multi-value headers: arrays in, arrays out, several cookies understood', async () => {
  const created = await lambda.handler(alb({ multi: true, method: 'POST', path: '/api/sessions', headers: { 'content-type': 'application/json', ...(await userHeaders()) }, body: '{}' }), context);
  assert.equal(created.statusCode, 201);
  assert.equal(created.headers, undefined);
  assert.ok(Array.isArray(created.multiValueHeaders['set-cookie']));
  assert.deepEqual(created.multiValueHeaders['content-type'], ['application/json']);
  const cookie = created.multiValueHeaders['set-cookie'][0].split(';')[0];
  // The ALB sends each Cookie header as one array element.
  const current = await lambda.handler(alb({ multi: true, path: '/api/sessions/current', headers: { cookie: ['theme=dark', cookie] } }), context);
  assert.equal(current.statusCode, 200, current.body);
  assert.equal(current.statusDescription, '200 OK');

  const page = await lambda.handler(alb({ multi: true, path: '/api/products', query: { limit: '3', category: 'books' } }), context);
  const items = JSON.parse(page.body).items;
  assert.ok(items.length > 0 && items.every((p) => p.category === 'books'));

  const bad = await lambda.handler(alb({ multi: true, method: 'POST', path: '/api/products/SKU-000002/reservations', headers: { 'content-type': 'application/json', ...(await userHeaders()) }, body: '{"quantity":"x","idempotencyKey":"alb-key-0001"}' }), context);
  assert.equal(bad.statusCode, 400);
  assert.equal(JSON.parse(bad.body).field, 'quantity');
});

test('API Gateway REST proxy (v1): its own response format, its request id', async () => {
  const res = await lambda.handler(apigw({ path: '/api/products/SKU-000003' }), context);
  assert.equal(res.statusCode, 200);
  assert.equal(res.statusDescription, undefined);
  assert.equal(JSON.parse(res.body).sku, 'SKU-000003');
  const headers = res.headers ?? Object.fromEntries(Object.entries(res.multiValueHeaders).map(([k, v]) => [k, v[0]]));
  assert.equal(headers['x-request-id'], '77375676-xmpl-4b79-853a-f982474efe18');

  const body = JSON.stringify({ quantity: 2, idempotencyKey: 'apigw-key-0001' });
  const user = await userHeaders();
  const reserved = await lambda.handler(apigw({ method: 'POST', path: '/api/products/SKU-000003/reservations', headers: { 'Content-Type': 'application/json', ...user }, body }), context);
  assert.equal(reserved.statusCode, 201, reserved.body);
  const replay = await lambda.handler(apigw({ method: 'POST', path: '/api/products/SKU-000003/reservations', headers: { 'Content-Type': 'application/json', ...user }, body: Buffer.from(body).toString('base64'), base64: true }), context);
  assert.equal(replay.statusCode, 200);
  assert.equal(JSON.parse(replay.body).reservation.id, JSON.parse(reserved.body).reservation.id);

  const page = await lambda.handler(apigw({ path: '/api/products', query: { limit: '4' } }), context);
  assert.equal(JSON.parse(page.body).items.length, 4);

  const session = await lambda.handler(apigw({ method: 'POST', path: '/api/sessions', headers: user }), context);
  assert.equal(session.statusCode, 201);
  assert.match(session.multiValueHeaders['set-cookie'][0], /^catalog_session=.*HttpOnly/);

  const missing = await lambda.handler(apigw({ method: 'PATCH', path: '/api/products' }), context);
  assert.equal(missing.statusCode, 404);
});

test('Lambda invocations write the contract log line and EMF document to stdout', () => {
  const F = contract.logFields;
  const log = stdout.lines.find((l) => l[F.event] === contract.logEvents.request && l[F.route] === 'GET /api/products/{sku}');
  assert.ok(log);
  assert.equal(log.service, 'catalog-api-qa');
  const doc = stdout.lines.find((l) => l._aws && l.route === 'GET /api/products/{sku}');
  assert.ok(doc);
  assert.equal(doc.service, 'catalog-api-qa');
  assert.equal(doc._aws.CloudWatchMetrics[0].Namespace, 'CatalogApi');
});
