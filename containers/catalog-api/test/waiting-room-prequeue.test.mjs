// The pre-queue against real PostgreSQL and a real moto server: before WAITING_ROOM_STARTS_AT the room takes
// joins and admits nobody, says when it opens and gives no position; at the start the tickets joined before it
// are served in a random order (not their join order), all of them before any ticket joined after the start.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createWaitingRoomTable } from '../scripts/waiting-room-table.mjs';
import { call, startApi } from './helpers.mjs';
import { userHeaders } from './identity.mjs';

const SKU = 'SKU-000001';
const SECRET = 'test-waiting-room-secret-0123456789abcdef';
const EARLY = 40; // joined before the start, in this order
const LATE = 5; // joined after it
const RATE = 5;
let ctx;
let api;
let room;
let clock;
let startsAt;
const headers = {};

before(async () => {
  const table = `catalog-waitingroom-pq${process.pid}`;
  // A whole second, so the ISO text and the room's instant are the same number.
  startsAt = Math.ceil(Date.now() / 1000) * 1000 + 3_600_000;
  ctx = await startApi({
    servers: {
      api: {
        WAITING_ROOM_SKUS: SKU, WAITING_ROOM_TABLE: table, WAITING_ROOM_SECRET: SECRET, WAITING_ROOM_STARTS_AT: new Date(startsAt).toISOString(),
        WAITING_ROOM_ADMIT_PER_SECOND: String(RATE), WAITING_ROOM_MAX_ACTIVE: '1000', WAITING_ROOM_PASS_SECONDS: '600', WAITING_ROOM_CONTROLLER_MS: '0',
        // Every reservation (a database round trip and more) is "slow" here: the last test sees the live signal.
        WAITING_ROOM_SLOW_MS: '1',
      },
    },
    seed: { count: 1, stock: 100 },
  });
  api = ctx.servers.api;
  await createWaitingRoomTable({ endpoint: ctx.env.DYNAMODB_ENDPOINT, name: table });
  room = api.runtime.waitingRoom;
  clock = Date.now();
  room.now = () => clock;
  for (let i = 0; i < EARLY + LATE; i += 1) headers[i] = await userHeaders(`pq-shopper-${i}`);
});

after(() => ctx?.stop());

const join = (i) => call(api.url, `/api/products/${SKU}/queue`, { method: 'POST', headers: headers[i], json: {} });
const poll = (i) => call(api.url, `/api/products/${SKU}/queue`, { headers: headers[i] });

/** Kendall's tau between two rankings of the same items (1: same order, -1: reversed, ~0: unrelated). */
function kendallTau(a, b) {
  let concordant = 0;
  let discordant = 0;
  for (let i = 0; i < a.length; i += 1) {
    for (let j = i + 1; j < a.length; j += 1) {
      const s = Math.sign(a[i] - a[j]) * Math.sign(b[i] - b[j]);
      if (s > 0) concordant += 1; else if (s < 0) discordant += 1;
    }
  }
  return (concordant - discordant) / ((a.length * (a.length - 1)) / 2);
}

test('before the start: joins are taken, nobody is admitted, no position is made up', async () => {
  for (let i = 0; i < EARLY; i += 1) {
    clock += 250; // one after the other: a FIFO room would serve them in exactly this order
    const r = await join(i);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.admitted, false);
    assert.equal(r.body.position, null);
    assert.equal(r.body.estimatedWaitSeconds, null);
    assert.equal(r.body.opensAt, new Date(startsAt).toISOString());
    assert.match(r.body.message, /drawn at random/);
    assert.equal(r.headers.get('retry-after'), '30');
  }
  for (let step = 0; step < 5; step += 1) {
    clock += 5000;
    assert.equal((await room.advance(SKU)).admitted, 0, 'admitted before the start');
  }
  const r = await poll(0);
  assert.equal(r.status, 200);
  assert.equal(r.body.admitted, false);
  assert.equal(r.body.pass, undefined);
  const state = await call(api.url, `/api/products/${SKU}/queue/state`);
  assert.equal(state.body.opensAt, new Date(startsAt).toISOString());
  // Ten seconds before the start: come back then, not in 30 s.
  clock = startsAt - 10_000;
  assert.equal((await poll(0)).headers.get('retry-after'), '10');
});

test('at the start: the pre-queue is served first, in a random order, then the later joins', async () => {
  clock = startsAt;
  for (let i = EARLY; i < EARLY + LATE; i += 1) {
    clock += 10;
    const r = await join(i);
    assert.equal(r.status, 201);
    assert.equal(typeof r.body.position, 'number', 'after the start a position is given');
  }
  const arrivals = [];
  for (let i = 0; i < EARLY + LATE; i += 1) arrivals.push((await room.ticketOf(SKU, `pq-shopper-${i}`)).arrival);
  const admittedAtStep = new Array(EARLY + LATE).fill(undefined);
  for (let step = 1; step <= 20 && admittedAtStep.includes(undefined); step += 1) {
    clock += 1000;
    await room.advance(SKU);
    const { watermark } = await room.state(SKU, { fresh: true });
    arrivals.forEach((a, i) => { if (admittedAtStep[i] === undefined && a <= watermark) admittedAtStep[i] = step; });
  }
  assert.ok(!admittedAtStep.includes(undefined), `not everyone admitted: ${admittedAtStep}`);
  const lastEarly = Math.max(...admittedAtStep.slice(0, EARLY));
  const firstLate = Math.min(...admittedAtStep.slice(EARLY));
  assert.ok(lastEarly <= firstLate, `a later join was admitted (step ${firstLate}) before a pre-queue ticket (step ${lastEarly})`);
  assert.ok(Math.max(...arrivals.slice(0, EARLY)) < Math.min(...arrivals.slice(EARLY)), 'every pre-queue ticket is ahead of every later one');
  // Admission order is arrival order (the admitted set is a prefix of it); among the pre-queue it must not follow
  // the join order. For a random permutation of 40, tau has a standard deviation of ~0.11: |tau| >= 0.5 happens
  // with probability below 1e-5, while FIFO by join gives 1 and LIFO -1.
  const tau = kendallTau(arrivals.slice(0, EARLY), [...Array(EARLY).keys()]);
  assert.ok(Math.abs(tau) < 0.5, `pre-queue order follows the join order (Kendall tau ${tau.toFixed(2)})`);
  // And the HTTP answer agrees: a pre-queue shopper now holds a pass.
  const r = await poll(0);
  assert.equal(r.body.admitted, true);
  assert.ok(r.body.pass);
});

test('the live signal: a queued SKU\'s reservation slower than WAITING_ROOM_SLOW_MS is counted for the controller', async () => {
  const before = await room.load(SKU);
  const { pass } = (await poll(1)).body;
  assert.ok(pass, 'shopper 1 was admitted');
  const r = await call(api.url, `/api/products/${SKU}/reservations`, {
    method: 'POST', headers: { ...headers[1], 'x-admission-pass': pass }, json: { quantity: 1, idempotencyKey: 'pq-signal-0001' },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  // The count is written after the answer (not awaited on the request path): give it a moment.
  let after = before;
  for (let i = 0; i < 50 && after === before; i += 1) {
    await new Promise((done) => setTimeout(done, 20));
    after = await room.load(SKU);
  }
  assert.equal(after, before + 1);
});
