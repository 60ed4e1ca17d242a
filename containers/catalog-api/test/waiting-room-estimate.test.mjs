// The waiting room's position and wait estimate for tickets the controller has not read yet, and with the
// admission rate it actually achieved, and the polls' shared state read: the room against a real moto server, its
// clock set by the test.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMoto } from '../scripts/local-infra.mjs';
import { createWaitingRoomTable } from '../scripts/waiting-room-table.mjs';
import { createDynamo } from '../src/dynamo.mjs';
import { WaitingRoom } from '../src/waiting-room.mjs';

const SECRET = 'test-waiting-room-secret-0123456789abcdef';
let moto;
let doc;
let n = 0;

before(async () => {
  moto = await startMoto();
  doc = createDynamo({ region: 'us-east-1', dynamoEndpoint: moto.endpoint });
});
after(async () => {
  doc?.destroy();
  await moto?.stop();
});

async function newRoom(sku, ratePerSecond) {
  const table = `wr-estimate-${process.pid}-${(n += 1)}`;
  await createWaitingRoomTable({ endpoint: moto.endpoint, name: table });
  const room = new WaitingRoom({ config: { skus: new Set([sku]), table, secret: SECRET, ratePerSecond, maxActive: 100_000, passSeconds: 600 }, doc });
  const clock = { t: Date.now() };
  room.now = () => clock.t;
  return { room, clock };
}

/** `count` shoppers joining one every `everyMs`, from the room's current time. */
async function joinMany(room, clock, sku, count, everyMs, tag) {
  const tickets = [];
  for (let i = 0; i < count; i += 1) {
    tickets.push((await room.join(sku, `${tag}-${i}`)).ticket);
    clock.t += everyMs;
  }
  return tickets;
}

test('a ticket joined after the first full read stands behind the queue read, at the join rate seen in it', async () => {
  const sku = 'SKU-EST-1';
  const { room, clock } = await newRoom(sku, 10);
  // 20 joins over 1 s (20/s) before the controller's first step (it started late): that first full read admits
  // what the credit allows and sees the rest.
  await joinMany(room, clock, sku, 20, 50, 'early');
  const first = await room.advance(sku);
  assert.equal(first.admitted, 10);
  const state = await room.state(sku, { fresh: true });
  assert.ok(state.joinRate >= 15 && state.joinRate <= 25, `join rate from the first read ${state.joinRate}/s`);
  // A ticket 1 s after that read: behind the queue read (less nobody admitted since) and ~20 joined since.
  clock.t += 1000;
  const [late] = await joinMany(room, clock, sku, 1, 0, 'late');
  const s = room.status(state, late);
  assert.equal(s.admitted, false);
  const expected = first.queued + 20 + 1;
  assert.ok(Math.abs(s.position - expected) <= 3, `position ${s.position}, expected about ${expected}`);
});

test('admissions since the last full read move an unseen ticket up; the estimate divides by the rate achieved', async () => {
  const sku = 'SKU-EST-2';
  const { room, clock } = await newRoom(sku, 10);
  await room.advance(sku);
  clock.t += 1;
  await joinMany(room, clock, sku, 100, 10, 'crowd'); // 100 waiting after 1 s
  await room.advance(sku); // first full read (admits 10: the credit of the second since the start)
  // A controller step every 0.5 s for 2 s (not full reads), then a ticket that read has not seen.
  for (let i = 0; i < 3; i += 1) {
    clock.t += 500;
    await room.advance(sku);
  }
  const state = await room.state(sku, { fresh: true });
  const moved = state.admittedTotal - state.milestoneBase;
  assert.ok(moved > 0, 'admitted since the full read');
  assert.equal(state.queued, 90 - moved, 'the queue read less those admitted since');
  const [late] = await joinMany(room, clock, sku, 1, 0, 'late');
  const s = room.status({ ...state, joinRate: 0 }, late);
  assert.equal(s.position, state.queued + 1, 'behind the queue read, less those admitted since');
  // A controller that ran late admitted at half the configured rate: the wait is estimated at that rate.
  const slow = room.status({ ...state, joinRate: 0, admitRate: 5 }, late);
  assert.equal(slow.estimatedWaitSeconds, Math.ceil(s.position / 5));
  assert.equal(s.estimatedWaitSeconds, Math.ceil(s.position / 10), 'no achieved rate yet: the configured one');
});

test('the achieved admission rate is measured between full reads while shoppers wait', async () => {
  const sku = 'SKU-EST-3';
  const { room, clock } = await newRoom(sku, 10);
  await room.advance(sku);
  clock.t += 1;
  await joinMany(room, clock, sku, 200, 5, 'crowd');
  await room.advance(sku); // first full read
  // The controller runs only every 10 s: each step may make up at most 5 s of credit, so 10 s admit 50, not 100.
  clock.t += 10_000;
  await room.advance(sku); // full read: 10 s since the last
  const state = await room.state(sku, { fresh: true });
  assert.ok(state.admitRate > 4 && state.admitRate < 6.5, `achieved ${state.admitRate}/s, configured 10/s`);
});

test('polls that arrive while the state is being read share that one read', async () => {
  const sku = 'SKU-EST-4';
  const { room, clock } = await newRoom(sku, 10);
  await room.advance(sku);
  clock.t += 5000; // the cached state has run out
  let reads = 0;
  const send = doc.send.bind(doc);
  room.doc = { send: (cmd) => { if (cmd.constructor.name === 'GetCommand') reads += 1; return send(cmd); } };
  const states = await Promise.all(Array.from({ length: 50 }, () => room.state(sku)));
  assert.equal(reads, 1);
  assert.ok(states.every((st) => st === states[0]));
  await room.state(sku, { fresh: true }); // the controller always reads for itself
  assert.equal(reads, 2);
});
