// The API survives its database dying. A private PostgreSQL of this file (scripts/killable-postgres.mjs: its own
// data directory and port, never the shared server) is killed with SIGKILL (the postmaster alone, whose backends
// then end their sessions with FATAL 57P01, or every server process at once) and frozen with SIGSTOP while
// shoppers reserve concurrently, each retrying its key until it gets a definitive answer. The API runs as its own
// process (src/server.mjs), as in production: an unhandled 'error' event of a pg client would end it.
// Asserted: the process is up after every fault; while the database is gone requests get a fast 503 with
// Retry-After and a JSON body; a reservation succeeds within a second of the database answering again; and no
// unit is lost or granted twice (every key the clients were granted is exactly one reservation row).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { freePort } from '../scripts/local-postgres.mjs';
import { startKillablePostgres } from '../scripts/killable-postgres.mjs';
import { seedProducts } from '../src/seed-data.mjs';
import { setupInfra, sleep } from './helpers.mjs';
import { userHeaders } from './identity.mjs';

const CRASHES = 10; // a failure in one of four runs of a kill survives ten kills with probability (3/4)^10 < 6 %
const FREEZES = 2;
const CLIENTS = 12;
const STOCK = 100_000;
const SKU = 'SKU-000001';

let server; // the killable PostgreSQL
let infra;
let api; // { child, url, output }
let db;
let shopper;

