// The waiting room against real PostgreSQL and a real moto server: arrival order, pass binding, the refusals,
// idempotent joins, the cap on active shoppers, and that joining and polling never reach PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createWaitingRoomTable } from '../scripts/waiting-room-table.mjs';
import { call, startApi } from './helpers.mjs';
import { userHeaders } from './identity.mjs';

const QUEUED = 'SKU-000001';
const ALSO_QUEUED = 'SKU-000003';
const DIRECT = 'SKU-000002';
const SECRET = 'test-waiting-room-secret-0123456789abcdef';
let ctx;
let api;
let room;
let clock;
const shoppers = {};

before(async () => {
  const table = `catalog-waitingroom-t${process.pid}`;
  ctx = await startApi({
    servers: {
      api: {
        WAITING_ROOM_SKUS: `${QUEUED},${ALSO_QUEUED}`, WAITING_ROOM_TABLE: table, WAITING_ROOM_SECRET: SECRET,
        WAITING_ROOM_ADMIT_PER_SECOND: '3', WAITING_ROOM_MAX_ACTIVE: '4', WAITING_ROOM_PASS_SECONDS: '60', WAITING_ROOM_CONTROLLER_MS: '0',
      },
    },
    seed: { count: 3, stock: 100 },
  });
  api = ctx.servers.api;
  await createWaitingRoomTable({ endpoint: ctx.env.DYNAMODB_ENDPOINT, name: table });
  room = api.runtime.waitingRoom;
  // The room's clock is the test's: admission is a function of time, so the test decides when a second has passed.
  clock = Date.now();
  room.now = () => clock;
  for (const name of ['s1', 's2', 's3', 's4', 's5']) shoppers[name] = await userHeaders(`shopper-${name}`);
});

after(() => ctx?.stop());

const join = (who, sku = QUEUED) => call(api.url, `/api/products/${sku}/queue`, { method: 'POST', headers: shoppers[who], json: {} });
const poll = (who, sku = QUEUED, extra = {}) => call(api.url, `/api/products/${sku}/queue`, { headers: { ...shoppers[who], ...extra } });
const reserve = (who, sku, pass, key) => call(api.url, `/api/products/${sku}/reservations`, {
  method: 'POST', headers: { ...shoppers[who], ...(pass ? { 'x-admission-pass': pass } : {}) }, json: { quantity: 1, idempotencyKey: key },
});
const reservations = async (sku) => (await ctx.db.query('SELECT count(*)::int AS n FROM reservations WHERE sku = $1', [sku])).rows[0].n;

test('a SKU not behind the room sells directly; its queue does not exist', async () => {
  assert.equal((await reserve('s1', DIRECT, undefined, 'direct-0001')).status, 201);
  const r = await join('s1', DIRECT);
  assert.equal(r.status, 404);
  assert.equal(r.body.error, 'not_queued');
});

test('a queued SKU refuses a reservation without a pass, and nothing is written', async () => {
  const r = await reserve('s1', QUEUED, undefined, 'nopass-0001');
  assert.equal(r.status, 428);
  assert.equal(r.body.error, 'admission_pass_required');
  assert.equal(await reservations(QUEUED), 0);
  // No token: still 401 first (the pass check never runs for an unknown caller).
  const anon = await call(api.url, `/api/products/${QUEUED}/reservations`, { method: 'POST', json: { quantity: 1, idempotencyKey: 'anon-0001' } });
  assert.equal(anon.status, 401);
});

test('shoppers are admitted in arrival order at the rate, within the cap; joining twice is idempotent; no PostgreSQL', async () => {
  await room.advance(QUEUED); // an empty room: the controller's clock starts here, nothing saved up
  // Joining and polling must not reach PostgreSQL: every pool entry point counts.
  let pgCalls = 0;
  const { reader, writer } = api.runtime.db;
  const originals = [];
  for (const pool of [reader, writer]) {
    for (const fn of ['query', 'connect']) {
      const orig = pool[fn];
      originals.push(() => { pool[fn] = orig; });
      pool[fn] = function counted(...args) { pgCalls += 1; return orig.apply(this, args); };
    }
  }
  const tickets = {};
  try {
    for (const who of ['s1', 's2', 's3', 's4', 's5']) {
      clock += 1;
      const r = await join(who);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      tickets[who] = r.body.ticket;
    }
    const again = await join('s2');
    assert.equal(again.status, 200);
    assert.equal(again.body.ticket, tickets.s2, 'joining twice answers the same ticket');

    await room.advance(QUEUED); // no time passed: nobody admitted, the positions are known
    for (const [i, who] of ['s1', 's2', 's3', 's4', 's5'].entries()) {
      const r = await poll(who, QUEUED, { 'x-queue-ticket': tickets[who] });
      assert.equal(r.status, 200);
      assert.equal(r.body.admitted, false);
      assert.equal(r.body.position, i + 1, `${who} is number ${i + 1} in line`);
      assert.equal(r.body.estimatedWaitSeconds, Math.ceil((i + 1) / 3));
      assert.equal(r.headers.get('retry-after'), String(r.body.retryAfterSeconds));
      assert.match(r.headers.get('cache-control'), /private/);
    }
    assert.equal(pgCalls, 0, 'joining and polling reached PostgreSQL');
  } finally {
    originals.forEach((undo) => undo());
  }

  clock += 1000; // one second at 3/s: the first three in line
  assert.equal((await room.advance(QUEUED)).admitted, 3);
  const standing = {};
  for (const who of ['s1', 's2', 's3', 's4', 's5']) standing[who] = (await poll(who)).body; // by ticket lookup this time
  assert.deepEqual(['s1', 's2', 's3', 's4', 's5'].map((w) => standing[w].admitted), [true, true, true, false, false]);
  assert.equal(standing.s4.position, 1);
  assert.equal(standing.s5.position, 2);

  clock += 1000; // three more allowed by the rate, but the cap is 4 active shoppers: one
  assert.equal((await room.advance(QUEUED)).admitted, 1);
  assert.equal((await poll('s4')).body.admitted, true);
  assert.equal((await poll('s5')).body.admitted, false);
  clock += 61_000; // the first passes have run out: room again
  assert.equal((await room.advance(QUEUED)).admitted, 1);
  assert.equal((await poll('s5')).body.admitted, true);
  // s1's admission has left the window: its turn is over, whatever was admitted after it (no new pass).
  const over = await poll('s1');
  assert.equal(over.status, 410, JSON.stringify(over.body));
  assert.equal(over.body.error, 'queue_turn_expired');
});

