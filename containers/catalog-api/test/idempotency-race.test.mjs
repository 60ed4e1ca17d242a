// Idempotency under concurrency, against real PostgreSQL through the HTTP API: the same shopper sends the same
// key with the same body two or three times at once (a mobile client retrying on a slow network), during a
// sell-out, over stock shards, while the SKU is re-sharded and while expired holds are being released. Every
// key ends with at most one reservation, and every copy of a key gets the same answer: all copies 409 sold out,
// or one 201 and the others 200 replayed with the same reservation; never a 409 beside a copy that holds units.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { call, startApi } from './helpers.mjs';
import { adminHeaders, userHeaders } from './identity.mjs';

let ctx;
let api;
let db;
let admin;
let shopper;
let other;
// Patient bounds: the answers below must be decided by the database, not by a bound that sheds (503).
const PATIENT = { DB_POOL_MAX: '20', DB_CONNECT_TIMEOUT_MS: '20000', DB_LOCK_TIMEOUT_MS: '5000', DB_STATEMENT_TIMEOUT_MS: '20000', DB_QUEUE_WAIT_BUDGET_MS: '60000', DB_QUEUE_TARGET_MS: '60000' };

before(async () => {
  admin = await adminHeaders();
  shopper = await userHeaders('shopper-twins');
  other = await userHeaders('shopper-other');
  ctx = await startApi({ servers: { api: PATIENT }, seed: { count: 8, stock: 0 } });
  ({ db, servers: { api } } = ctx);
});

after(() => ctx?.stop());

const restock = (sku, json) => call(api.url, `/api/products/${sku}/inventory`, { method: 'PUT', headers: admin, json });
const reserve = (base, sku, quantity, idempotencyKey, headers = shopper) =>
  call(base, `/api/products/${sku}/reservations`, { method: 'POST', headers, json: { quantity, idempotencyKey } });

/** n keys, each sent `copies(i)` times at once with quantity 1 or 2; returns [{ key, quantity, answers }]. */
async function twins(base, sku, prefix, n, copies) {
  const keys = Array.from({ length: n }, (_, i) => ({ key: `${prefix}-${String(i).padStart(3, '0')}`, quantity: 1 + (i % 2), copies: copies(i) }));
  const sends = keys.flatMap((k) => Array.from({ length: k.copies }, () => reserve(base, sku, k.quantity, k.key).then((r) => ({ k, r }))));
  const results = await Promise.all(sends);
  return keys.map((k) => ({ ...k, answers: results.filter((x) => x.k === k).map((x) => x.r) }));
}

/** Every key's copies agree with the database (the UNIQUE key allows one row per key); returns the granted units. */
async function assertOneAnswerPerKey(sku, keys) {
  const { rows } = await db.query('SELECT idempotency_key, id, quantity, status FROM reservations WHERE sku = $1', [sku]);
  const held = new Map(rows.map((r) => [r.idempotency_key, r]));
  let granted = 0;
  for (const { key, quantity, answers } of keys) {
    const statuses = answers.map((a) => a.status).sort((x, y) => x - y);
    const row = held.get(key);
    if (!row) {
      assert.deepEqual(statuses, answers.map(() => 409), `${key}: no reservation, so every copy is sold out; got ${statuses}`);
      continue;
    }
    assert.deepEqual(statuses, [...answers.slice(1).map(() => 200), 201],
      `${key} holds ${row.quantity} units: one 201, the others 200 replayed; got ${statuses}`);
    for (const a of answers) {
      assert.equal(a.body.reservation.id, row.id, `${key}: every copy names the one reservation`);
      assert.equal(a.body.replayed, a.status === 200);
    }
    assert.equal(row.quantity, quantity);
    granted += row.quantity;
  }
  return granted;
}

const totals = async (sku) => (await db.query('SELECT * FROM stock_summary($1)', [sku])).rows[0];

/** One diagnostic line: the answers per key (grouped) and the units. */
function describe(t, sku, keys, s) {
  const groups = new Map();
  for (const k of keys) {
    const a = k.answers.map((x) => x.status).sort((x, y) => x - y).join('+');
    groups.set(a, (groups.get(a) ?? 0) + 1);
  }
  t.diagnostic(`${sku}: ${keys.length} keys, ${keys.reduce((n, k) => n + k.copies, 0)} requests; answers per key: `
    + `${[...groups].map(([a, n]) => `${n}x ${a}`).join(', ')}; units held ${s.held}, available ${s.available}`);
}

