// Stock shards against real PostgreSQL: the migration keeps today's stock, concurrent reservations
// never oversell or undersell, multi-shard takes, locked shards are waited for (bounded) rather than reported
// sold out, re-sharding and restocks under load keep the total exact, bad restocks write nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { listMigrations, runMigrations } from '../src/migrate.mjs';
import { seedAsOwner } from '../src/seed-data.mjs';
import { startServer } from '../src/server.mjs';
import { dropDatabase, ensureDatabase } from '../scripts/local-infra.mjs';
import { call, startApi } from './helpers.mjs';
import { adminHeaders, userHeaders } from './identity.mjs';

let ctx;
let infra;
let api; // connects as this file's app role: every shard function below runs with the app's privileges
let db; // the server's admin user, for checks only
let admin;

before(async () => {
  admin = await adminHeaders();
  ctx = await startApi({
    // Patient bounds: these tests prove the invariants under contention; shedding has its own tests.
    servers: { api: { DB_POOL_MAX: '20', DB_CONNECT_TIMEOUT_MS: '20000', DB_LOCK_TIMEOUT_MS: '5000', DB_STATEMENT_TIMEOUT_MS: '20000', DB_QUEUE_WAIT_BUDGET_MS: '60000', DB_QUEUE_TARGET_MS: '60000' } },
    seed: { count: 12, stock: 0 },
  });
  ({ infra, db, servers: { api } } = ctx);
});

after(() => ctx?.stop());

/** A pg client as the server's admin user on another database of this file. */
const adminClient = (database) => new pg.Client({ ...infra.admin, database });

const restock = (sku, json) => call(api.url, `/api/products/${sku}/inventory`, { method: 'PUT', headers: admin, json });
const summary = async (sku) => (await db.query('SELECT * FROM stock_summary($1)', [sku])).rows[0];
const shardsOf = async (sku) => (await db.query('SELECT shard, available FROM inventory WHERE sku = $1 ORDER BY shard', [sku])).rows;
let keySeq = 0;
const key = (p) => `${p}-${String(keySeq++).padStart(6, '0')}`;
// Straight to the store (the API's app-role pool), owned like the API would own them: by a token subject.
const reserve = (sku, quantity, idempotencyKey = key('r')) => api.runtime.store.reserve({ sku, quantity, idempotencyKey, ttlSeconds: 600, owner: 'shopper-1' });

