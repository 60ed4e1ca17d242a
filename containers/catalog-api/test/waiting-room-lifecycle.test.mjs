// The waiting room's lifecycle against real PostgreSQL and a real moto server: leaving (a waiting ticket leaves
// the queue, an admitted shopper's pass is revoked and its slot returned), one reservation per admission.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createWaitingRoomTable } from '../scripts/waiting-room-table.mjs';
import { call, startApi } from './helpers.mjs';
import { controllerStep, sample } from '../src/waiting-room-controller.mjs';
import { adminHeaders, userHeaders } from './identity.mjs';

const SKU = 'SKU-000001';
const SECRET = 'test-waiting-room-secret-0123456789abcdef';
let ctx;
let api;
let room;
let clock;
const shoppers = {};
const emf = []; // every EMF record the API wrote

before(async () => {
  const table = `catalog-waitingroom-lc${process.pid}`;
  ctx = await startApi({
    servers: {
      api: {
        WAITING_ROOM_SKUS: `${SKU},SKU-000002`, WAITING_ROOM_TABLE: table, WAITING_ROOM_SECRET: SECRET,
        WAITING_ROOM_ADMIT_PER_SECOND: '2', WAITING_ROOM_MAX_ACTIVE: '2', WAITING_ROOM_PASS_SECONDS: '60', WAITING_ROOM_CONTROLLER_MS: '0',
        // Sheds only: a first reservation slowed by a cold pool must not halve the rate these tests count on (AIMD is
        // tested in waiting-room-controller.test.mjs).
        WAITING_ROOM_SLOW_MS: '0',
      },
    },
    seed: { count: 2, stock: 100 },
    runtimeOptions: { metricsWrite: (text) => { for (const line of text.split('\n').filter(Boolean)) emf.push(JSON.parse(line)); } },
  });
  api = ctx.servers.api;
  await createWaitingRoomTable({ endpoint: ctx.env.DYNAMODB_ENDPOINT, name: table });
  room = api.runtime.waitingRoom;
  clock = Date.now();
  room.now = () => clock;
  for (const name of ['s1', 's2', 's3', 's4', 's5', 's6', 'nobody', 'x1', 'x2', 'x3', 'x4', 'm1', 'm2', 'm3', 'b1', 'b2']) shoppers[name] = await userHeaders(`lc-${name}`);
});

after(() => ctx?.stop());

const join = (who, sku = SKU) => call(api.url, `/api/products/${sku}/queue`, { method: 'POST', headers: shoppers[who], json: {} });
const poll = (who, sku = SKU, extra = {}) => call(api.url, `/api/products/${sku}/queue`, { headers: { ...shoppers[who], ...extra } });
const leave = (who, sku = SKU) => call(api.url, `/api/products/${sku}/queue`, { method: 'DELETE', headers: shoppers[who] });
const reserve = (who, pass, key, sku = SKU) => call(api.url, `/api/products/${sku}/reservations`, {
  method: 'POST', headers: { ...shoppers[who], ...(pass ? { 'x-admission-pass': pass } : {}) }, json: { quantity: 1, idempotencyKey: key },
});
const reservations = async () => (await ctx.db.query('SELECT count(*)::int AS n FROM reservations WHERE sku = $1', [SKU])).rows[0].n;
const step = async (ms = 1000) => { clock += ms; return room.advance(SKU); };

test('leaving: a revoked pass is refused, its slot returned; a waiting ticket leaves the queue; both final and idempotent', async () => {
  await room.advance(SKU);
  for (const who of ['s1', 's2', 's3', 's4']) {
    clock += 1;
    assert.equal((await join(who)).status, 201);
  }
  assert.equal((await step()).admitted, 2, 's1 and s2 at 2/s');
  assert.equal((await step()).admitted, 0, 'the cap (2) is full');
  const pass1 = (await poll('s1')).body.pass;
  assert.ok(pass1);

  const left = await leave('s1');
  assert.equal(left.status, 200, JSON.stringify(left.body));
  assert.deepEqual([left.body.left, left.body.admitted, left.body.slotReturned, left.body.replayed], [true, true, true, false]);
  const again = await leave('s1');
  assert.equal(again.status, 200);
  assert.deepEqual([again.body.admitted, again.body.slotReturned, again.body.replayed], [true, true, true], 'repeating is a replay');

  const refused = await reserve('s1', pass1, 'lc-revoked-0001');
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error, 'admission_pass_revoked');
  assert.equal(refused.body.field, 'x-admission-pass');
  assert.equal(await reservations(), 0, 'a revoked pass reserved');

  assert.equal((await step()).admitted, 1, 'the returned slot admits the next shopper (s3)');
  assert.equal((await poll('s3')).body.admitted, true);
  assert.equal((await step()).admitted, 0, 'and only one: the slot was returned once');

  const waiting = await leave('s4');
  assert.deepEqual([waiting.body.admitted, waiting.body.slotReturned], [false, false]);
  // Final: joining again answers the same (left) ticket, polling says so; the pre-queue draw cannot be re-rolled.
  for (const r of [await join('s1'), await join('s4'), await poll('s4')]) {
    assert.equal(r.status, 410);
    assert.equal(r.body.error, 'queue_left');
  }
  const none = await leave('nobody');
  assert.equal(none.status, 404);
  assert.equal(none.body.error, 'not_in_queue');
  const direct = await call(api.url, '/api/products/SKU-000009/queue', { method: 'DELETE', headers: shoppers.s1 });
  assert.equal(direct.body.error, 'not_queued');
});

