// Reservation lifecycle against real PostgreSQL and moto: cancel and confirm, ownership, the
// confirm/cancel/expiry races (exactly one wins), bad input writing nothing, overload answered 503 fast,
// the lifecycle metrics, and the coalesced product-cache invalidation.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { startServer } from '../src/server.mjs';
import { runTask } from '../src/tasks.mjs';
import { call, startApi, sleep } from './helpers.mjs';
import { adminHeaders, userHeaders } from './identity.mjs';

let ctx;
let infra;
let api; // TTL 2 s, so expiry is reachable in a test
let db;
const emf = [];
let admin;
let alice; // the default shopper: makes, cancels and confirms her own reservations
let bob; // another subject: someone else's reservation

before(async () => {
  admin = await adminHeaders();
  alice = await userHeaders('alice');
  bob = await userHeaders('bob');
  ctx = await startApi({
    servers: { api: { RESERVATION_TTL_SECONDS: '2', DB_QUEUE_WAIT_BUDGET_MS: '60000', DB_QUEUE_TARGET_MS: '60000', DB_CONNECT_TIMEOUT_MS: '20000', DB_LOCK_TIMEOUT_MS: '5000', DB_STATEMENT_TIMEOUT_MS: '20000', LOCAL_CACHE_TTL_MS: '0', CACHE_TTL_SECONDS: '30' } },
    runtimeOptions: { metricsWrite: (line) => emf.push(JSON.parse(line)) },
    seed: { count: 10, stock: 0 },
  });
  ({ infra, db, servers: { api } } = ctx);
});

after(() => ctx?.stop());

let seq = 0;
const newKey = (p = 'k') => `${p}-${String(seq++).padStart(6, '0')}-${process.pid}`;
const restock = (sku, json) => call(api.url, `/api/products/${sku}/inventory`, { method: 'PUT', headers: admin, json });
const reserve = (sku, quantity, idempotencyKey = newKey(), as = alice) =>
  call(api.url, `/api/products/${sku}/reservations`, { method: 'POST', headers: as, json: { quantity, idempotencyKey } });
const cancel = (sku, id, as = alice) => call(api.url, `/api/products/${sku}/reservations/${id}`, { method: 'DELETE', headers: as });
const confirm = (sku, id, as = alice) => call(api.url, `/api/products/${sku}/reservations/${id}/confirm`, { method: 'POST', headers: as });
const summary = async (sku) => {
  const s = (await db.query('SELECT * FROM stock_summary($1)', [sku])).rows[0];
  return { available: Number(s.available), held: Number(s.held), confirmed: Number(s.confirmed), negative: s.negative_shards };
};
const statusOf = async (id) => (await db.query('SELECT status FROM reservations WHERE id = $1', [id])).rows[0].status;

test('cancel returns the units, is idempotent for the owner, and a cancelled reservation cannot be confirmed', async () => {
  await restock('SKU-000001', { available: 20, shards: 4 });
  const key = newKey('cancel');
  const made = await reserve('SKU-000001', 3, key);
  assert.equal(made.status, 201);
  const { id } = made.body.reservation;
  assert.deepEqual(await summary('SKU-000001'), { available: 17, held: 3, confirmed: 0, negative: 0 });

  const done = await cancel('SKU-000001', id);
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.deepEqual([done.body.reservation.status, done.body.replayed], ['cancelled', false]);
  assert.deepEqual(await summary('SKU-000001'), { available: 20, held: 0, confirmed: 0, negative: 0 });
  // Again: same answer, nothing changes (the units are not returned twice).
  const again = await cancel('SKU-000001', id);
  assert.deepEqual([again.status, again.body.replayed, again.headers.get('idempotent-replayed')], [200, true, 'true']);
  // The key is no ownership proof any more: no query parameter, no body on cancel (400, nothing changes).
  const viaQuery = await call(api.url, `/api/products/SKU-000001/reservations/${id}?idempotencyKey=${key}`, { method: 'DELETE', headers: alice });
  assert.deepEqual([viaQuery.status, viaQuery.body.field], [400, 'idempotencyKey']);
  const withBody = await call(api.url, `/api/products/SKU-000001/reservations/${id}`, { method: 'DELETE', headers: alice, json: { idempotencyKey: key } });
  assert.deepEqual([withBody.status, withBody.body.field], [400, 'idempotencyKey']);
  assert.deepEqual(await summary('SKU-000001'), { available: 20, held: 0, confirmed: 0, negative: 0 });

  const late = await confirm('SKU-000001', id);
  assert.equal(late.status, 409);
  assert.deepEqual([late.body.error, late.body.state], ['reservation_cancelled', 'cancelled']);
  assert.equal(await statusOf(id), 'cancelled');
  // The POST replay of the key reports the reservation as it is now.
  const replay = await reserve('SKU-000001', 3, key);
  assert.deepEqual([replay.status, replay.body.reservation.status], [200, 'cancelled']);
});

