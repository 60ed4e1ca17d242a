// The room's state item stays bounded at the configuration's bounds (longest pass lifetime, highest admission
// rate, fastest controller), and the slots given back early are still counted, without writing the state item.
// Against a real moto server; the controller and the room need no PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { startMoto } from '../scripts/local-infra.mjs';
import { createWaitingRoomTable } from '../scripts/waiting-room-table.mjs';
import { ConfigError } from '../src/config.mjs';
import { WaitingRoom } from '../src/waiting-room.mjs';
import { loadWaitingRoomConfig } from '../src/waiting-room-config.mjs';
import { MAX_BUCKETS, bucketMsFor, recordAdmission } from '../src/waiting-room-slots.mjs';

const SKU = 'SKU-SIZE';
const ITEM_LIMIT = 400 * 1024; // DynamoDB's item size limit
let moto;
let doc;
let table;
let config;

// The configuration's bounds: the longest pass lifetime and the highest admission rate it accepts.
const BOUNDS = { WAITING_ROOM_PASS_SECONDS: '3600', WAITING_ROOM_ADMIT_PER_SECOND: '100000', WAITING_ROOM_MAX_ACTIVE: '1000000' };

before(async () => {
  moto = await startMoto();
  table = `catalog-waitingroom-size${process.pid}`;
  await createWaitingRoomTable({ endpoint: moto.endpoint, name: table });
  doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
  config = loadWaitingRoomConfig({ WAITING_ROOM_SKUS: SKU, WAITING_ROOM_TABLE: table, WAITING_ROOM_CONTROLLER_MS: '0', ...BOUNDS }, { signing: false });
});

after(() => moto?.stop());

/** DynamoDB's item size rules: names and strings in UTF-8 bytes, a number 1 byte per 2 significant digits + 1,
 *  a list or map 3 bytes + 1 per element (+ its name for a map). */
function sizeOf(v) {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (typeof v === 'number') return Math.ceil(String(Math.abs(v)).replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length / 2) + 1;
  if (typeof v === 'boolean' || v === null) return 1;
  if (Array.isArray(v)) return 3 + v.reduce((n, e) => n + 1 + sizeOf(e), 0);
  return 3 + Object.entries(v).reduce((n, [k, e]) => n + 1 + Buffer.byteLength(k) + sizeOf(e), 0);
}
const itemSize = (item) => Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + sizeOf(v), 0);

test('the bounds are the configuration\'s: a longer pass lifetime or a higher rate is refused', () => {
  assert.throws(() => loadWaitingRoomConfig({ WAITING_ROOM_SKUS: SKU, WAITING_ROOM_TABLE: table, ...BOUNDS, WAITING_ROOM_PASS_SECONDS: '3601' }, { signing: false }),
    (err) => err instanceof ConfigError && err.variable === 'WAITING_ROOM_PASS_SECONDS');
  assert.throws(() => loadWaitingRoomConfig({ WAITING_ROOM_SKUS: SKU, WAITING_ROOM_TABLE: table, ...BOUNDS, WAITING_ROOM_ADMIT_PER_SECOND: '100001' }, { signing: false }),
    (err) => err instanceof ConfigError && err.variable === 'WAITING_ROOM_ADMIT_PER_SECOND');
});

test('admitting every step for minutes adds one admissions entry per bucket, not per step', async () => {
  let clock = Date.UTC(2026, 11, 24, 18);
  const room = new WaitingRoom({ config, doc, now: () => clock });
  await room.advance(SKU);
  const steps = 120; // two minutes at one admitting step a second
  for (let i = 0; i < steps; i += 1) {
    clock += 1;
    await room.join(SKU, `size-${i}`);
    clock += 999;
    assert.equal((await room.advance(SKU)).admitted, 1);
  }
  const state = await room.state(SKU, { fresh: true });
  const buckets = Math.ceil((steps * 1000) / bucketMsFor(config.passSeconds)) + 1;
  assert.ok(state.admissions.length <= buckets, `${state.admissions.length} admissions entries for ${steps} steps (at most ${buckets})`);
  assert.equal(state.admissions.reduce((n, [, k]) => n + k, 0), steps, 'every admission is counted');
  assert.equal(state.returned, undefined, 'the state item holds no returned slots');
});

