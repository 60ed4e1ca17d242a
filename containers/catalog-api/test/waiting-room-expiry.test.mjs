// A ticket whose admission has left the window is over, whatever was admitted after it: no new pass, no slot given
// back (a leave, a spent pass); a spent pass gives its slot back once; a room without a sale start opens at its
// first join, so its tickets outlive its days of joins. Against a real moto server; no PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startMoto } from '../scripts/local-infra.mjs';
import { createWaitingRoomTable } from '../scripts/waiting-room-table.mjs';
import { WaitingRoom } from '../src/waiting-room.mjs';
import { JOIN_DAYS, loadWaitingRoomConfig } from '../src/waiting-room-config.mjs';
import { admissionOf, recordAdmission } from '../src/waiting-room-slots.mjs';

const PASS_SECONDS = 60;
let moto;
let doc;
let table;
let config;

before(async () => {
  moto = await startMoto();
  table = `catalog-waitingroom-expiry${process.pid}`;
  await createWaitingRoomTable({ endpoint: moto.endpoint, name: table });
  doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
  config = loadWaitingRoomConfig({
    WAITING_ROOM_SKUS: 'SKU-EXP,SKU-TWICE,SKU-OPEN', WAITING_ROOM_TABLE: table, WAITING_ROOM_CONTROLLER_MS: '0',
    WAITING_ROOM_PASS_SECONDS: String(PASS_SECONDS), WAITING_ROOM_ADMIT_PER_SECOND: '1', WAITING_ROOM_MAX_ACTIVE: '100',
    WAITING_ROOM_SECRET: 'test-waiting-room-secret-0123456789abcdef',
  });
});

after(() => moto?.stop());

/** Slots given back for a SKU (every shard and bucket summed). */
async function returnedSlots(sku) {
  const { Responses } = await doc.send(new BatchGetCommand({
    RequestItems: { [table]: { Keys: Array.from({ length: 16 }, (_, n) => ({ pk: `R#${sku}#${n}` })), ConsistentRead: true } },
  }));
  return Responses[table].reduce((n, it) => n + Object.entries(it).filter(([k]) => /^b\d+$/.test(k)).reduce((m, [, v]) => m + v, 0), 0);
}

test('a ticket whose admission left the window matches no later admission: 410 on poll, no slot from leave or a spent pass', async () => {
  const sku = 'SKU-EXP';
  let clock = Date.UTC(2026, 11, 24, 18);
  const room = new WaitingRoom({ config, doc, now: () => clock });
  await room.advance(sku);
  const early = (await room.join(sku, 'early')).ticket;
  clock += 1000;
  assert.equal((await room.advance(sku)).admitted, 1);
  // 90 s later (a 60 s pass) a later shopper is admitted: the early admission leaves the window.
  clock += 89_000;
  const late = (await room.join(sku, 'late')).ticket;
  clock += 1000;
  assert.equal((await room.advance(sku)).admitted, 1);
  const state = await room.state(sku, { fresh: true });
  assert.equal(state.admissions.length, 1, 'the early admission was dropped from the window');
  assert.ok(early.arrival <= state.watermark);
  assert.equal(room.admissionOf(state, early.arrival), undefined, 'the early ticket matched the later admission');
  assert.deepEqual(room.status(state, early), { admitted: true, expired: true }, 'the route answers this 410 queue_turn_expired');
  assert.ok(room.status(state, late).pass, 'the later ticket has its pass');
  assert.equal(await room.passSpent({ arr: early.arrival, sub: 'early' }, { sku, sub: 'early' }), false);
  const left = await room.leave(sku, 'early');
  assert.deepEqual([left.outcome, left.admitted, left.slotReturned], ['left', true, false]);
  assert.equal(await returnedSlots(sku), 0, 'an expired ticket gave a slot back');
  clock += 1000;
  assert.equal((await room.advance(sku)).active, 1, 'the later admission still counts');
});

test('admissionOf takes each entry\'s lower bound, kept when a bucket grows; an entry without one takes the previous', () => {
  let list = recordAdmission([], { nowMs: 10_000, count: 2, watermark: 20, before: 10, windowStart: 0, bucketMs: 5000 });
  list = recordAdmission(list, { nowMs: 11_000, count: 1, watermark: 30, before: 20, windowStart: 0, bucketMs: 5000 });
  assert.deepEqual(list, [[11_000, 3, 30, 10_000, 10]]);
  assert.equal(admissionOf(list, 10), undefined);
  assert.equal(admissionOf(list, 11), list[0]);
  assert.equal(admissionOf(list, 30), list[0]);
  const legacy = [[1, 1, 5, 0], [2, 1, 9, 0]];
  assert.equal(admissionOf(legacy, 5), legacy[0]);
  assert.equal(admissionOf(legacy, 6), legacy[1]);
  assert.equal(admissionOf(legacy.slice(1), 5), legacy[1], 'the first legacy entry has no bound (as before)');
});

test('a spent pass returns its slot once, however often the return is called', async () => {
  const sku = 'SKU-TWICE';
  let clock = Date.UTC(2026, 11, 25, 18);
  const room = new WaitingRoom({ config, doc, now: () => clock });
  await room.advance(sku);
  const t = (await room.join(sku, 'buyer')).ticket;
  clock += 1000;
  assert.equal((await room.advance(sku)).admitted, 1);
  const pass = { arr: t.arrival, sub: 'buyer' };
  const first = await room.passSpent(pass, { sku, sub: 'buyer' });
  const again = await room.passSpent(pass, { sku, sub: 'buyer' });
  assert.deepEqual([first, again], [true, false]);
  assert.equal(await returnedSlots(sku), 1);
  clock += 1000;
  assert.equal((await room.advance(sku)).active, 0);
});

test('without a sale start the room opens at its first join: joins close before the first ticket expires', async () => {
  const sku = 'SKU-OPEN';
  let clock = Date.UTC(2026, 10, 1);
  const room = new WaitingRoom({ config, doc, now: () => clock });
  const first = (await room.join(sku, 'first')).ticket;
  // The controller first steps ten days later.
  clock += 10 * 86_400_000;
  await room.advance(sku);
  const state = await room.state(sku, { fresh: true });
  assert.equal(state.openedAt, first.joinedAt, 'the room opened at its first join, not at the first step');
  assert.equal(room.joinsClosed(state, first.expiresAt * 1000 - 1), true, 'joins are open while a ticket has expired');
  assert.equal(room.joinsClosed(state, first.joinedAt + JOIN_DAYS * 86_400_000 - 1), false);
  // The controller's step after the open admitted (the state the join wrote is a valid one).
  assert.ok(state.version >= 2 && state.updatedAt === clock);
});
