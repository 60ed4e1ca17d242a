// The waiting room's gate under truly concurrent requests, against real PostgreSQL and a serialized moto server
// (conditional writes atomic, as DynamoDB's): one pass buys one reservation, a leave racing a reservation returns
// the slot once, and only gated reservation attempts count as congestion.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createWaitingRoomTable } from '../scripts/waiting-room-table.mjs';
import { startServer } from '../src/server.mjs';
import { call, startApi } from './helpers.mjs';
import { adminHeaders, userHeaders } from './identity.mjs';

const SKU = 'SKU-000001';
const SECRET = 'test-waiting-room-secret-0123456789abcdef';
let ctx;
let api;
let room;
let clock;
const shoppers = {};
const SERVER_ENV = {
  WAITING_ROOM_SKUS: `${SKU},SKU-000002`, WAITING_ROOM_SECRET: SECRET, WAITING_ROOM_ADMIT_PER_SECOND: '100', WAITING_ROOM_MAX_ACTIVE: '100',
  WAITING_ROOM_PASS_SECONDS: '60', WAITING_ROOM_CONTROLLER_MS: '0', WAITING_ROOM_SLOW_MS: '0',
};

before(async () => {
  const table = `catalog-waitingroom-race${process.pid}`;
  SERVER_ENV.WAITING_ROOM_TABLE = table;
  ctx = await startApi({
    servers: {
      api: SERVER_ENV,
    },
    seed: { count: 2, stock: 1000 },
    infraOptions: { serializedMoto: true },
  });
  api = ctx.servers.api;
  await createWaitingRoomTable({ endpoint: ctx.env.DYNAMODB_ENDPOINT, name: table });
  room = api.runtime.waitingRoom;
  clock = Date.now();
  room.now = () => clock;
  await room.advance(SKU);
});

after(() => ctx?.stop());

const who = async (name) => { shoppers[name] ??= await userHeaders(`race-${name}`); return shoppers[name]; };
const join = async (name, sku = SKU) => call(api.url, `/api/products/${sku}/queue`, { method: 'POST', headers: await who(name), json: {} });
const poll = async (name, sku = SKU) => call(api.url, `/api/products/${sku}/queue`, { headers: await who(name) });
const leave = async (name, sku = SKU) => call(api.url, `/api/products/${sku}/queue`, { method: 'DELETE', headers: await who(name) });
const reserve = async (name, pass, key, { sku = SKU, quantity = 1 } = {}) => call(api.url, `/api/products/${sku}/reservations`, {
  method: 'POST', headers: { ...(await who(name)), ...(pass ? { 'x-admission-pass': pass } : {}) }, json: { quantity, idempotencyKey: key },
});
const reservationsOf = async (name) => (await ctx.db.query('SELECT count(*)::int AS n FROM reservations WHERE owner = $1', [`race-${name}`])).rows[0].n;

/** Join the named shoppers, admit them, and answer their passes. */
async function admitted(names, sku = SKU) {
  for (const name of names) {
    clock += 1;
    assert.equal((await join(name, sku)).status, 201);
  }
  clock += 1000;
  await room.advance(sku);
  const passes = {};
  for (const name of names) {
    passes[name] = (await poll(name, sku)).body.pass;
    assert.ok(passes[name], `${name} was not admitted`);
  }
  return passes;
}