test('confirm makes an order line: it never expires and its units never return', async () => {
  await restock('SKU-000002', { available: 10, shards: 2 });
  const key = newKey('confirm');
  const { id } = (await reserve('SKU-000002', 4, key)).body.reservation;
  const done = await confirm('SKU-000002', id);
  assert.equal(done.status, 200);
  assert.equal(done.body.reservation.status, 'confirmed');
  assert.equal((await confirm('SKU-000002', id)).body.replayed, true);
  const refused = await cancel('SKU-000002', id);
  assert.deepEqual([refused.status, refused.body.state], [409, 'confirmed']);
  await sleep(2200); // past its expires_at
  const sweep = await runTask({ catalogTask: 'release-expired' }, async () => api.runtime);
  assert.equal(sweep.released, 0);
  assert.equal(await statusOf(id), 'confirmed');
  assert.deepEqual(await summary('SKU-000002'), { available: 6, held: 0, confirmed: 4, negative: 0 });
  const inv = await call(api.url, '/api/products/SKU-000002/inventory');
  assert.deepEqual([inv.body.available, inv.body.reserved], [6, 0]);
});

test('expired reservations: cancel and confirm answer 409 "expired" and change nothing; the sweep returns the units', async () => {
  await restock('SKU-000003', { available: 5, shards: 1 });
  const key = newKey('expire');
  const { id } = (await reserve('SKU-000003', 2, key)).body.reservation;
  await sleep(2200);
  const before = await summary('SKU-000003');
  for (const res of [await cancel('SKU-000003', id), await confirm('SKU-000003', id)]) {
    assert.equal(res.status, 409);
    assert.deepEqual([res.body.error, res.body.state], ['reservation_expired', 'expired']);
  }
  assert.deepEqual(await summary('SKU-000003'), before);
  emf.length = 0;
  const sweep = await runTask({ catalogTask: 'release-expired' }, async () => api.runtime);
  assert.equal(sweep.released, 2);
  assert.ok(emf.some((d) => d.ReservationsExpired === 2));
  assert.equal(await statusOf(id), 'expired');
  assert.deepEqual(await summary('SKU-000003'), { available: 5, held: 0, confirmed: 0, negative: 0 });
});

test('unknown, malformed, other SKU and someone else\'s reservations: 404 / 400 / 403, nothing changed', async () => {
  await restock('SKU-000004', { available: 10, shards: 2 });
  const key = newKey('owner');
  const { id } = (await reserve('SKU-000004', 1, key)).body.reservation;
  const before = await summary('SKU-000004');
  const unknown = await cancel('SKU-000004', '00000000-0000-4000-8000-000000000000');
  assert.deepEqual([unknown.status, unknown.body.error], [404, 'not_found']);
  assert.equal((await confirm('SKU-000005', id)).status, 404); // another SKU's path
  const malformed = await cancel('SKU-000004', 'not-a-uuid');
  assert.deepEqual([malformed.status, malformed.body.field], [400, 'id']);
  // Someone else's reservation: another subject is 403 and learns nothing of its state.
  for (const res of [await cancel('SKU-000004', id, bob), await confirm('SKU-000004', id, bob)]) {
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'forbidden');
    assert.equal(res.body.state, undefined);
  }
  // Without a token, or with the old headers only: 401 before anything is read.
  for (const headers of [{}, { 'x-catalog-user': 'alice', 'x-catalog-role': 'admin', 'idempotency-key': key }]) {
    const res = await call(api.url, `/api/products/SKU-000004/reservations/${id}`, { method: 'DELETE', headers });
    assert.equal(res.status, 401);
  }
  // Bob replaying Alice's key: 422, not her reservation.
  const replay = await reserve('SKU-000004', 1, key, bob);
  assert.deepEqual([replay.status, replay.body.error, replay.body.reservation], [422, 'idempotency_key_reused', undefined]);
  assert.equal(await statusOf(id), 'active');
  assert.deepEqual(await summary('SKU-000004'), before);
});

