// Waiting-room settings: absent means no room; a half-configured room stops start-up naming the variable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../src/config.mjs';
import { loadWaitingRoomConfig } from '../src/waiting-room-config.mjs';

const OK = { WAITING_ROOM_SKUS: 'SKU-000001, SKU-000002', WAITING_ROOM_TABLE: 'catalog-waitingroom-dev', WAITING_ROOM_SECRET: 'k'.repeat(32) };

test('no SKUs, no room', () => {
  assert.equal(loadWaitingRoomConfig({}), undefined);
  assert.equal(loadWaitingRoomConfig({ WAITING_ROOM_SKUS: ' , ' }), undefined);
});

test('a room with its defaults', () => {
  const c = loadWaitingRoomConfig(OK);
  assert.deepEqual([...c.skus], ['SKU-000001', 'SKU-000002']);
  assert.deepEqual([c.ratePerSecond, c.maxActive, c.passSeconds, c.controllerIntervalMs], [50, 1000, 120, 200]);
  assert.equal(loadWaitingRoomConfig({ ...OK, AWS_LAMBDA_FUNCTION_NAME: 'api' }).controllerIntervalMs, 0);
  assert.equal(c.startsAt, 0, 'no start: open now');
  assert.equal(loadWaitingRoomConfig({ ...OK, WAITING_ROOM_STARTS_AT: '2026-12-24T18:00:00+01:00' }).startsAt, Date.UTC(2026, 11, 24, 17));
});

test('each missing or malformed setting is named', () => {
  const cases = [
    [{ ...OK, WAITING_ROOM_TABLE: '' }, 'WAITING_ROOM_TABLE'],
    [{ ...OK, WAITING_ROOM_TABLE: 'a b' }, 'WAITING_ROOM_TABLE'],
    [{ ...OK, WAITING_ROOM_SECRET: 'short' }, 'WAITING_ROOM_SECRET'],
    [{ ...OK, WAITING_ROOM_SKUS: 'SKU 1' }, 'WAITING_ROOM_SKUS'],
    [{ ...OK, WAITING_ROOM_ADMIT_PER_SECOND: '0' }, 'WAITING_ROOM_ADMIT_PER_SECOND'],
    [{ ...OK, WAITING_ROOM_PASS_SECONDS: 'soon' }, 'WAITING_ROOM_PASS_SECONDS'],
    [{ ...OK, WAITING_ROOM_STARTS_AT: '2026-12-24T18:00:00' }, 'WAITING_ROOM_STARTS_AT'], // no offset
    [{ ...OK, WAITING_ROOM_STARTS_AT: 'tomorrow' }, 'WAITING_ROOM_STARTS_AT'],
    [{ ...OK, WAITING_ROOM_STARTS_AT: '2026-02-30T18:00:00Z' }, 'WAITING_ROOM_STARTS_AT'],
  ];
  for (const [env, variable] of cases) {
    assert.throws(() => loadWaitingRoomConfig(env), (err) => err instanceof ConfigError && err.variable === variable && !err.message.includes('\n'), variable);
  }
});

test('the room ends at WAITING_ROOM_ENDS_AT: from then its SKUs are not queued (they sell without a pass)', async () => {
  const { WaitingRoom } = await import('../src/waiting-room.mjs');
  const c = loadWaitingRoomConfig({ ...OK, WAITING_ROOM_STARTS_AT: '2030-05-01T18:00:00Z', WAITING_ROOM_ENDS_AT: '2030-05-01T20:00:00Z' });
  assert.equal(c.endsAt, Date.UTC(2030, 4, 1, 20));
  assert.equal(loadWaitingRoomConfig(OK).endsAt, 0, 'no end: the room stays');
  let t = Date.UTC(2030, 4, 1, 19, 59, 59);
  const room = new WaitingRoom({ config: c, doc: undefined, now: () => t });
  assert.equal(room.queued('SKU-000001'), true);
  t = Date.UTC(2030, 4, 1, 20);
  assert.equal(room.queued('SKU-000001'), false);
  assert.equal(room.queued('SKU-000009'), false);
  for (const [env, variable] of [
    [{ ...OK, WAITING_ROOM_ENDS_AT: 'later' }, 'WAITING_ROOM_ENDS_AT'],
    [{ ...OK, WAITING_ROOM_STARTS_AT: '2030-05-01T18:00:00Z', WAITING_ROOM_ENDS_AT: '2030-05-01T18:00:00Z' }, 'WAITING_ROOM_ENDS_AT'],
  ]) {
    assert.throws(() => loadWaitingRoomConfig(env), (err) => err instanceof ConfigError && err.variable === variable, variable);
  }
});