test('the migration keeps the stock and reservations of the previous schema (shard 0)', async () => {
  const name = `${infra.dbName}_m`;
  await ensureDatabase(name, infra.admin);
  const old = adminClient(name);
  await old.connect();
  try {
    // The schema before 010, recorded as applied (by the admin user: runMigrations' bootstrap then hands it to the
    // owner role), with stock and a live reservation made by the old reserve_stock() (no owner).
    const before010 = (await listMigrations()).filter((m) => m.version < '010');
    await old.query(`CREATE TABLE schema_migrations (version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    for (const m of before010) {
      await old.query(m.sql);
      await old.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
    }
    await old.query(`INSERT INTO products (sku, name, category, price_cents) VALUES ('OLD-1', 'x', 'c', 1), ('OLD-2', 'y', 'c', 1)`);
    await old.query(`INSERT INTO inventory (sku, available) VALUES ('OLD-1', 37), ('OLD-2', 0)`);
    await old.query(`SELECT * FROM reserve_stock('OLD-1', 3, 'old-key-0001', 600)`);
    const result = await runMigrations({ ...infra.env, DB_NAME: name });
    assert.ok(result.applied.includes('010_stock_shards.sql'));
    // 010 gave the app role DELETE on inventory (re-sharding); 013 took every table write back (the functions
    // write with the owner's rights).
    const deletable = (await old.query(`SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
      AND c.relkind = 'r' AND has_table_privilege($1, c.oid, 'DELETE') ORDER BY 1`, [infra.env.DB_USER])).rows.map((r) => r.relname);
    assert.deepEqual(deletable, []);
    const rows = (await old.query('SELECT sku, shard, available FROM inventory ORDER BY sku')).rows;
    assert.deepEqual(rows, [{ sku: 'OLD-1', shard: 0, available: 34 }, { sku: 'OLD-2', shard: 0, available: 0 }]);
    const s = (await old.query(`SELECT * FROM stock_summary('OLD-1')`)).rows[0];
    assert.deepEqual([s.shards, Number(s.available), Number(s.held)], [1, 34, 3]);
    // The migrated hold has no owner: nobody may finish it (not even with its key, which proves nothing now);
    // it expires as before and its units return to a shard.
    const id = (await old.query(`SELECT id FROM reservations WHERE idempotency_key = 'old-key-0001'`)).rows[0].id;
    const refused = (await old.query(`SELECT outcome FROM finish_reservation('cancel', $1, 'OLD-1', 'shopper-1')`, [id])).rows[0];
    assert.equal(refused.outcome, 'forbidden');
    await old.query(`UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
    assert.equal((await old.query('SELECT release_expired_reservations(NULL, 100) AS n')).rows[0].n, 3);
    assert.equal(Number((await old.query(`SELECT available FROM stock_summary('OLD-1')`)).rows[0].available), 37);
  } finally {
    await old.end();
    await dropDatabase(name, infra.admin);
  }
});

test('a SKU stocked with >= 1,000 units gets 16 shards by default; seed, restock and reads sum the shards', async () => {
  const r = await restock('SKU-000001', { available: 1000 });
  assert.equal(r.status, 200);
  assert.deepEqual([r.body.available, r.body.shards, r.body.previousShards], [1000, 16, 1]);
  const shards = await shardsOf('SKU-000001');
  assert.equal(shards.length, 16);
  assert.equal(shards.reduce((t, s) => t + s.available, 0), 1000);
  assert.ok(shards.every((s) => s.available === 62 || s.available === 63));
  const inv = await call(api.url, '/api/products/SKU-000001/inventory');
  assert.deepEqual([inv.body.available, inv.body.shards, inv.body.reserved], [1000, 16, 0]);
  assert.equal((await call(api.url, '/api/products/SKU-000001')).body.available, 1000);
  // Explicit shard count, and small stock keeps the count it has.
  assert.equal((await restock('SKU-000002', { available: 50, shards: 5 })).body.shards, 5);
  assert.equal((await restock('SKU-000002', { add: 10 })).body.shards, 5);
  assert.deepEqual((await shardsOf('SKU-000002')).map((s) => s.available), [12, 12, 12, 12, 12]);
  // Seed: the same default.
  const name = `${infra.dbName}_s`;
  await ensureDatabase(name, infra.admin);
  try {
    const env = { ...infra.env, DB_NAME: name };
    await runMigrations(env);
    await seedAsOwner(env, { count: 2, stock: 1000 });
    await seedAsOwner(env, { count: 3, stock: 10, shards: 4 }); // SKU 1-2 untouched
    const other = adminClient(name);
    await other.connect();
    const { rows } = await other.query('SELECT sku, count(*)::int AS shards, sum(available)::int AS total FROM inventory GROUP BY sku ORDER BY sku');
    await other.end();
    assert.deepEqual(rows, [
      { sku: 'SKU-000001', shards: 16, total: 1000 }, { sku: 'SKU-000002', shards: 16, total: 1000 }, { sku: 'SKU-000003', shards: 4, total: 10 },
    ]);
  } finally {
    await dropDatabase(name, infra.admin);
  }
});

test('400 concurrent reservations on 300 units over 16 shards: exactly 300 granted, none negative', async () => {
  await restock('SKU-000003', { available: 300, shards: 16 });
  const results = await Promise.all(Array.from({ length: 400 }, () => reserve('SKU-000003', 1)));
  const outcomes = results.map((r) => r.outcome);
  const counts = Object.groupBy(outcomes, (o) => o);
  assert.equal(outcomes.filter((o) => o === 'created').length, 300, JSON.stringify(Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v.length]))));
  assert.equal(outcomes.filter((o) => o === 'sold_out').length, 100);
  const s = await summary('SKU-000003');
  assert.deepEqual([Number(s.available), Number(s.held), s.negative_shards], [0, 300, 0]);
  // Every sold-out answer named a total below the quantity asked.
  assert.ok(results.filter((r) => r.outcome === 'sold_out').every((r) => r.available < 1));
});