test('a pass buys one reservation: its slot returns at once, a retry of it is replayed, another key is refused', async () => {
  const pass2 = (await poll('s2')).body.pass;
  const first = await reserve('s2', pass2, 'lc-s2-first');
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const retry = await reserve('s2', pass2, 'lc-s2-first');
  assert.equal(retry.status, 200, 'a retry of the reservation the pass bought is replayed');
  assert.equal(retry.body.replayed, true);
  const second = await reserve('s2', pass2, 'lc-s2-second');
  assert.equal(second.status, 403);
  assert.equal(second.body.error, 'admission_pass_used');
  assert.equal(await reservations(), 1);
  clock += 1;
  assert.equal((await join('s5')).status, 201);
  assert.equal((await step()).admitted, 1, "s2's slot is free again: s5 (s4 left, and is skipped)");
  assert.equal((await poll('s5')).body.admitted, true);
  assert.equal((await poll('s4', SKU)).status, 410);
});

test('a leave racing the controller never frees a slot twice, and the ticket never reserves', async () => {
  // s6 joins; its leave and the step that would admit it run at once. Either it left first (never admitted), or it
  // was admitted first (its slot returned), or the step read it before the leave and wrote after it: then the slot
  // stays counted until the pass lifetime ends (the cap errs on the safe side) and the pass is refused anyway.
  clock += 60_001; // every earlier pass has run out: an empty cap
  await room.advance(SKU);
  clock += 1;
  assert.equal((await join('s6')).status, 201);
  const ticket = (await join('s6')).body.ticket;
  clock += 1000;
  const [r] = await Promise.all([leave('s6'), room.advance(SKU)]);
  assert.equal(r.status, 200);
  clock += 1; // s6 has left: the step admits nobody, and counts who holds a slot
  const { active } = await room.advance(SKU);
  assert.ok(active === 0 || active === 1, `active ${active}`);
  const pass = (await poll('s6', SKU, { 'x-queue-ticket': ticket })).body.pass;
  if (pass) assert.equal((await reserve('s6', pass, 'lc-s6-0001')).body.error, 'admission_pass_revoked');
});

test('sold out closes the room: no admission, Queued 0, waiting shoppers told 410 sold_out; a restock reopens it', async () => {
  const OTHER = 'SKU-000002';
  const admin = await adminHeaders();
  const restock = (available) => call(api.url, `/api/products/${OTHER}/inventory`, { method: 'PUT', headers: admin, json: { available } });
  assert.equal((await restock(1)).status, 200);
  clock += 60_001;
  await room.advance(OTHER);
  for (const who of ['x1', 'x2', 'x3']) {
    clock += 1;
    assert.equal((await join(who, OTHER)).status, 201);
  }
  clock += 1000;
  assert.equal((await room.advance(OTHER)).admitted, 2, 'x1 and x2');
  const passes = [(await poll('x1', OTHER)).body.pass, (await poll('x2', OTHER)).body.pass];
  assert.equal((await reserve('x1', passes[0], 'so-x1-0001', OTHER)).status, 201);
  const none = await reserve('x2', passes[1], 'so-x2-0001', OTHER);
  assert.equal(none.status, 409);
  assert.equal(none.body.available, 0);
  clock += 1000;
  const closed = await room.advance(OTHER);
  assert.deepEqual([closed.admitted, closed.queued], [0, 0], 'sold out: nobody admitted, nobody counted as queued');
  clock += 1000; // the polls' state cache (1 s) has passed
  const waiting = await poll('x3', OTHER);
  assert.equal(waiting.status, 410, JSON.stringify(waiting.body));
  assert.equal(waiting.body.error, 'sold_out');
  assert.equal((await join('x4', OTHER)).body.error, 'sold_out', 'no ticket for a closed room');
  assert.equal((await call(api.url, `/api/products/${OTHER}/queue/state`)).body.soldOut, true);

  assert.equal((await restock(5)).status, 200);
  clock += 1000;
  assert.equal((await room.advance(OTHER)).admitted, 1, 'reopened: x3 keeps its place and is admitted');
  clock += 1000;
  assert.equal((await poll('x3', OTHER)).body.admitted, true);
  // A restock to 0 closes it as well.
  assert.equal((await restock(0)).status, 200);
  clock += 1000;
  await room.advance(OTHER);
  clock += 1000;
  assert.equal((await poll('x3', OTHER)).body.error, 'sold_out');
});