before(async () => {
  server = await startKillablePostgres();
  // setupInfra() uses the configured server: this file's own (the variables only live in this test process).
  for (const name of ['DB_WRITER_HOST', 'DB_READER_HOST', 'DB_PORT', 'DB_USER', 'DB_PASSWORD', 'PGPASSWORD']) delete process.env[name];
  Object.assign(process.env, { PGHOST: server.host, PGPORT: String(server.port), PGUSER: server.user });
  infra = await setupInfra();
  const seeder = new pg.Pool(infra.pgOptions);
  await seedProducts(seeder, { count: 1, stock: STOCK, shards: 16 });
  await seeder.end();
  shopper = await userHeaders('shopper-faults');
  const port = await freePort();
  const child = spawn(process.execPath, ['src/server.mjs'], {
    cwd: new URL('..', import.meta.url),
    env: {
      ...process.env, ...infra.env, PORT: String(port), LOG_LEVEL: 'WARN',
      // Production-like bounds: a dead database must cost a request little.
      DB_POOL_MAX: '8', DB_CONNECT_TIMEOUT_MS: '300', DB_LOCK_TIMEOUT_MS: '500', DB_STATEMENT_TIMEOUT_MS: '1000',
      DB_QUEUE_WAIT_BUDGET_MS: '2000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (d) => output.push(String(d)));
  api = { child, url: `http://127.0.0.1:${port}`, output };
  for (let i = 0; ; i += 1) {
    try {
      if ((await fetch(`${api.url}/health`)).ok) break;
    } catch { /* not listening yet */ }
    if (i > 200 || child.exitCode !== null) throw new Error(`the API did not start: ${output.join('').slice(-500)}`);
    await sleep(25);
  }
  db = new pg.Client(infra.pgOptions);
  db.on('error', () => {}); // this checker's own connection dies with every kill; it reconnects below
});

after(async () => {
  api?.child.kill('SIGKILL');
  await db?.end().catch(() => {});
  await infra?.cleanup().catch(() => {});
  await server?.stop();
});

/** Shoppers: each sends its key until a definitive answer (201, 200 replayed, 409), retrying 503s and refused connections. */
function startShoppers() {
  const answers = []; // { at, ms, status, retryAfter, json }
  const granted = new Map(); // key -> [statuses]
  let running = true;
  const shopperLoop = async (c) => {
    for (let n = 0; running; n += 1) {
      const key = `fault-${c}-${String(n).padStart(5, '0')}`;
      for (;;) {
        const started = Date.now();
        let status = 0;
        let retryAfter = null;
        let json = false;
        try {
          const res = await fetch(`${api.url}/api/products/${SKU}/reservations`, {
            method: 'POST', headers: { ...shopper, 'content-type': 'application/json' }, body: JSON.stringify({ quantity: 1, idempotencyKey: key }),
          });
          status = res.status;
          retryAfter = res.headers.get('retry-after');
          json = (res.headers.get('content-type') ?? '').startsWith('application/json') && typeof (await res.json()).error === 'string';
        } catch { /* connection refused: the process is gone (asserted below) */ }
        answers.push({ at: Date.now(), ms: Date.now() - started, status, retryAfter, json });
        if ([200, 201, 409].includes(status)) {
          granted.set(key, [...(granted.get(key) ?? []), status]);
          break;
        }
        if (api.child.exitCode !== null || api.child.signalCode !== null) return; // nobody left to answer
        await sleep(20);
      }
    }
  };
  const loops = Array.from({ length: CLIENTS }, (_, c) => shopperLoop(c));
  return { answers, granted, stop: async () => { running = false; await Promise.all(loops); } };
}

/** ms from `since` to the first 201 answered after it (requests sent after the database came back). */
async function recovery(answers, since, limitMs = 3000) {
  for (const deadline = Date.now() + limitMs; Date.now() < deadline; await sleep(5)) {
    const first = answers.find((a) => a.at >= since && a.status === 201 && a.at - a.ms >= since);
    if (first) return first.at - since;
  }
  return Infinity;
}

test(`${CRASHES} kill -9 and ${FREEZES} SIGSTOP of PostgreSQL under concurrent reservations: the API stays up, answers 503 fast, recovers within 1 s, conserves units`, async (t) => {
  const load = startShoppers();
  const faults = [];
  try {
    for (let i = 0; i < CRASHES + FREEZES; i += 1) {
      await sleep(250); // reservations flowing: connections checked out, idle, connecting
      const freeze = i >= CRASHES;
      const whole = i % 2 === 1;
      const down = Date.now();
      if (freeze) {
        server.freeze();
        await sleep(800);
        server.thaw();
      } else {
        await server.crash({ whole });
        await sleep(200);
      }
      const back = freeze ? Date.now() : await server.restart();
      const ms = await recovery(load.answers, back);
      const during = load.answers.filter((a) => a.at > down && a.at - a.ms < back && a.status === 503);
      faults.push({ kind: freeze ? 'SIGSTOP' : whole ? 'kill -9 all' : 'kill -9 postmaster', recoveryMs: ms, errors503: during.length,
        slowest503Ms: Math.max(0, ...during.map((a) => a.ms)), alive: api.child.exitCode === null && api.child.signalCode === null });
      const why = () => api.output.join('').split('\n').filter((l) => /Unhandled|Error:|Emitted/.test(l)).slice(0, 3).join(' | ');
      assert.ok(faults.at(-1).alive, `the API process ended after fault ${i + 1} (${faults.at(-1).kind}): ${why()}`);
    }
  } finally {
    await load.stop();
  }
  for (const f of faults) t.diagnostic(`${f.kind}: process up ${f.alive}, ${f.errors503} x 503 while down (slowest ${f.slowest503Ms} ms), first 201 ${f.recoveryMs} ms after the database answered`);

  // The process never saw an unhandled error.
  const text = api.output.join('');
  assert.doesNotMatch(text, /Unhandled 'error' event|uncaught|ERR_UNHANDLED/i);
  assert.equal(api.child.exitCode, null);
  assert.equal((await fetch(`${api.url}/health/ready`)).status, 200);

  for (const f of faults) assert.ok(f.recoveryMs <= 1000, `${f.kind}: recovered ${f.recoveryMs} ms after the database came back`);
  // While the database was killed (refused connections, lost sessions), answers came fast. A frozen server only
  // answers through the bounds (connect timeout, the statement timeout plus a margin): those are bounded, too.
  for (const f of faults.filter((x) => x.kind !== 'SIGSTOP')) assert.ok(f.slowest503Ms < 1000, `${f.kind}: a 503 took ${f.slowest503Ms} ms`);
  for (const f of faults) assert.ok(f.slowest503Ms < 2500, `${f.kind}: a 503 took ${f.slowest503Ms} ms`);
  const failures = load.answers.filter((a) => a.status !== 201 && a.status !== 200);
  assert.ok(failures.length > 0, 'the faults were felt');
  for (const a of failures) {
    assert.equal(a.status, 503, `a request during a fault got ${a.status}`);
    assert.ok(a.retryAfter && a.json, '503 with Retry-After and a JSON error body');
  }

  // Conservation: every key granted (201, or 200 when the first answer was lost) is exactly one reservation, no
  // key was granted twice, and the units add up.
  await db.connect();
  const { rows } = await db.query('SELECT idempotency_key, quantity FROM reservations WHERE sku = $1', [SKU]);
  const keysInDb = new Set(rows.map((r) => r.idempotency_key));
  const grantedKeys = [...load.granted].filter(([, s]) => s.includes(201) || s.includes(200)).map(([k]) => k);
  for (const [key, statuses] of load.granted) assert.ok(statuses.filter((s) => s === 201).length <= 1, `${key}: ${statuses}`);
  assert.deepEqual([...keysInDb].sort(), grantedKeys.sort(), 'reservations = keys granted to clients');
  const s = (await db.query('SELECT * FROM stock_summary($1)', [SKU])).rows[0];
  assert.equal(Number(s.available) + Number(s.held), STOCK);
  assert.equal(Number(s.held), rows.length);
  assert.equal(s.negative_shards, 0);
  t.diagnostic(`${load.answers.length} answers, ${rows.length} reservations, ${failures.length} x 503, units ${s.available} + ${s.held} = ${STOCK}`);
});