test('mixed quantities over shards: no oversell, and the leftover is smaller than any refused request', async () => {
  await restock('SKU-000004', { available: 257, shards: 8 });
  const asks = Array.from({ length: 200 }, (_, i) => 1 + (i % 5));
  const results = await Promise.all(asks.map((q) => reserve('SKU-000004', q)));
  const granted = results.reduce((t, r, i) => t + (r.outcome === 'created' ? asks[i] : 0), 0);
  const s = await summary('SKU-000004');
  assert.equal(Number(s.held), granted);
  assert.equal(Number(s.available) + granted, 257);
  assert.equal(s.negative_shards, 0);
  const refused = asks.filter((q, i) => results[i].outcome === 'sold_out');
  assert.ok(refused.length > 0);
  // Never undersold: what is left could not serve the smallest refused request.
  assert.ok(Number(s.available) < Math.min(...refused), `left ${s.available}, refused ${Math.min(...refused)}`);
});

test('a quantity no single shard holds is taken from several; sold out only below the total', async () => {
  await restock('SKU-000005', { available: 10, shards: 8 }); // 2,2,1,1,1,1,1,1
  const r = await reserve('SKU-000005', 7);
  assert.equal(r.outcome, 'created');
  const s = await summary('SKU-000005');
  assert.deepEqual([Number(s.available), Number(s.held)], [3, 7]);
  const refused = await reserve('SKU-000005', 4);
  assert.deepEqual([refused.outcome, refused.available], ['sold_out', 3]);
  assert.equal((await reserve('SKU-000005', 3)).outcome, 'created');
  assert.equal(Number((await summary('SKU-000005')).available), 0);
});

