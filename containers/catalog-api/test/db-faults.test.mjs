// The API survives its database dying (scripts/db-faults.mjs runs it: a private PostgreSQL of its own, killed with
// SIGKILL and frozen with SIGSTOP under concurrent reservations, the API as its own process). Asserted: the process
// is up after every fault and never saw an unhandled error; while the database was killed, requests got a fast 503
// with Retry-After and a JSON body (a frozen one answers through the bounds, also bounded); a reservation succeeds
// within a second of the database answering again; and no unit is lost or granted twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runDbFaults } from '../scripts/db-faults.mjs';
import { authEnv, userHeaders } from './identity.mjs';

const CRASHES = 10; // a failure in one of four kills survives ten of them with probability (3/4)^10 < 6 %
const FREEZES = 2;

test(`${CRASHES} kill -9 and ${FREEZES} SIGSTOP of PostgreSQL under concurrent reservations: the API stays up, answers 503 fast, recovers within 1 s, conserves units`, { timeout: 60_000 }, async (t) => {
  const headers = await userHeaders('shopper-faults');
  const r = await runDbFaults({ crashes: CRASHES, freezes: FREEZES, clients: 12, authEnv: authEnv(), shopperHeaders: () => headers });
  for (const f of r.faults) {
    t.diagnostic(`${f.kind}: process up ${f.alive}, database gone ${f.downMs} ms, errors for ${f.errorWindowMs} ms (${f.errors503} x 503, slowest ${f.slowest503Ms} ms), first 201 ${f.recoveryMs} ms after the database answered`);
  }
  const p = r.proof;
  t.diagnostic(`${r.answers} answers, ${p.reservations} reservations, ${r.failures.count} x 503, units ${p.available} + ${p.held} = ${p.stocked}`);

  assert.equal(r.faults.length, CRASHES + FREEZES, `the API process ended at fault ${r.faults.length}: ${r.exitReason}`);
  assert.ok(r.processAlive, r.exitReason);
  assert.equal(r.unhandledError, false);
  assert.ok(r.databaseReady, '/health/ready: writer and reader ok');
  for (const f of r.faults) {
    assert.ok(f.recoveryMs !== null && f.recoveryMs <= 1000, `${f.kind}: first 201 ${f.recoveryMs} ms after the database came back`);
    // Killed: refused or lost connections answer at once. Frozen: the bounds answer (connect timeout, the
    // statement timeout plus a margin), which are bounded too.
    assert.ok(f.slowest503Ms < (f.kind === 'SIGSTOP' ? 2500 : 1000), `${f.kind}: a 503 took ${f.slowest503Ms} ms`);
  }
  assert.ok(r.failures.count > 0, 'the faults were felt');
  assert.deepEqual([r.failures.not503, r.failures.withoutRetryAfterOrJson], [0, 0], 'every failure a 503 with Retry-After and JSON');
  assert.ok(p.keysMatch, `reservations (${p.reservations}) = keys granted to clients (${p.keysGranted})`);
  assert.equal(p.grantedTwice, 0);
  assert.ok(p.conserved, JSON.stringify(p));
  assert.equal(p.negativeShards, 0);
});
