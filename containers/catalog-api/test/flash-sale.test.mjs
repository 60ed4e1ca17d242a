// The flash-sale race against real PostgreSQL: many concurrent reservations on
// one SKU never oversell, never go negative, and retries are idempotent.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer } from '../src/server.mjs';
import { call, startApi, sleep } from './helpers.mjs';
import { adminHeaders, userHeaders } from './identity.mjs';

let ctx;
let infra;
let api;
let db;
let admin;
let shopper;
// Exact counts for 200 simultaneous requests on a pool of 20: generous bounds, so a slow test machine never
// sheds one (shedding has its own tests in reservation-lifecycle.test.mjs).
const PATIENT = { DB_POOL_MAX: '20', DB_CONNECT_TIMEOUT_MS: '20000', DB_LOCK_TIMEOUT_MS: '20000', DB_STATEMENT_TIMEOUT_MS: '30000', DB_QUEUE_WAIT_BUDGET_MS: '60000', DB_QUEUE_TARGET_MS: '60000' };

before(async () => {
  admin = await adminHeaders();
  shopper = await userHeaders();
  ctx = await startApi({ servers: { api: PATIENT }, seed: { count: 5, stock: 0 } });
  ({ infra, db, servers: { api } } = ctx);
});

after(() => ctx?.stop());

const reserve = (base, sku, quantity, idempotencyKey) =>
  call(base, `/api/products/${sku}/reservations`, { method: 'POST', headers: shopper, json: { quantity, idempotencyKey } });

async function stockOf(sku) {
  const { rows } = await db.query(
    `SELECT i.available,
            (SELECT coalesce(sum(quantity), 0)::int FROM reservations r WHERE r.sku = i.sku AND r.status = 'active') AS reserved,
            (SELECT count(*)::int FROM reservations r WHERE r.sku = i.sku) AS rows
       FROM inventory i WHERE i.sku = $1`, [sku]);
  return rows[0];
}

test('200 concurrent reservations against stock 50: exactly 50 succeed, stock ends at 0', async () => {
  const restock = await call(api.url, '/api/products/SKU-000001/inventory', { method: 'PUT', headers: admin, json: { available: 50 } });
  assert.equal(restock.body.available, 50);
  const keys = Array.from({ length: 200 }, (_, i) => `flash-${String(i).padStart(4, '0')}`);

  const results = await Promise.all(keys.map((k) => reserve(api.url, 'SKU-000001', 1, k)));
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 201).length, 50);
  assert.equal(statuses.filter((s) => s === 409).length, 150);
  assert.deepEqual(await stockOf('SKU-000001'), { available: 0, reserved: 50, rows: 50 });
  const { rows: negative } = await db.query('SELECT count(*)::int AS n FROM inventory WHERE available < 0');
  assert.equal(negative[0].n, 0);

  // Every client retries (say, after a timeout): winners get their own reservation back, nobody gains stock.
  const winners = new Map(results.filter((r) => r.status === 201).map((r) => [r.body.reservation.idempotencyKey, r.body.reservation.id]));
  const retries = await Promise.all(keys.map((k) => reserve(api.url, 'SKU-000001', 1, k)));
  for (const [i, r] of retries.entries()) {
    if (winners.has(keys[i])) {
      assert.equal(r.status, 200);
      assert.equal(r.body.replayed, true);
      assert.equal(r.body.reservation.id, winners.get(keys[i]));
    } else {
      assert.equal(r.status, 409);
    }
  }
  assert.deepEqual(await stockOf('SKU-000001'), { available: 0, reserved: 50, rows: 50 });
  const inv = await call(api.url, '/api/products/SKU-000001/inventory');
  assert.deepEqual([inv.body.available, inv.body.reserved], [0, 50]);
});

test('concurrent first attempts with the same key create one reservation', async () => {
  await call(api.url, '/api/products/SKU-000002/inventory', { method: 'PUT', headers: admin, json: { available: 10 } });
  const results = await Promise.all(Array.from({ length: 30 }, () => reserve(api.url, 'SKU-000002', 2, 'same-key-0002')));
  assert.equal(results.filter((r) => r.status === 201).length, 1);
  assert.equal(results.filter((r) => r.status === 200).length, 29);
  assert.equal(new Set(results.map((r) => r.body.reservation.id)).size, 1);
  assert.deepEqual(await stockOf('SKU-000002'), { available: 8, reserved: 2, rows: 1 });
});

test('mixed quantities never oversell', async () => {
  await call(api.url, '/api/products/SKU-000003/inventory', { method: 'PUT', headers: admin, json: { available: 25 } });
  const results = await Promise.all(Array.from({ length: 60 }, (_, i) => reserve(api.url, 'SKU-000003', 1 + (i % 4), `mixed-${i}-key`)));
  const granted = results.filter((r) => r.status === 201).reduce((sum, r) => sum + r.body.reservation.quantity, 0);
  const { available, reserved } = await stockOf('SKU-000003');
  assert.equal(granted, reserved);
  assert.equal(available + reserved, 25);
  assert.ok(available >= 0 && available < 4, `left ${available}: a small request would have fit`);
});

test('reservations expire and release their stock', async () => {
  // 3 s: the hold must still be live at the next request even on a loaded machine; then wait out its own expiresAt.
  const shortLived = await startServer({ env: { ...infra.env, ...PATIENT, RESERVATION_TTL_SECONDS: '3' }, port: 0, runtimeOptions: { metricsWrite: () => {} } });
  try {
    await call(shortLived.url, '/api/products/SKU-000004/inventory', { method: 'PUT', headers: admin, json: { available: 2 } });
    const held = await reserve(shortLived.url, 'SKU-000004', 2, 'expiring-0004');
    assert.equal(held.status, 201);
    assert.equal((await reserve(shortLived.url, 'SKU-000004', 1, 'too-early-0004')).status, 409);
    await sleep(Date.parse(held.body.reservation.expiresAt) - Date.now() + 200);
    // Fresh stock counts the expired hold back before any sweep ran...
    const inv = await call(shortLived.url, '/api/products/SKU-000004/inventory');
    assert.deepEqual([inv.body.available, inv.body.reserved], [2, 0]);
    // ...and the next reservation releases it for real, in the same statement.
    assert.equal((await reserve(shortLived.url, 'SKU-000004', 1, 'after-expiry-0004')).status, 201);
    assert.deepEqual(await stockOf('SKU-000004'), { available: 1, reserved: 1, rows: 2 });
    const replay = await reserve(shortLived.url, 'SKU-000004', 2, 'expiring-0004');
    assert.equal(replay.status, 200);
    assert.equal(replay.body.reservation.status, 'expired');
  } finally {
    await shortLived.close();
  }
});