test('one pass, many concurrent reservations with different keys: one reservation, the others refused', async () => {
  const { p1 } = await admitted(['p1']);
  const N = 12;
  const answers = await Promise.all(Array.from({ length: N }, (_, n) => reserve('p1', p1, `race-p1-key-${n}`)));
  const statuses = answers.map((a) => a.status);
  assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses ${statuses.join(' ')}`);
  assert.deepEqual(answers.filter((a) => a.status !== 201).map((a) => a.body.error), Array(N - 1).fill('admission_pass_used'));
  assert.equal(await reservationsOf('p1'), 1, 'one admission bought more than one reservation');
  // The winner's retry is replayed; the pass is spent for every other key.
  const key = answers.find((a) => a.status === 201).body.reservation.idempotencyKey;
  const retry = await reserve('p1', p1, key);
  assert.equal(retry.status, 200);
  assert.equal(retry.body.replayed, true);
  assert.equal((await reserve('p1', p1, 'race-p1-later')).body.error, 'admission_pass_used');
});

test('a claimed reservation that failed is retried with its key; another key gets no second reservation', async () => {
  const OTHER = 'SKU-000002';
  const admin = await adminHeaders();
  const restock = (available) => call(api.url, `/api/products/${OTHER}/inventory`, { method: 'PUT', headers: admin, json: { available } });
  await room.advance(OTHER);
  const { p2 } = await admitted(['p2'], OTHER);
  assert.equal((await restock(0)).status, 200);
  const none = await reserve('p2', p2, 'race-p2-first', { sku: OTHER });
  assert.equal(none.status, 409, JSON.stringify(none.body));
  assert.equal(none.body.error, 'sold_out');
  assert.equal((await restock(5)).status, 200);
  const other = await reserve('p2', p2, 'race-p2-other', { sku: OTHER });
  assert.equal(other.status, 403);
  assert.equal(other.body.error, 'admission_pass_used');
  const retry = await reserve('p2', p2, 'race-p2-first', { sku: OTHER });
  assert.equal(retry.status, 201, JSON.stringify(retry.body));
  assert.equal(await reservationsOf('p2'), 1);
});

test('a body the route refuses claims nothing: the pass still buys its reservation', async () => {
  const { p3 } = await admitted(['p3']);
  const bad = await reserve('p3', p3, 'short');
  assert.equal(bad.status, 400, JSON.stringify(bad.body));
  assert.equal((await reserve('p3', p3, 'race-p3-good')).status, 201);
});

test('a leave racing a reservation returns the slot once: either the leave gave it back or the reservation did', async () => {
  clock += 61_000; // every earlier pass has run out: an empty cap
  const base = (await room.advance(SKU)).active;
  assert.equal(base, 0);
  const names = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8'];
  const passes = await admitted(names);
  const outcomes = await Promise.all(names.map(async (name) => {
    const [left, reserved] = await Promise.all([leave(name), reserve(name, passes[name], `race-${name}-0001`)]);
    assert.equal(left.status, 200, JSON.stringify(left.body));
    assert.ok([201, 403].includes(reserved.status), JSON.stringify(reserved.body));
    assert.ok(!(left.body.slotReturned && reserved.status === 201), `${name}: the slot was returned twice (left and reserved)`);
    if (reserved.status === 403) assert.equal(reserved.body.error, 'admission_pass_revoked');
    return Number(left.body.slotReturned) + Number(reserved.status === 201);
  }));
  clock += 1; // nobody joined since: the step admits nobody, and counts who still holds a slot
  const { active } = await room.advance(SKU);
  assert.equal(active, names.length - outcomes.reduce((a, b) => a + b, 0), 'slots given back do not match the outcomes');
  assert.ok(active >= 0);
});

test('only a gated reservation attempt counts as congestion: no pass, a cancel or a confirm never does', async () => {
  const waitForLoad = async (expected) => {
    for (let i = 0; i < 50 && (await room.load(SKU)) < expected; i += 1) await new Promise((r) => { setTimeout(r, 20); });
    return room.load(SKU);
  };
  const slowMs = room.slowMs;
  room.slowMs = 0.001; // every answer is "slow": what counts is decided by which requests are noted at all
  try {
    clock += 1000;
    const before = await room.load(SKU);
    const id = '00000000-0000-4000-8000-000000000000';
    const headers = await who('g1');
    const ungated = [
      reserve('g1', undefined, 'race-g1-nopass'), // 428
      reserve('g1', 'v1.e30.AAAA', 'race-g1-forged'), // 403
      call(api.url, `/api/products/${SKU}/reservations/${id}`, { method: 'DELETE', headers }), // 404
      call(api.url, `/api/products/${SKU}/reservations/${id}/confirm`, { method: 'POST', headers, json: {} }),
    ];
    for (const r of await Promise.all(ungated)) assert.ok(r.status >= 400 && r.status < 500, JSON.stringify(r.body));
    await new Promise((r) => { setTimeout(r, 300); });
    assert.equal(await room.load(SKU), before, 'a request without a pass counted as congestion');
    assert.equal(room.pendingLoad.get(SKU)?.count ?? 0, 0, 'a request without a pass is pending as congestion');
    clock += 1000;
    const { g2 } = await admitted(['g2']);
    assert.equal((await reserve('g2', g2, 'race-g2-0001')).status, 201);
    assert.equal(await waitForLoad(before + 1), before + 1, 'the gated reservation was not counted');
  } finally {
    room.slowMs = slowMs;
  }
});

test('an early shed (database saturated) counts only for a request carrying a running pass of the SKU', async () => {
  // One writer connection, none may wait: while the test holds it, every reservation is shed before the gate.
  const gated = await startServer({ env: { ...ctx.env, ...SERVER_ENV, DB_POOL_MAX: '1', DB_POOL_MAX_WAITING: '0' }, port: 0, runtimeOptions: { metricsWrite: () => {} } });
  const held = await gated.runtime.db.writer.connect();
  const gatedRoom = gated.runtime.waitingRoom;
  try {
    gatedRoom.now = () => clock;
    clock += 1000;
    const { e1 } = await admitted(['e1']);
    const before = await room.load(SKU);
    const shed = async (pass) => call(gated.url, `/api/products/${SKU}/reservations`, {
      method: 'POST', headers: { ...(await who('e1')), ...(pass ? { 'x-admission-pass': pass } : {}) }, json: { quantity: 1, idempotencyKey: 'race-e1-0001' },
    });
    for (const pass of [undefined, 'v1.e30.AAAA']) {
      const r = await shed(pass);
      assert.deepEqual([r.status, r.body.reason], [503, 'queue_full'], JSON.stringify(r.body));
    }
    await new Promise((r) => { setTimeout(r, 300); });
    assert.equal(await room.load(SKU), before, 'an early shed without a pass counted as congestion');
    clock += 1000;
    assert.equal((await shed(e1)).status, 503);
    for (let i = 0; i < 50 && (await room.load(SKU)) === before; i += 1) await new Promise((r) => { setTimeout(r, 20); });
    assert.equal(await room.load(SKU), before + 1, 'the early shed of an admitted shopper was not counted');
  } finally {
    held.release();
    await gated.close();
  }
});