test('sell-out, one shard: each key sent twice and three times at once gets one answer, units conserved', async (t) => {
  for (const [round, sku] of ['SKU-000001', 'SKU-000002'].entries()) {
    await restock(sku, { available: 9, shards: 1 });
    const keys = await twins(api.url, sku, `sell${round}`, 12, (i) => 2 + (i % 2));
    const granted = await assertOneAnswerPerKey(sku, keys);
    const s = await totals(sku);
    assert.equal(Number(s.available) + Number(s.held), 9, 'units conserved');
    assert.equal(Number(s.held), granted);
    assert.ok(Number(s.available) < 2, `left ${s.available}: a request would have fit`);
    assert.equal(s.negative_shards, 0);
    describe(t, sku, keys, s);
  }
});

test('sell-out over 8 shards while the SKU is re-sharded: one answer per key, units conserved', async (t) => {
  const sku = 'SKU-000003';
  await restock(sku, { available: 30, shards: 8 });
  let resharding = true;
  const reshards = (async () => {
    let n = 0;
    while (resharding) {
      const r = await restock(sku, { shards: [3, 8, 5, 16][n++ % 4] });
      assert.equal(r.status, 200);
    }
    return n;
  })();
  const keys = await twins(api.url, sku, 'shard', 30, (i) => 2 + (i % 2));
  resharding = false;
  assert.ok(await reshards >= 1);
  const granted = await assertOneAnswerPerKey(sku, keys);
  const s = await totals(sku);
  assert.equal(Number(s.available) + Number(s.held), 30, 'units conserved');
  assert.equal(Number(s.held), granted);
  assert.equal(s.negative_shards, 0);
  describe(t, sku, keys, s);
});

test('racing expiry: twins take the units released by expired holds; replays of expired keys stay replays', async () => {
  const sku = 'SKU-000004';
  await restock(sku, { available: 8, shards: 2 });
  const first = await twins(api.url, sku, 'exp0', 6, () => 2);
  await assertOneAnswerPerKey(sku, first);
  // Age the first round's holds past their expiry (none released yet) rather than waiting out a short TTL: on a
  // loaded machine a 1 s TTL also expired holds of the round under test, and the totals then raced the clock.
  await db.query("UPDATE reservations SET expires_at = now() - interval '1 second' WHERE sku = $1 AND status = 'active'", [sku]);
  const second = await twins(api.url, sku, 'exp1', 10, (i) => 2 + (i % 2));
  const granted = await assertOneAnswerPerKey(sku, second);
  const s = await totals(sku);
  assert.equal(Number(s.available) + Number(s.held), 8, 'units conserved');
  assert.equal(Number(s.held) - Number(s.expired_unreleased), granted);
  assert.ok(granted > 0, 'the second round took units the first round\'s expired holds gave back');
  // A replay of an expired key answers its reservation (expired or past expiry), never a new one.
  const replay = await reserve(api.url, sku, first[0].quantity, first[0].key);
  assert.equal(replay.status, 200);
  assert.equal(replay.body.reservation.id, (await db.query('SELECT id FROM reservations WHERE idempotency_key = $1', [first[0].key])).rows[0].id);
  assert.equal(replay.body.reservation.status, 'expired');
});

test("another shopper's reuse of a key is refused (422), also at the same instant, and takes nothing", async () => {
  const sku = 'SKU-000005';
  await restock(sku, { available: 4, shards: 2 });
  const mine = await reserve(api.url, sku, 1, 'owned-key-0001');
  assert.equal(mine.status, 201);
  const [a, b, c] = await Promise.all([
    reserve(api.url, sku, 1, 'owned-key-0001', other),
    reserve(api.url, sku, 1, 'owned-key-0001'),
    reserve(api.url, sku, 1, 'owned-key-0001', other),
  ]);
  assert.deepEqual([a.status, b.status, c.status], [422, 200, 422]);
  assert.equal(a.body.error, 'idempotency_key_reused');
  assert.equal(a.body.reservation, undefined);
  const s = await totals(sku);
  assert.deepEqual([Number(s.available), Number(s.held)], [3, 1]);
});