test('the token subject owns the reservation: the owner rule lives in the database (another subject, or none, is refused)', async () => {
  const { store } = api.runtime;
  await restock('SKU-000005', { available: 10, shards: 2 });
  const key = newKey('sub');
  const made = await reserve('SKU-000005', 2, key);
  assert.equal(made.status, 201);
  const { id } = made.body.reservation;
  assert.equal((await db.query('SELECT owner FROM reservations WHERE id = $1', [id])).rows[0].owner, 'alice');
  assert.equal((await store.finish({ action: 'cancel', id, sku: 'SKU-000005', owner: 'bob' })).outcome, 'forbidden');
  assert.equal((await store.finish({ action: 'cancel', id, sku: 'SKU-000005', owner: null })).outcome, 'forbidden');
  assert.equal((await store.reserve({ sku: 'SKU-000005', quantity: 2, idempotencyKey: key, ttlSeconds: 600, owner: 'bob' })).outcome, 'key_taken');
  assert.equal((await confirm('SKU-000005', id)).status, 200);
  assert.deepEqual(await summary('SKU-000005'), { available: 8, held: 0, confirmed: 2, negative: 0 });
});

test('confirm vs cancel vs expiry, all at once on 40 reservations: exactly one wins each, totals exact', async (t) => {
  await restock('SKU-000006', { available: 200, shards: 8 });
  const made = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
    const key = newKey('race');
    const res = await reserve('SKU-000006', 1 + (i % 3), key);
    assert.equal(res.status, 201);
    return { id: res.body.reservation.id, key, quantity: res.body.reservation.quantity, expiresAt: Date.parse(res.body.reservation.expiresAt) };
  }));
  const { store } = api.runtime;
  const race = (group) => Promise.all(group.map(async (r) => {
    const [c1, c2] = await Promise.all([confirm('SKU-000006', r.id), cancel('SKU-000006', r.id), store.releaseExpired(1000)]);
    return { r, confirm: c1, cancel: c2 };
  }));
  // Half at once (confirm against cancel), half just before they expire: those requests spread across the
  // expiry, so expiry takes part too.
  const answers = await race(made.slice(0, 20));
  const expiry = Math.min(...made.map((r) => r.expiresAt));
  await sleep(Math.max(0, expiry - Date.now() - 60));
  answers.push(...await race(made.slice(20)));
  await store.releaseExpired(1000); // expired ones not swept yet: released now
  const wins = { confirmed: 0, cancelled: 0, expired: 0 };
  let confirmedUnits = 0;
  for (const { r, confirm: c1, cancel: c2 } of answers) {
    const status = await statusOf(r.id);
    const confirmWon = c1.status === 200 && !c1.body.replayed;
    const cancelWon = c2.status === 200 && !c2.body.replayed;
    assert.ok(!(confirmWon && cancelWon), `${r.id}: both won`);
    assert.ok([200, 409].includes(c1.status) && [200, 409].includes(c2.status), JSON.stringify([c1.body, c2.body]));
    if (confirmWon) assert.equal(status, 'confirmed');
    else if (cancelWon) assert.equal(status, 'cancelled');
    else {
      assert.equal(status, 'expired');
      assert.deepEqual([c1.body.state, c2.body.state], ['expired', 'expired']);
    }
    // The loser names the winner's state.
    if (confirmWon) assert.equal(c2.body.state, 'confirmed');
    if (cancelWon) assert.equal(c1.body.state, 'cancelled');
    wins[status] += 1;
    if (status === 'confirmed') confirmedUnits += r.quantity;
  }
  assert.equal(wins.confirmed + wins.cancelled + wins.expired, 40);
  const s = await summary('SKU-000006');
  assert.deepEqual(s, { available: 200 - confirmedUnits, held: 0, confirmed: confirmedUnits, negative: 0 });
  t.diagnostic(`winners: ${JSON.stringify(wins)}`);
});