test('a pass works only for its shopper, its SKU and its lifetime; forgeries are refused', async () => {
  const mine = (await poll('s5')).body.pass;
  assert.ok(mine);
  const before = await reservations(QUEUED);
  const cases = [
    ['s2', QUEUED, mine, 'admission_pass_other_shopper'],
    ['s5', ALSO_QUEUED, mine, 'admission_pass_other_sku'],
    ['s5', QUEUED, `${mine.slice(0, -2)}AA`, 'admission_pass_invalid'],
    ['s5', QUEUED, 'v1.e30.AAAA', 'admission_pass_invalid'],
    ['s5', QUEUED, (await poll('s5')).body.ticket, 'admission_pass_invalid'], // a ticket is not a pass
  ];
  // A pass signed with another key (someone who guessed the format): same payload, wrong signature.
  const { Signer } = await import('../src/waiting-room.mjs');
  const forged = new Signer('x'.repeat(40)).sign({ k: 'p', sku: QUEUED, sub: 'shopper-s5', arr: 1, exp: Math.floor(clock / 1000) + 60 });
  cases.push(['s5', QUEUED, forged, 'admission_pass_invalid']);
  for (const [who, sku, pass, code] of cases) {
    const r = await reserve(who, sku, pass, `bad-${code}-${who}`.slice(0, 60));
    assert.equal(r.status, 403, `${code}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error, code);
    assert.equal(r.body.field, 'x-admission-pass');
  }
  assert.equal(await reservations(QUEUED), before, 'a refused pass reserved something');

  const ok = await reserve('s5', QUEUED, mine, 'with-pass-0001');
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  clock += 61_000;
  const late = await reserve('s5', QUEUED, mine, 'with-pass-0002');
  assert.equal(late.status, 403);
  assert.equal(late.body.error, 'admission_pass_expired');
  assert.equal(await reservations(QUEUED), before + 1);
  // Its turn is over: polling gives no new pass (the cap counted this admission for one pass lifetime).
  const over = await poll('s5');
  assert.equal(over.status, 410);
  assert.equal(over.body.error, 'queue_turn_expired');
});

test("another shopper's ticket is refused when polling", async () => {
  // s4's ticket as the join answered it (every turn is over by now, so the join itself answers 410).
  const t1 = room.ticketToken(await room.ticketOf(QUEUED, 'shopper-s4'));
  const r = await poll('s2', QUEUED, { 'x-queue-ticket': t1 });
  assert.equal(r.status, 403);
  assert.equal(r.body.error, 'queue_ticket_other_shopper');
  const other = await poll('s4', ALSO_QUEUED, { 'x-queue-ticket': t1 });
  assert.equal(other.body.error, 'queue_ticket_other_sku');
});

test('a ticket outlives its room: the room takes joins for JOIN_DAYS, a ticket lives longer than that and its pass', async () => {
  const { JOIN_DAYS } = await import('../src/waiting-room-config.mjs');
  const ticket = await room.ticketOf(QUEUED, 'shopper-s5');
  assert.ok(ticket.expiresAt * 1000 >= ticket.joinedAt + JOIN_DAYS * 86_400_000 + room.passSeconds * 1000,
    `the ticket expires ${(ticket.expiresAt * 1000 - ticket.joinedAt) / 86_400_000} days after its join`);
  await room.advance(QUEUED);
  const { openedAt } = await room.state(QUEUED, { fresh: true });
  assert.ok(openedAt > 0 && openedAt <= ticket.joinedAt, 'the room records when it opened');
  clock = openedAt + JOIN_DAYS * 86_400_000;
  await room.advance(QUEUED);
  clock += 1000;
  const late = await call(api.url, `/api/products/${QUEUED}/queue`, { method: 'POST', headers: await userHeaders('shopper-late'), json: {} });
  assert.equal(late.status, 410, JSON.stringify(late.body));
  assert.equal(late.body.error, 'queue_closed');
  assert.equal((await room.ticketOf(QUEUED, 'shopper-late')), undefined, 'no ticket was written');
  // A shopper who has a ticket still gets its answer (here: admitted long ago, the turn is over).
  assert.equal((await join('s5')).body.error, 'queue_turn_expired');
});
