// The room ends at WAITING_ROOM_ENDS_AT (the sale window's end, `invoke sale plan --waiting-room` stores it): until
// then a queued SKU asks for a pass; from then it sells directly and its queue answers not_queued. Real PostgreSQL
// and a real moto server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createWaitingRoomTable } from '../scripts/waiting-room-table.mjs';
import { call, startApi } from './helpers.mjs';
import { userHeaders } from './identity.mjs';

const QUEUED = 'SKU-000001';
const START = '2030-05-01T18:00:00Z';
const END = '2030-05-01T20:00:00Z';
let ctx;
let api;
let room;
let clock;
let shopper;

before(async () => {
  const table = `catalog-waitingroom-end-t${process.pid}`;
  ctx = await startApi({
    servers: {
      api: {
        WAITING_ROOM_SKUS: QUEUED, WAITING_ROOM_TABLE: table, WAITING_ROOM_SECRET: 'test-waiting-room-secret-0123456789abcdef',
        WAITING_ROOM_STARTS_AT: START, WAITING_ROOM_ENDS_AT: END, WAITING_ROOM_CONTROLLER_MS: '0',
      },
    },
    seed: { count: 1, stock: 10 },
  });
  api = ctx.servers.api;
  await createWaitingRoomTable({ endpoint: ctx.env.DYNAMODB_ENDPOINT, name: table });
  room = api.runtime.waitingRoom;
  room.now = () => clock; // the room's clock is the test's
  shopper = await userHeaders('shopper-end');
});

after(() => ctx?.stop());

const reserve = (key) => call(api.url, `/api/products/${QUEUED}/reservations`, {
  method: 'POST', headers: shopper, json: { quantity: 1, idempotencyKey: key },
});

test('during the sale a reservation needs a pass; from the end it sells without one', async () => {
  clock = Date.parse(END) - 1000;
  const during = await reserve('end-during-0001');
  assert.equal(during.status, 428);
  assert.equal(during.body.error, 'admission_pass_required');
  clock = Date.parse(END);
  const afterEnd = await reserve('end-after-0001');
  assert.equal(afterEnd.status, 201, JSON.stringify(afterEnd.body));
  const join = await call(api.url, `/api/products/${QUEUED}/queue`, { method: 'POST', headers: shopper, json: {} });
  assert.equal(join.status, 404);
  assert.equal(join.body.error, 'not_queued');
});