test('admission: with the writer pool busy, a request whose expected queue wait exceeds DB_QUEUE_WAIT_BUDGET_MS (or past DB_POOL_MAX_WAITING) is refused at once, nothing written', async () => {
  const lines = [];
  // A queued request would wait up to 5 s for its connection: the refusal must come before any wait.
  const gated = await startServer({
    env: { ...infra.env, DB_POOL_MAX: '1', DB_CONNECT_TIMEOUT_MS: '5000', DB_POOL_MAX_WAITING: '1' },
    port: 0,
    runtimeOptions: { metricsWrite: (line) => lines.push(JSON.parse(line)) },
  });
  try {
    await restock('SKU-000008', { available: 10, shards: 2 });
    const before = await summary('SKU-000008');
    const held = await gated.runtime.db.writer.connect();
    let queued;
    try {
      // The first one may queue (1 waiting allowed, expected wait within the budget); the next finds it there.
      queued = call(gated.url, '/api/products/SKU-000008/reservations', { method: 'POST', headers: alice, json: { quantity: 1, idempotencyKey: 'queued-0008' } });
      for (let i = 0; gated.runtime.db.writer.waitingCount < 1; i += 1) {
        assert.ok(i < 500, 'the first request reaches the pool queue');
        await sleep(10);
      }
      const started = Date.now();
      const refused = await call(gated.url, '/api/products/SKU-000008/reservations', { method: 'POST', headers: alice, json: { quantity: 1, idempotencyKey: 'refused-0008' } });
      assert.ok(Date.now() - started < 1500, 'refused without waiting for a connection');
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.deepEqual([refused.body.error, refused.body.reason, refused.headers.get('retry-after')], ['overloaded', 'queue_full', '1']);
    } finally {
      held.release();
    }
    // The queued one got the connection once it was free, and only it took a unit.
    assert.equal((await queued).status, 201);
    const after = await summary('SKU-000008');
    assert.equal(after.available, before.available - 1);
    const { rows } = await db.query(`SELECT idempotency_key FROM reservations WHERE idempotency_key IN ('queued-0008', 'refused-0008')`);
    assert.deepEqual(rows.map((r) => r.idempotency_key), ['queued-0008']);
    assert.equal(lines.filter((d) => d.ReservationsShed === 1 && d.RequestsShed === 1).length, 1);
  } finally {
    await gated.close();
  }
  // A budget no queue can meet: with the only connection busy, the first request is refused as well.
  // DB_LOCK_TIMEOUT_MS well above the ~100 ms the slow reservation waits on its shards, whatever the timers do.
  const tight = await startServer({ env: { ...infra.env, DB_POOL_MAX: '1', DB_QUEUE_WAIT_BUDGET_MS: '1', DB_LOCK_TIMEOUT_MS: '5000', DB_STATEMENT_TIMEOUT_MS: '10000' }, port: 0, runtimeOptions: { metricsWrite: () => {} } });
  try {
    // Teach the running average a hold time far above the budget: one reservation waits ~100 ms on its shards.
    const locker = new pg.Client(infra.pgOptions);
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT 1 FROM inventory WHERE sku = 'SKU-000008' FOR UPDATE`);
      const slow = call(tight.url, '/api/products/SKU-000008/reservations', { method: 'POST', headers: alice, json: { quantity: 1, idempotencyKey: 'slow-0008' } });
      await new Promise((r) => setTimeout(r, 100));
      await locker.query('COMMIT');
      assert.equal((await slow).status, 201);
    } finally {
      await locker.end();
    }
    const again = await tight.runtime.db.writer.connect();
    try {
      const refused = await call(tight.url, '/api/products/SKU-000008/reservations', { method: 'POST', headers: alice, json: { quantity: 1, idempotencyKey: 'budget-0008' } });
      assert.deepEqual([refused.status, refused.body.reason], [503, 'queue_full']);
    } finally {
      again.release();
    }
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM reservations WHERE idempotency_key = 'budget-0008'`)).rows[0].n, 0);
  } finally {
    await tight.close();
  }
});

