// Product endpoints over the local HTTP server, against real PostgreSQL and
// moto: pagination, the two cache tiers and their invalidation, restock with
// audit, and the log/metric lines the Observability layer relies on.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LocalCache } from '../src/cache.mjs';
import { contract } from '../src/observability.mjs';
import { startServer } from '../src/server.mjs';
import { call, startApi, sleep } from './helpers.mjs';
import { adminHeaders, bearer, userHeaders } from './identity.mjs';

let ctx;
let infra;
let api; // DynamoDB tier only (LOCAL_CACHE_TTL_MS=0): every cache answer is observable
let hot; // both tiers, as in production
let db;
const emf = [];
let stdout;

before(async () => {
  ctx = await startApi({
    servers: { api: { LOCAL_CACHE_TTL_MS: '0', CACHE_TTL_SECONDS: '30' }, hot: { LOCAL_CACHE_TTL_MS: '300' } },
    runtimeOptions: { metricsWrite: (line) => emf.push(JSON.parse(line)) },
    seed: { count: 25, stock: 10 },
  });
  ({ infra, db, stdout, servers: { api, hot } } = ctx);
});

after(() => ctx?.stop());

test('GET /health answers without I/O and /health/ready checks every dependency', async () => {
  assert.deepEqual((await call(api.url, '/health')).body, { status: 'ok' });
  const ready = await call(api.url, '/health/ready');
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.body.checks, { writer: 'ok', reader: 'ok', sessionsTable: 'ok', cacheTable: 'ok' });
});

