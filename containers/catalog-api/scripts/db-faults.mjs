// The database dies under load: a private PostgreSQL (scripts/killable-postgres.mjs: its own data directory and
// port, never a shared server) is killed with SIGKILL (the postmaster alone, whose backends then end their sessions
// with FATAL 57P01, or every server process at once) and frozen with SIGSTOP while shoppers reserve concurrently,
// each retrying its key until it gets a definitive answer. The API runs as its own process (src/server.mjs), as in
// production: an unhandled 'error' event of a pg client would end it. Measures, per fault, whether the process is
// still up, the 503s while the database was gone (how many, the slowest) and the time from the database answering
// again to the first granted reservation; then the proof: every key the clients were granted is exactly one
// reservation row, none granted twice, and the units add up.
// Used by test/db-faults.test.mjs (which asserts) and by `invoke bench --cases faults` (which reports).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runMigrations } from '../src/migrate.mjs';
import { seedAsOwner } from '../src/seed-data.mjs';
import { startKillablePostgres } from './killable-postgres.mjs';
import { ensureDatabase } from './local-infra.mjs';
import { freePort } from './local-postgres.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const API_DIR = fileURLToPath(new URL('..', import.meta.url));
const SKU = 'SKU-000001';
// Production-like bounds: a dead database must cost a request little.
const API_BOUNDS = { DB_POOL_MAX: '8', DB_CONNECT_TIMEOUT_MS: '300', DB_LOCK_TIMEOUT_MS: '500', DB_STATEMENT_TIMEOUT_MS: '1000', DB_QUEUE_WAIT_BUDGET_MS: '2000' };

/**
 * authEnv: the API's AUTH_* settings; shopperHeaders(): headers of a shopper's request (a bearer token).
 * Returns { faults: [{ kind, alive, errors503, slowest503Ms, recoveryMs }], ... } (see the end).
 */
export async function runDbFaults({ crashes = 10, freezes = 2, clients = 12, stock = 100_000, authEnv, shopperHeaders, say = () => {} }) {
  const server = await startKillablePostgres();
  let api;
  try {
    const env = {
      DB_WRITER_HOST: server.host, DB_READER_HOST: server.host, DB_PORT: String(server.port), DB_NAME: 'catalog_faults',
      DB_MASTER_USER: server.user, DB_OWNER_USER: 'catalog_owner_faults', DB_OWNER_PASSWORD: 'faults-owner',
      DB_USER: 'catalog_app_faults', DB_PASSWORD: 'faults-app',
      // No DynamoDB: the cache tier's calls are refused at once and the database answers (sessions are not used).
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:9', SESSIONS_TABLE: 'catalog-faults-sessions', CACHE_TABLE: 'catalog-faults-cache',
      AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'faults', AWS_SECRET_ACCESS_KEY: 'faults',
      POWERTOOLS_SERVICE_NAME: 'catalog-api-faults', LOG_LEVEL: 'WARN', ...authEnv,
    };
    const admin = { host: server.host, port: server.port, user: server.user };
    await ensureDatabase(env.DB_NAME, admin);
    await runMigrations(env);
    await seedAsOwner(env, { count: 1, stock, shards: 16 });
    api = await startApi({ ...env, ...API_BOUNDS });
    say(`faults: PostgreSQL on ${server.host}:${server.port} (data ${server.dataDir}), API pid ${api.child.pid} on ${api.url}`);

    const load = startShoppers(api, clients, shopperHeaders);
    const faults = [];
    try {
      for (let i = 0; i < crashes + freezes; i += 1) {
        await sleep(250); // reservations flowing: connections checked out, idle, connecting
        const freeze = i >= crashes;
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
        const recoveryMs = await recovery(load.answers, back);
        const during = load.answers.filter((a) => a.at > down && a.at - a.ms < back && a.status === 503);
        // Error window: from the fault to the last failed answer before service was back.
        const until = back + (Number.isFinite(recoveryMs) ? recoveryMs : 3000);
        const failed = load.answers.filter((a) => a.at >= down && a.at <= until && a.status !== 200 && a.status !== 201);
        const alive = api.alive();
        faults.push({
          kind: freeze ? 'SIGSTOP' : whole ? 'kill -9 all' : 'kill -9 postmaster', alive, downMs: back - down,
          errorWindowMs: failed.length ? Math.max(...failed.map((a) => a.at)) - down : 0, errors503: during.length,
          slowest503Ms: Math.max(0, ...during.map((a) => a.ms)), recoveryMs: Number.isFinite(recoveryMs) ? recoveryMs : null,
        });
        const f = faults.at(-1);
        say(`faults: ${i + 1}. ${f.kind}: process ${alive ? 'up' : 'GONE'}, database gone ${f.downMs} ms, errors for ${f.errorWindowMs} ms `
          + `(${f.errors503} x 503, slowest ${f.slowest503Ms} ms), first 201 ${recoveryMs} ms after the database answered`);
        if (!alive) break;
      }
    } finally {
      await load.stop();
    }

    const output = api.output.join('');
    // Readiness of the database checks (the DynamoDB ones fail here: there is none).
    const ready = api.alive() ? await fetch(`${api.url}/health/ready`).then((res) => res.json(), () => ({})) : {};
    const databaseReady = ready.checks?.writer === 'ok' && ready.checks?.reader === 'ok';
    const db = new pg.Client({ ...admin, database: env.DB_NAME });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT idempotency_key FROM reservations WHERE sku = $1', [SKU]);
      const s = (await db.query('SELECT * FROM stock_summary($1)', [SKU])).rows[0];
      const inDb = new Set(rows.map((r) => r.idempotency_key));
      const granted = [...load.granted].filter(([, st]) => st.includes(201) || st.includes(200)).map(([k]) => k);
      const failures = load.answers.filter((a) => a.status !== 201 && a.status !== 200);
      return {
        kills: crashes,
        freezes,
        clients,
        faults,
        processAlive: api.alive(),
        unhandledError: /Unhandled 'error' event|uncaught/i.test(output),
        // The process's last words (not its JSON log lines): the uncaught error and where it was emitted.
        exitReason: api.alive() ? null : output.split('\n').filter((l) => !l.startsWith('{') && /Unhandled|Error|Emitted/.test(l)).slice(0, 3).join(' | '),
        databaseReady,
        answers: load.answers.length,
        failures: {
          count: failures.length,
          not503: failures.filter((a) => a.status !== 503).length,
          withoutRetryAfterOrJson: failures.filter((a) => a.status === 503 && !(a.retryAfter && a.json)).length,
        },
        errorWindowMs: Math.max(0, ...faults.map((f) => f.errorWindowMs)),
        slowest503Ms: Math.max(0, ...faults.map((f) => f.slowest503Ms)),
        maxRecoveryMs: faults.some((f) => f.recoveryMs === null) ? null : Math.max(...faults.map((f) => f.recoveryMs)),
        proof: {
          reservations: rows.length,
          keysGranted: granted.length,
          keysMatch: granted.length === inDb.size && granted.every((k) => inDb.has(k)),
          grantedTwice: [...load.granted.values()].filter((st) => st.filter((x) => x === 201).length > 1).length,
          stocked: stock,
          available: Number(s.available),
          held: Number(s.held),
          negativeShards: s.negative_shards,
          conserved: Number(s.available) + Number(s.held) === stock && Number(s.held) === rows.length,
        },
      };
    } finally {
      await db.end();
    }
  } finally {
    api?.child.kill('SIGKILL');
    await server.stop();
  }
}