test('overload sheds fast: no pool connection within DB_CONNECT_TIMEOUT_MS or a statement past its timeout is 503 with Retry-After, nothing granted', async () => {
  const lines = [];
  const tight = await startServer({
    env: { ...infra.env, DB_POOL_MAX: '1', DB_CONNECT_TIMEOUT_MS: '100', DB_LOCK_TIMEOUT_MS: '5000', DB_STATEMENT_TIMEOUT_MS: '150', RETRY_AFTER_SECONDS: '2' },
    port: 0,
    runtimeOptions: { metricsWrite: (line) => lines.push(JSON.parse(line)) },
  });
  const locker = new pg.Client(infra.pgOptions);
  await locker.connect();
  try {
    await restock('SKU-000007', { available: 10, shards: 2 });
    const before = await summary('SKU-000007');
    // The writer pool's only connection is taken: the next reservation gets no connection in time.
    const held = await tight.runtime.db.writer.connect();
    let started = Date.now();
    const noConn = await call(tight.url, '/api/products/SKU-000007/reservations', { method: 'POST', headers: alice, json: { quantity: 1, idempotencyKey: 'shed-conn-0007' } });
    assert.ok(Date.now() - started < 1500);
    held.release();
    assert.equal(noConn.status, 503, JSON.stringify(noConn.body));
    assert.deepEqual([noConn.body.error, noConn.body.reason, noConn.body.retryAfterSeconds, noConn.headers.get('retry-after')], ['overloaded', 'pool_timeout', 2, '2']);

    // Every shard locked longer than statement_timeout: the statement is cancelled and rolled back.
    await locker.query('BEGIN');
    await locker.query(`SELECT 1 FROM inventory WHERE sku = 'SKU-000007' FOR UPDATE`);
    started = Date.now();
    const cancelled = await call(tight.url, '/api/products/SKU-000007/reservations', { method: 'POST', headers: alice, json: { quantity: 1, idempotencyKey: 'shed-stmt-0007' } });
    assert.ok(Date.now() - started < 1500);
    await locker.query('COMMIT');
    assert.equal(cancelled.status, 503, JSON.stringify(cancelled.body));
    assert.deepEqual([cancelled.body.error, cancelled.body.reason], ['overloaded', 'statement_timeout']);
    assert.deepEqual(await summary('SKU-000007'), before);
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM reservations WHERE idempotency_key LIKE 'shed-%'`);
    assert.equal(rows[0].n, 0);
    assert.equal(lines.filter((d) => d.ReservationsShed === 1 && d.RequestsShed === 1 && d.ServerErrors === 1).length, 2);
    // The connection the cancelled statement used is healthy again (the transaction was rolled back).
    assert.equal((await call(tight.url, '/api/products/SKU-000007/reservations', { method: 'POST', headers: alice, json: { quantity: 1, idempotencyKey: 'after-shed-0007' } })).status, 201);
  } finally {
    await locker.end();
    await tight.close();
  }
});

test('lifecycle outcomes are EMF metrics of the contract', async () => {
  await restock('SKU-000008', { available: 10, shards: 2 });
  emf.length = 0;
  const k1 = newKey('m');
  const k2 = newKey('m');
  const a = (await reserve('SKU-000008', 1, k1)).body.reservation.id;
  const b = (await reserve('SKU-000008', 1, k2)).body.reservation.id;
  await cancel('SKU-000008', a);
  await confirm('SKU-000008', b);
  await confirm('SKU-000008', a); // 409 cancelled
  assert.ok(emf.some((d) => d.ReservationsCancelled === 1 && d.route === 'DELETE /api/products/{sku}/reservations/{id}'));
  assert.ok(emf.some((d) => d.ReservationsConfirmed === 1 && d.route === 'POST /api/products/{sku}/reservations/{id}/confirm'));
  assert.ok(emf.some((d) => d.ReservationsConflicted === 1 && d.ClientErrors === 1));
});

test('the product cache item is deleted at most once per SKU per interval; /inventory stays fresh', async () => {
  await restock('SKU-000009', { available: 100, shards: 4 });
  await call(api.url, '/api/products/SKU-000009');
  assert.equal((await call(api.url, '/api/products/SKU-000009')).headers.get('x-cache'), 'hit-dynamodb');
  await sleep(1100); // a new interval
  // First reservation of the interval: the item goes at once.
  assert.equal((await reserve('SKU-000009', 1)).status, 201);
  const fresh = await call(api.url, '/api/products/SKU-000009');
  assert.deepEqual([fresh.headers.get('x-cache'), fresh.body.available], ['miss', 99]);
  // More within the interval: no delete now (the product view lags), /inventory is exact.
  for (let i = 0; i < 5; i += 1) assert.equal((await reserve('SKU-000009', 1)).status, 201);
  const lagging = await call(api.url, '/api/products/SKU-000009');
  assert.deepEqual([lagging.headers.get('x-cache'), lagging.body.available], ['hit-dynamodb', 99]);
  assert.equal((await call(api.url, '/api/products/SKU-000009/inventory')).body.available, 94);
  // One trailing delete at the end of the interval catches up.
  await sleep(1200);
  const caught = await call(api.url, '/api/products/SKU-000009');
  assert.deepEqual([caught.headers.get('x-cache'), caught.body.available], ['miss', 94]);
});