test('GET /api/products pages with an opaque keyset cursor', async () => {
  const seen = [];
  let cursor;
  const sizes = [];
  do {
    const res = await call(api.url, `/api/products?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.status, 200);
    sizes.push(res.body.items.length);
    seen.push(...res.body.items.map((p) => p.sku));
    cursor = res.body.nextCursor;
  } while (cursor);
  assert.deepEqual(sizes, [10, 10, 5]);
  assert.deepEqual(seen, [...seen].sort());
  assert.equal(new Set(seen).size, 25);
  assert.equal((await call(api.url, '/api/products?limit=10')).headers.get('x-cache'), 'hit-dynamodb');

  const books = await call(api.url, '/api/products?category=books&limit=2');
  assert.equal(books.body.items.length, 2);
  assert.ok(books.body.items.every((p) => p.category === 'books'));
  const rest = await call(api.url, `/api/products?category=books&limit=100&cursor=${books.body.nextCursor}`);
  assert.ok(rest.body.items.every((p) => p.category === 'books' && p.sku > books.body.items[1].sku));
  assert.equal(rest.body.nextCursor, null);
});

test('GET /api/products/{sku}: miss, DynamoDB hit, invalidated by a restock', async () => {
  const first = await call(api.url, '/api/products/SKU-000003');
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('x-cache'), 'miss');
  assert.equal(first.body.available, 10);
  assert.equal(first.body.category, 'toys');
  const second = await call(api.url, '/api/products/SKU-000003');
  assert.equal(second.headers.get('x-cache'), 'hit-dynamodb');
  assert.deepEqual(second.body, first.body);

  const restock = await call(api.url, '/api/products/SKU-000003/inventory', {
    method: 'PUT', headers: await adminHeaders('ops@example.com'), json: { available: 42, reason: 'flash sale' },
  });
  assert.equal(restock.status, 200);
  assert.equal(restock.body.previousAvailable, 10);
  assert.equal(restock.body.available, 42);
  const audit = await db.query('SELECT previous_available, new_available, actor, reason FROM inventory_audit WHERE id = $1', [restock.body.auditId]);
  assert.deepEqual(audit.rows[0], { previous_available: 10, new_available: 42, actor: 'ops@example.com', reason: 'flash sale' });

  const third = await call(api.url, '/api/products/SKU-000003');
  assert.equal(third.headers.get('x-cache'), 'miss');
  assert.equal(third.body.available, 42);
});

test('a reservation invalidates the cached product; inventory is always fresh', async () => {
  await call(api.url, '/api/products/SKU-000004');
  assert.equal((await call(api.url, '/api/products/SKU-000004')).headers.get('x-cache'), 'hit-dynamodb');
  const r = await call(api.url, '/api/products/SKU-000004/reservations', { method: 'POST', headers: await userHeaders(), json: { quantity: 3, idempotencyKey: 'inv-fresh-1' } });
  assert.equal(r.status, 201);
  const inv = await call(api.url, '/api/products/SKU-000004/inventory');
  assert.equal(inv.headers.get('cache-control'), 'no-store');
  assert.equal(inv.body.available, 7);
  assert.equal(inv.body.reserved, 3);
  const product = await call(api.url, '/api/products/SKU-000004');
  assert.equal(product.headers.get('x-cache'), 'miss');
  assert.equal(product.body.available, 7);
});

test('the in-process cache serves hot reads, expires after its TTL and is bounded', async () => {
  assert.equal((await call(hot.url, '/api/products/SKU-000005')).headers.get('x-cache'), 'miss');
  assert.equal((await call(hot.url, '/api/products/SKU-000005')).headers.get('x-cache'), 'hit-local');
  await sleep(350);
  assert.equal((await call(hot.url, '/api/products/SKU-000005')).headers.get('x-cache'), 'hit-dynamodb');

  const lru = new LocalCache({ ttlMs: 1000, maxEntries: 3 });
  for (const k of ['a', 'b', 'c']) lru.set(k, k);
  lru.get('a'); // a is now the most recent
  lru.set('d', 'd');
  assert.equal(lru.size, 3);
  assert.equal(lru.get('b'), undefined);
  assert.equal(lru.get('a'), 'a');
  const off = new LocalCache({ ttlMs: 0, maxEntries: 3 });
  off.set('x', 1);
  assert.equal(off.get('x'), undefined);
});

test('restock needs the admin role and refuses unknown SKUs without writing', async () => {
  const noToken = await call(api.url, '/api/products/SKU-000006/inventory', { method: 'PUT', json: { add: 5 } });
  assert.equal(noToken.status, 401);
  assert.equal(noToken.body.field, 'authorization');
  const user = await call(api.url, '/api/products/SKU-000006/inventory', { method: 'PUT', headers: await bearer({ role: 'shopper' }), json: { add: 5 } });
  assert.equal(user.status, 403);
  const admin = await adminHeaders();
  const unknown = await call(api.url, '/api/products/NOPE-1/inventory', { method: 'PUT', headers: admin, json: { add: 5 } });
  assert.equal(unknown.status, 404);
  const add = await call(api.url, '/api/products/SKU-000006/inventory', { method: 'PUT', headers: admin, json: { add: 5 } });
  assert.equal(add.body.available, 15);
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM inventory_audit WHERE sku IN ('SKU-000006', 'NOPE-1')`);
  assert.equal(rows[0].n, 1);
});

test('each request logs one contract line and one EMF document', async () => {
  stdout.lines.length = 0;
  emf.length = 0;
  const res = await call(api.url, '/api/products/SKU-000007', { headers: { 'x-request-id': 'trace-abc-123' } });
  assert.equal(res.headers.get('x-request-id'), 'trace-abc-123');
  const F = contract.logFields;
  const line = stdout.lines.find((l) => l[F.event] === contract.logEvents.request && l[F.requestId] === 'trace-abc-123');
  assert.ok(line, JSON.stringify(stdout.lines));
  assert.equal(line[F.level], 'INFO');
  assert.equal(line[F.route], 'GET /api/products/{sku}');
  assert.equal(line[F.status], 200);
  assert.equal(typeof line[F.durationMs], 'number');
  assert.equal(line.service, 'catalog-api-test');

  const doc = emf.find((d) => d.route === 'GET /api/products/{sku}');
  assert.equal(doc.service, 'catalog-api-test');
  assert.equal(doc.RequestCount, 1);
  assert.equal(doc.CacheMisses, 1);
  const directives = doc._aws.CloudWatchMetrics;
  assert.ok(directives.every((d) => d.Namespace === contract.namespace));
  for (const [name, spec] of Object.entries(contract.metrics)) {
    const holder = directives.find((d) => d.Metrics.some((m) => m.Name === name));
    if (!holder) continue;
    assert.deepEqual(holder.Dimensions, spec.dimensionSets, name);
    assert.equal(holder.Metrics.find((m) => m.Name === name).Unit, spec.unit);
  }

  // Sold out: the contract's log event and metric.
  await call(api.url, '/api/products/SKU-000007/reservations', { method: 'POST', headers: await userHeaders(), json: { quantity: 10, idempotencyKey: 'drain-0007' } });
  const sold = await call(api.url, '/api/products/SKU-000007/reservations', { method: 'POST', headers: await userHeaders(), json: { quantity: 1, idempotencyKey: 'late-0007' } });
  assert.equal(sold.status, 409);
  assert.equal(sold.body.error, 'sold_out');
  assert.ok(stdout.lines.some((l) => l[F.event] === contract.logEvents.soldOut && l[F.requestId] === sold.headers.get('x-request-id')));
  assert.ok(emf.some((d) => d.ReservationsSoldOut === 1 && d.ClientErrors === 1));
  assert.ok(emf.some((d) => d.ReservationsSucceeded === 1));
});

test('POWERTOOLS_METRICS_NAMESPACE overrides the contract default', async () => {
  const lines = [];
  const other = await startServer({
    env: { ...infra.env, POWERTOOLS_METRICS_NAMESPACE: 'CatalogApiQa' }, port: 0, runtimeOptions: { metricsWrite: (l) => lines.push(JSON.parse(l)) },
  });
  try {
    await call(other.url, '/health');
    assert.equal(lines[0]._aws.CloudWatchMetrics[0].Namespace, 'CatalogApiQa');
  } finally {
    await other.close();
  }
});