test('metrics: each step reports Queued, Admitted and one WaitSeconds per admitted ticket by SKU; refused passes are counted', async () => {
  clock += 61_000; // every pass has run out
  await room.advance(SKU);
  for (const who of ['m1', 'm2', 'm3']) {
    clock += 1;
    assert.equal((await join(who)).status, 201);
  }
  clock += 1500;
  const before = emf.length;
  const results = await controllerStep(room, api.runtime.metrics);
  assert.equal(results[SKU].admitted, 2);
  const record = emf.slice(before).find((r) => r.sku === SKU);
  assert.ok(record, 'no record for the SKU');
  assert.deepEqual(record._aws.CloudWatchMetrics.map((d) => d.Dimensions), [[['service'], ['service', 'sku']]]);
  assert.deepEqual(record._aws.CloudWatchMetrics[0].Metrics.map((m) => [m.Name, m.Unit]),
    [['WaitingRoomQueued', 'Count'], ['WaitingRoomAdmitted', 'Count'], ['WaitingRoomWaitSeconds', 'Seconds']]);
  assert.equal(record.service, 'catalog-api-test');
  assert.equal(record.WaitingRoomQueued, 1);
  assert.equal(record.WaitingRoomAdmitted, 2);
  assert.equal(record.WaitingRoomWaitSeconds.length, 2);
  for (const w of record.WaitingRoomWaitSeconds) assert.ok(w >= 1.5 && w <= 1.51, `waited ${w} s`);
  const other = emf.slice(before).find((r) => r.sku === 'SKU-000002');
  assert.equal(other.WaitingRoomQueued, 0, 'the sold-out SKU reads 0');
  assert.equal(other.WaitingRoomWaitSeconds, undefined);
  // The revoked and the spent pass of the earlier tests.
  const refused = emf.filter((r) => r.WaitingRoomPassRefused).reduce((n, r) => n + r.WaitingRoomPassRefused, 0);
  assert.ok(refused >= 2, `WaitingRoomPassRefused ${refused}`);
  const directive = emf.find((r) => r.WaitingRoomPassRefused)._aws.CloudWatchMetrics.find((d) => d.Metrics.some((m) => m.Name === 'WaitingRoomPassRefused'));
  assert.deepEqual(directive.Dimensions, [['service']]);
  // EMF caps a metric at 100 values per record: a larger admission is sampled evenly.
  const many = Array.from({ length: 250 }, (_, i) => i);
  assert.equal(sample(many).length, 100);
  assert.deepEqual(sample(many).slice(0, 3), [0, 2, 5]);
  assert.deepEqual(sample([1, 2]), [1, 2]);
});

test('browsers get a page that polls as told; API clients keep JSON; a poll faster than told gets the same answer', async () => {
  for (const who of ['b1', 'b2']) {
    clock += 1;
    assert.equal((await join(who)).status, 201);
  }
  const ticket = (await join('b2')).body.ticket;
  const json = await poll('b2', SKU, { 'x-queue-ticket': ticket });
  assert.equal(json.status, 200);
  assert.match(json.headers.get('content-type'), /^application\/json/);
  assert.equal(typeof json.body.position, 'number');
  assert.equal(json.headers.get('retry-after'), String(json.body.retryAfterSeconds));
  // Decided: polling again before Retry-After is answered, with the same state (one cached read per second per
  // process, nothing written), not refused: a refusal would cost as much as the answer.
  const early = await poll('b2', SKU, { 'x-queue-ticket': ticket });
  assert.equal(early.status, 200);
  assert.deepEqual(early.body, json.body);
  assert.equal(early.headers.get('retry-after'), json.headers.get('retry-after'));
  assert.match((await poll('b2', SKU, { accept: 'application/json' })).headers.get('content-type'), /^application\/json/);

  const page = await poll('b2', SKU, { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'x-queue-ticket': ticket });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(page.headers.get('cache-control'), /private, no-store/);
  assert.match(page.body, new RegExp(`You are number ${json.body.position} in line`));
  assert.match(page.body, new RegExp(`about ${json.body.estimatedWaitSeconds} s`));
  assert.match(page.body, new RegExp(`data-retry-after="${json.body.retryAfterSeconds}"`));
  assert.ok(page.body.includes(`data-ticket="${ticket}"`));
  // The one inline script is the one the CSP allows (by hash), and it polls the JSON when Retry-After says.
  const script = /<script>([\s\S]*)<\/script>/.exec(page.body)[1];
  const hash = createHash('sha256').update(script).digest('base64');
  assert.ok(page.headers.get('content-security-policy').includes(`script-src 'sha256-${hash}'`));
  assert.match(script, /retry-after/);
  assert.match(script, /accept: 'application\/json'/);

  clock += 1000;
  await room.advance(SKU);
  clock += 1000;
  const admitted = await poll('b1', SKU, { accept: 'text/html' });
  assert.match(admitted.body, /It is your turn/);
});