async function startApi(env) {
  const port = await freePort();
  const child = spawn(process.execPath, ['src/server.mjs'], {
    cwd: API_DIR, env: { PATH: process.env.PATH, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (d) => output.push(String(d)));
  const api = { child, url: `http://127.0.0.1:${port}`, output, alive: () => child.exitCode === null && child.signalCode === null };
  for (let i = 0; ; i += 1) {
    try {
      if ((await fetch(`${api.url}/health`)).ok) return api;
    } catch { /* not listening yet */ }
    if (i > 400 || !api.alive()) {
      child.kill('SIGKILL');
      throw new Error(`the API did not start: ${output.join('').slice(-500)}`);
    }
    await sleep(25);
  }
}

/** Shoppers: each sends its key until a definitive answer (201, 200 replayed, 409), retrying 503s and refused connections. */
function startShoppers(api, clients, shopperHeaders) {
  const answers = []; // { at, ms, status, retryAfter, json }
  const granted = new Map(); // key -> [definitive statuses]
  let running = true;
  const shopper = async (c) => {
    for (let n = 0; running; n += 1) {
      const key = `fault-${c}-${String(n).padStart(5, '0')}`;
      for (;;) {
        const started = Date.now();
        let status = 0;
        let retryAfter = null;
        let json = false;
        try {
          const res = await fetch(`${api.url}/api/products/${SKU}/reservations`, {
            method: 'POST', headers: { ...shopperHeaders(), 'content-type': 'application/json' }, body: JSON.stringify({ quantity: 1, idempotencyKey: key }),
          });
          status = res.status;
          retryAfter = res.headers.get('retry-after');
          json = (res.headers.get('content-type') ?? '').startsWith('application/json') && typeof (await res.json()).error === 'string';
        } catch { /* connection refused: the process is gone (reported) */ }
        answers.push({ at: Date.now(), ms: Date.now() - started, status, retryAfter, json });
        if ([200, 201, 409].includes(status)) {
          granted.set(key, [...(granted.get(key) ?? []), status]);
          break;
        }
        if (!api.alive()) return; // nobody left to answer
        await sleep(20);
      }
    }
  };
  const loops = Array.from({ length: clients }, (_, c) => shopper(c));
  return { answers, granted, stop: async () => { running = false; await Promise.all(loops); } };
}

/** ms from `since` to the first 201 of a request sent after it; Infinity if none within limitMs. */
async function recovery(answers, since, limitMs = 3000) {
  for (const deadline = Date.now() + limitMs; Date.now() < deadline; await sleep(5)) {
    const first = answers.find((a) => a.status === 201 && a.at - a.ms >= since);
    if (first) return first.at - since;
  }
  return Infinity;
}
