// Writer admission (src/admission.mjs) with a stand-in pool and clock: the policy itself, step by step. The
// end-to-end effect (goodput at twice the capacity) is measured by the open-loop benchmark.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WriterAdmission } from '../src/admission.mjs';

function setup() {
  let t = 0;
  const pool = { waitingCount: 0, idleCount: 0, totalCount: 10, options: { max: 10 } };
  const a = new WriterAdmission({ pool, targetMs: 5, intervalMs: 100, budgetMs: 100, maxWaiting: 1000, now: () => t });
  return { a, pool, tick: (ms) => { t += ms; } };
}

/** One interval in which the database completes `done` transactions and admitted requests waited `delay` ms. */
function interval({ a, tick }, done, delay) {
  const at = a.tryAdmit() ?? a.now();
  tick(delay);
  a.connected(at);
  for (let i = 0; i < done; i += 1) a.finished();
  tick(100 - delay);
}

test('a free connection: nothing is refused', () => {
  const { a, pool } = setup();
  pool.idleCount = 1;
  pool.waitingCount = 5000;
  assert.equal(a.allowedWaiting(), Infinity);
  assert.notEqual(a.tryAdmit(), undefined);
});

test('a burst may queue up to the budget at the measured completion rate', () => {
  const s = setup();
  interval(s, 100, 1); // 1,000 completions/s, admitted requests waited 1 ms: no standing queue
  interval(s, 100, 1);
  assert.equal(s.a.snapshot().standing, false);
  s.pool.waitingCount = 90; // 90 ms of work ahead at 1/ms: within the 100 ms budget
  assert.notEqual(s.a.tryAdmit(), undefined);
  s.pool.waitingCount = 100; // the 101st would wait past the budget
  assert.equal(s.a.tryAdmit(), undefined);
});

test('a standing queue keeps only what keeps the connections busy, and recovers when it drains', () => {
  const s = setup();
  interval(s, 100, 1);
  s.pool.waitingCount = 50;
  interval(s, 100, 40); // every admitted request of a whole interval waited 40 ms > 5 ms: standing
  interval(s, 100, 40);
  assert.equal(s.a.snapshot().standing, true);
  // Target 5 ms at 1/ms = 5 waiting, but never fewer than the pool size.
  assert.equal(s.a.allowedWaiting(), 10);
  s.pool.waitingCount = 10;
  assert.equal(s.a.tryAdmit(), undefined);
  assert.equal(s.a.wouldRefuse(), true);
  s.pool.waitingCount = 3;
  assert.notEqual(s.a.tryAdmit(), undefined);
  // The queue drains: one interval with a short wait ends the standing state.
  interval(s, 100, 1);
  interval(s, 100, 1);
  assert.equal(s.a.snapshot().standing, false);
  s.pool.waitingCount = 50;
  assert.notEqual(s.a.tryAdmit(), undefined);
});

test('the hard cap holds whatever the rate', () => {
  const s = setup();
  for (let i = 0; i < 3; i += 1) interval(s, 100_000, 0); // an absurd rate
  s.pool.waitingCount = 1000;
  assert.equal(s.a.tryAdmit(), undefined);
});