test('at the bounds (3600 s passes, 100,000/s, a step every 50 ms) the state item stays far below 400 KB', async () => {
  const passSeconds = config.passSeconds;
  const bucketMs = bucketMsFor(passSeconds);
  const stepMs = 50; // WAITING_ROOM_CONTROLLER_MS's lowest value on the controller function
  const perStep = (config.ratePerSecond * stepMs) / 1000;
  let admissions = [];
  let now = Date.UTC(2026, 11, 24, 18);
  let watermark = now * 1000 + 999; // arrivals: ms x 1000 + a tiebreak, 16 digits
  for (let t = 0; t < 2 * passSeconds * 1000; t += stepMs) {
    now += stepMs;
    const before = watermark;
    watermark += perStep * 17;
    admissions = recordAdmission(admissions, { nowMs: now, count: perStep, watermark, before, windowStart: now - passSeconds * 1000, bucketMs });
    assert.ok(admissions.length <= MAX_BUCKETS + 1);
  }
  // The largest state a step writes: every attribute the controller sets, 2,000 milestones of the widest keys.
  const room = new WaitingRoom({ config, doc, now: () => now });
  await room.advance(SKU);
  const { Item } = await doc.send(new GetCommand({ TableName: table, Key: { pk: `W#${SKU}` }, ConsistentRead: true }));
  const worst = { ...Item, admissions, milestones: Array.from({ length: 2000 }, (_, i) => watermark + 1_000_003 * i) };
  const size = itemSize(worst);
  assert.ok(size < 64 * 1024, `state item ${size} bytes at the bounds (limit ${ITEM_LIMIT})`);
  process.stderr.write(`# state item at the bounds: ${size} bytes, ${admissions.length} admissions entries\n`);
});

test('slots given back are counted (leave, a spent pass) and neither writes the state item', async () => {
  let clock = Date.UTC(2026, 11, 25, 18);
  const room = new WaitingRoom({ config, doc, now: () => clock });
  const sku = 'SKU-RET';
  await room.advance(sku);
  const arrivals = [];
  for (const sub of ['r1', 'r2', 'r3']) {
    clock += 1;
    arrivals.push((await room.join(sku, sub)).ticket.arrival);
  }
  clock += 1000;
  assert.deepEqual([(await room.advance(sku)).admitted], [3]);
  clock += 1;
  assert.equal((await room.advance(sku)).active, 3);
  const stateItem = async () => (await doc.send(new GetCommand({ TableName: table, Key: { pk: `W#${sku}` }, ConsistentRead: true }))).Item;
  const before = await stateItem();
  assert.deepEqual((await room.leave(sku, 'r1')).slotReturned, true);
  assert.equal(await room.passSpent({ arr: arrivals[1] }, { sku, sub: 'r2' }), true);
  assert.deepEqual(await stateItem(), before, 'a leave or a spent pass wrote the state item');
  clock += 1;
  assert.equal((await room.advance(sku)).active, 1, 'both returned slots are counted out');
  // Past the pass lifetime the bucket's returned counts are dropped with its admissions.
  clock += config.passSeconds * 1000 + bucketMsFor(config.passSeconds);
  assert.equal((await room.advance(sku)).active, 0);
  const { Responses } = await doc.send(new BatchGetCommand({
    RequestItems: { [table]: { Keys: Array.from({ length: 16 }, (_, n) => ({ pk: `R#${sku}#${n}` })) } },
  }));
  for (const item of Responses[table]) assert.deepEqual(Object.keys(item).filter((k) => k !== 'pk'), [], `${item.pk} keeps stale buckets`);
});
