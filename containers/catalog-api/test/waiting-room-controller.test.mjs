// The controller function (src/waiting-room-controller.mjs) against a real moto server, without PostgreSQL and
// without the HMAC key: its steps, its stop rules, two invocations at once, and the handler itself.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMoto } from '../scripts/local-infra.mjs';
import { createWaitingRoomTable } from '../scripts/waiting-room-table.mjs';
import { ConfigError } from '../src/config.mjs';
import { createController, handler, runController } from '../src/waiting-room-controller.mjs';
import { captureJsonStdout } from './helpers.mjs';

const RATE = 20;
let moto;
let env;
const contextFor = (ms) => { const deadline = Date.now() + ms; return { getRemainingTimeInMillis: () => deadline - Date.now() }; };

before(async () => {
  // One request at a time: conditional writes atomic as in DynamoDB (moto's threaded server does not guarantee it).
  moto = await startMoto({ serialized: true });
  const table = `catalog-waitingroom-ctl${process.pid}`;
  await createWaitingRoomTable({ endpoint: moto.endpoint, name: table });
  // No DB_* and no WAITING_ROOM_SECRET: the controller needs neither.
  env = {
    WAITING_ROOM_SKUS: 'SKU-A,SKU-B', WAITING_ROOM_TABLE: table, WAITING_ROOM_ADMIT_PER_SECOND: String(RATE),
    WAITING_ROOM_MAX_ACTIVE: '1000', WAITING_ROOM_CONTROLLER_MS: '50', DYNAMODB_ENDPOINT: moto.endpoint, AWS_REGION: 'us-east-1',
    POWERTOOLS_SERVICE_NAME: 'catalog-waitingroom-controller', LOG_LEVEL: 'SILENT',
  };
});

after(() => moto?.stop());

test('settings: no PostgreSQL and no key needed; what is missing or wrong is named', () => {
  const c = createController(env);
  assert.equal(c.room.signer, undefined, 'the controller holds no HMAC key');
  assert.equal(c.stepMs, 50);
  c.close();
  assert.equal(createController({ ...env, WAITING_ROOM_CONTROLLER_MS: '' }).stepMs, 250, 'default step on this function');
  for (const [over, variable] of [[{ WAITING_ROOM_SKUS: '' }, 'WAITING_ROOM_SKUS'], [{ WAITING_ROOM_CONTROLLER_MS: '0' }, 'WAITING_ROOM_CONTROLLER_MS'],
    [{ WAITING_ROOM_TABLE: '' }, 'WAITING_ROOM_TABLE']]) {
    assert.throws(() => createController({ ...env, ...over }), (err) => err instanceof ConfigError && err.variable === variable);
  }
});

test('it stops when the invocation has less than 5 s left', async () => {
  const c = createController(env, { metricsWrite: () => {} });
  try {
    const summary = await runController(c, contextFor(5_100));
    assert.equal(summary.steps, 1);
  } finally {
    c.close();
  }
});

test('two invocations at once admit each ticket once, at the rate, and both report metrics', async () => {
  const joiner = createController(env);
  for (let i = 0; i < 80; i += 1) await joiner.room.join('SKU-A', `ctl-shopper-${i}`);
  const lines = [];
  const write = (text) => { for (const l of text.split('\n').filter(Boolean)) lines.push(JSON.parse(l)); };
  const a = createController(env, { metricsWrite: write });
  const b = createController(env, { metricsWrite: write });
  try {
    const [sa, sb] = await Promise.all([runController(a, contextFor(9_000)), runController(b, contextFor(9_000))]);
    const state = await joiner.room.state('SKU-A', { fresh: true });
    assert.ok(sa.steps >= 2 && sb.steps >= 2, `steps ${sa.steps}, ${sb.steps}`);
    assert.ok(sa.raced + sb.raced >= 1, 'the two invocations never raced: the test did not exercise the version check');
    // Each admission is counted by exactly one invocation: the loser of a race admits nothing.
    assert.equal(sa.admitted + sb.admitted, state.admittedTotal);
    const seconds = Math.max(sa.durationMs, sb.durationMs) / 1000;
    assert.ok(state.admittedTotal <= Math.ceil(RATE * (seconds + 1)), `${state.admittedTotal} admitted in ${seconds} s at ${RATE}/s`);
    assert.ok(state.admittedTotal >= RATE, `only ${state.admittedTotal} admitted in ${seconds} s`);
    const admitted = lines.filter((l) => l.sku === 'SKU-A').reduce((n, l) => n + l.WaitingRoomAdmitted, 0);
    assert.equal(admitted, state.admittedTotal, 'the Admitted metric adds up to the admissions');
    assert.ok(lines.some((l) => l.sku === 'SKU-B' && l.WaitingRoomQueued === 0));
  } finally {
    for (const c of [joiner, a, b]) c.close();
  }
});

test('the exported handler runs against the table from its environment', async () => {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const out = captureJsonStdout();
  try {
    const summary = await handler({ source: 'aws.scheduler' }, contextFor(5_300));
    assert.ok(summary.steps >= 1);
    assert.equal(summary.failed, 0);
    assert.ok(out.lines.some((l) => l._aws && l.sku === 'SKU-A' && 'WaitingRoomQueued' in l), 'no EMF record on stdout');
  } finally {
    out.restore();
    process.env = saved;
  }
});

test('AIMD: sheds and slow answers halve the admission rate (once a second), calm lets it grow back to the configured rate', async () => {
  const c = createController({ ...env, WAITING_ROOM_SKUS: 'SKU-C' }, { metricsWrite: () => {} });
  const { room } = c;
  let clock = Date.now();
  room.now = () => clock;
  const rateAfterStep = async (ms = 1000) => { clock += ms; return (await room.advance('SKU-C')).ratePerSecond; };
  try {
    for (let i = 0; i < 60; i += 1) await room.join('SKU-C', `aimd-${i}`);
    assert.equal(await rateAfterStep(), RATE, 'no signal yet: the configured rate');
    // Healthy answers write nothing; two sheds within the flush interval are one write of 2.
    assert.equal(room.noteLoad('SKU-C', { status: 201, durationMs: 20 }), undefined);
    await room.noteLoad('SKU-C', { status: 503, durationMs: 2 });
    assert.equal(room.noteLoad('SKU-C', { status: 503, durationMs: 2 }), undefined, 'coalesced');
    clock += 250;
    await room.noteLoad('SKU-C', { status: 201, durationMs: 900 }); // slow (> 200 ms) counts as well: flushes 2
    assert.equal(await room.load('SKU-C'), 3);
    assert.equal(await rateAfterStep(), RATE / 2, 'congestion halves the rate');
    await room.noteLoad('SKU-C', { status: 503, durationMs: 2 });
    assert.equal(await rateAfterStep(400), RATE / 2, 'at most one decrease a second');
    await room.noteLoad('SKU-C', { status: 503, durationMs: 2 });
    assert.equal(await rateAfterStep(), RATE / 4);
    // The lowered rate is what admits: one second at 5/s admits 5.
    const { admitted } = await (async () => { clock += 1000; return room.advance('SKU-C'); })();
    assert.equal(admitted, Math.floor(RATE / 4 + RATE * 0.05), `admitted ${admitted}`);
    // Calm: +5 % of the configured rate per second, up to it and no further.
    let rate = RATE / 4 + RATE * 0.05;
    for (let s = 0; s < 20; s += 1) {
      rate = Math.min(RATE, rate + RATE * 0.05);
      assert.ok(Math.abs((await rateAfterStep()) - rate) < 1e-9, `second ${s}`);
    }
    assert.equal(rate, RATE);
  } finally {
    c.close();
  }
});