test('stock held only by locked shards is waited for (bounded), not reported sold out', async () => {
  await restock('SKU-000006', { available: 20, shards: 4 }); // 5 each
  const locker = new pg.Client(infra.pgOptions);
  await locker.connect();
  try {
    await locker.query('BEGIN');
    await locker.query(`SELECT 1 FROM inventory WHERE sku = 'SKU-000006' AND shard < 3 FOR UPDATE`);
    // Shard 3 is free: taken without waiting.
    assert.equal((await reserve('SKU-000006', 5)).outcome, 'created');
    // The 15 units left are in locked shards: the reservation waits, and succeeds once they are released.
    const pending = reserve('SKU-000006', 2);
    await new Promise((r) => setTimeout(r, 150));
    await locker.query('COMMIT');
    assert.equal((await pending).outcome, 'created');

    // Held past the lock_timeout: 503 overloaded with Retry-After, fast, and nothing written.
    const short = await startServer({ env: { ...infra.env, DB_LOCK_TIMEOUT_MS: '100' }, port: 0, runtimeOptions: { metricsWrite: () => {} } });
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT 1 FROM inventory WHERE sku = 'SKU-000006' FOR UPDATE`);
      const before = await summary('SKU-000006');
      const started = Date.now();
      const res = await call(short.url, '/api/products/SKU-000006/reservations', { method: 'POST', headers: await userHeaders(), json: { quantity: 1, idempotencyKey: 'locked-out-0006' } });
      const took = Date.now() - started;
      await locker.query('COMMIT');
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.deepEqual([res.body.error, res.body.reason], ['overloaded', 'lock_timeout']);
      assert.equal(res.headers.get('retry-after'), '1');
      assert.ok(took < 1500, `took ${took} ms`);
      assert.deepEqual(await summary('SKU-000006'), before);
      assert.equal((await db.query(`SELECT count(*)::int AS n FROM reservations WHERE idempotency_key = 'locked-out-0006'`)).rows[0].n, 0);
    } finally {
      await short.close();
    }
  } finally {
    await locker.end();
  }
});

test('re-sharding and restocks during 400 concurrent reservations keep the total exact', async () => {
  await restock('SKU-000007', { available: 1000, shards: 4 });
  const reservations = Array.from({ length: 400 }, (_, i) => reserve('SKU-000007', 1 + (i % 3)));
  const changes = [];
  for (const body of [{ shards: 16 }, { add: 100 }, { shards: 3 }, { shards: 64 }, { add: 7, shards: 9 }]) {
    changes.push(await restock('SKU-000007', body));
  }
  const results = await Promise.all(reservations);
  assert.ok(changes.every((c) => c.status === 200), JSON.stringify(changes.map((c) => c.body)));
  assert.ok(results.every((r) => r.outcome === 'created'), JSON.stringify(results.filter((r) => r.outcome !== 'created')));
  const granted = results.reduce((t, r) => t + r.reservation.quantity, 0);
  const s = await summary('SKU-000007');
  assert.equal(s.shards, 9);
  assert.equal(s.negative_shards, 0);
  assert.equal(Number(s.held), granted);
  assert.equal(Number(s.available) + granted, 1107);
  // Each restock's audit row records the exact totals it saw.
  const { rows } = await db.query(`SELECT previous_available, new_available FROM inventory_audit WHERE sku = 'SKU-000007' ORDER BY id`);
  assert.equal(rows.length, 6);
  for (const [i, row] of rows.entries()) {
    if (i > 0) assert.ok(row.previous_available <= rows[i - 1].new_available);
  }
});

test('restock input errors name the field and write nothing', async () => {
  await restock('SKU-000008', { available: 40, shards: 2 });
  const auditBefore = (await db.query('SELECT count(*)::int AS n FROM inventory_audit')).rows[0].n;
  const shardsBefore = await shardsOf('SKU-000008');
  for (const [body, field] of [
    [{ available: 10, shards: 0 }, 'shards'], [{ available: 10, shards: 65 }, 'shards'], [{ shards: 'many' }, 'shards'],
    [{ shards: 2.5 }, 'shards'], [{ reason: 'nothing to do' }, 'available'], [{ available: 1, add: 1, shards: 2 }, 'available'],
  ]) {
    const res = await restock('SKU-000008', body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.body.field, field, JSON.stringify(res.body));
  }
  // A total that would not fit an integer (int4): 400 naming "add", nothing changed.
  await db.query(`UPDATE inventory SET available = 2147000000 WHERE sku = 'SKU-000008' AND shard = 0`);
  const big = await restock('SKU-000008', { add: 1_000_000 });
  assert.equal(big.status, 400);
  assert.equal(big.body.field, 'add');
  await db.query(`UPDATE inventory SET available = 20 WHERE sku = 'SKU-000008' AND shard = 0`);
  assert.deepEqual(await shardsOf('SKU-000008'), shardsBefore);
  assert.equal((await db.query('SELECT count(*)::int AS n FROM inventory_audit')).rows[0].n, auditBefore);
});

test('everything at once on one SKU: reservations, cancels, confirms, expiry sweeps and re-shards keep shards + held + confirmed = stocked', async () => {
  const { store } = api.runtime;
  await restock('SKU-000009', { available: 500, shards: 8 });
  let confirmedUnits = 0;
  let running = true;
  const worker = async (i) => {
    const idempotencyKey = key('all');
    const owner = `worker-${i}`;
    const made = await store.reserve({ sku: 'SKU-000009', quantity: 1 + (i % 3), idempotencyKey, ttlSeconds: 1, owner });
    if (made.outcome !== 'created') return made.outcome;
    const { id } = made.reservation;
    if (i % 3 === 0) {
      const done = await store.finish({ action: 'confirm', id, sku: 'SKU-000009', owner });
      if (done.outcome === 'confirmed') confirmedUnits += made.reservation.quantity;
      return done.outcome;
    }
    if (i % 3 === 1) return (await store.finish({ action: 'cancel', id, sku: 'SKU-000009', owner })).outcome;
    return 'left to expire';
  };
  const sweeper = (async () => {
    while (running) {
      await store.releaseExpired(1000);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const workers = Array.from({ length: 300 }, (_, i) => worker(i));
  const changes = [];
  for (const body of [{ shards: 16 }, { add: 50 }, { shards: 5 }, { shards: 32 }]) {
    await new Promise((r) => setTimeout(r, 50));
    changes.push((await restock('SKU-000009', body)).status);
  }
  const outcomes = await Promise.all(workers);
  await new Promise((r) => setTimeout(r, 1100)); // every hold left is past its expiry
  running = false;
  await sweeper;
  await store.releaseExpired(1000);
  assert.deepEqual(changes, [200, 200, 200, 200]);
  assert.ok(outcomes.every((o) => ['confirmed', 'cancelled', 'left to expire', 'conflict', 'sold_out'].includes(o)), JSON.stringify(outcomes));
  const s = await summary('SKU-000009');
  assert.equal(s.shards, 32);
  assert.equal(s.negative_shards, 0);
  assert.equal(Number(s.held), 0);
  assert.equal(Number(s.confirmed), confirmedUnits);
  assert.equal(Number(s.available) + Number(s.confirmed), 550);
});

test('a restock settles holds past their expiry: no later sweep puts units on sale beyond what the admin set', async () => {
  const sku = 'SKU-000012';
  const sellable = async () => Number((await summary(sku)).available);
  const holdExpiring = (quantity) => api.runtime.store.reserve({ sku, quantity, idempotencyKey: key('exp'), ttlSeconds: 1, owner: 'shopper-1' });
  assert.equal((await restock(sku, { available: 10, shards: 2 })).status, 200);
  for (const q of [2, 1]) assert.equal((await holdExpiring(q)).outcome, 'created');
  await new Promise((r) => setTimeout(r, 1200)); // both past their expiry, not swept
  assert.equal((await call(api.url, `/api/products/${sku}/inventory`)).body.available, 10, 'the admin sees them as available');

  const set = await restock(sku, { available: 5 });
  assert.equal(set.status, 200);
  assert.deepEqual([set.body.previousAvailable, set.body.available], [10, 5]);
  assert.equal(await api.runtime.store.releaseExpired(1000), 0, 'nothing left for the sweep');
  assert.equal(await sellable(), 5, 'the sweep put units back beyond the restock');
  assert.equal((await call(api.url, `/api/products/${sku}/inventory`)).body.available, 5);
  const audit = (await db.query('SELECT previous_available, new_available FROM inventory_audit WHERE sku = $1 ORDER BY id DESC LIMIT 1', [sku])).rows[0];
  assert.deepEqual([Number(audit.previous_available), Number(audit.new_available)], [10, 5]);

  // add: to the total the admin saw (the expired hold's units included), once.
  assert.equal((await holdExpiring(2)).outcome, 'created');
  await new Promise((r) => setTimeout(r, 1200));
  const added = await restock(sku, { add: 4 });
  assert.deepEqual([added.body.previousAvailable, added.body.available], [5, 9]);
  assert.equal(await api.runtime.store.releaseExpired(1000), 0);
  assert.equal(await sellable(), 9);

  // A set racing sweeps (the shard locks order them): whoever goes first, the total ends at exactly what was set.
  for (let round = 0; round < 5; round += 1) {
    for (const q of [1, 2, 3]) assert.equal((await holdExpiring(q)).outcome, 'created');
    await new Promise((r) => setTimeout(r, 1100));
    const [r] = await Promise.all([restock(sku, { available: 7 }), api.runtime.store.releaseExpired(1000), api.runtime.store.releaseExpired(1000)]);
    assert.equal(r.status, 200);
    assert.equal(await api.runtime.store.releaseExpired(1000), 0);
    assert.equal(await sellable(), 7, `round ${round}`);
    const s = await summary(sku);
    assert.deepEqual([Number(s.held), Number(s.negative_shards)], [0, 0]);
  }
});
