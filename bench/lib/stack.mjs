// The system under test, on this machine only: a moto server (DynamoDB), the
// contract's tables, database catalog_bench (created, migrated, seeded, and
// dropped at the end), the API's own local server and a bare node:http server.
// Every child process is tracked and killed when the run ends.
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createTables, dropDatabase, ensureDatabase, freePort, startMoto } from '../../containers/catalog-api/scripts/local-infra.mjs';
import { clientOptions, dbEnv, ensurePostgres } from '../../containers/catalog-api/scripts/local-postgres.mjs';
import { loadDbConfig } from '../../containers/catalog-api/src/config.mjs';
import { createDatabase } from '../../containers/catalog-api/src/db.mjs';
import { runMigrations } from '../../containers/catalog-api/src/migrate.mjs';
import { seedAsOwner } from '../../containers/catalog-api/src/seed-data.mjs';

export const API_DIR = fileURLToPath(new URL('../../containers/catalog-api/', import.meta.url));
const BARE_SERVER = fileURLToPath(new URL('../bare-server.mjs', import.meta.url));
const DYNALITE = fileURLToPath(new URL('../node_modules/dynalite/cli.js', import.meta.url));
// BENCH_DB_NAME: two checkouts benchmarking against one PostgreSQL must not drop each other's database.
export const DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/.test(process.env.BENCH_DB_NAME ?? '') ? process.env.BENCH_DB_NAME : 'catalog_bench';

const children = new Set();
export function killAll() {
  for (const child of children) if (child.exitCode === null && !child.signalCode) child.kill('SIGKILL');
}
process.once('exit', killAll);

// The API refuses to start without its identity settings: a throw-away key for runs that send no writes
// (cold starts, reads). run.mjs overrides these with the key it signs the writes' tokens with (lib/auth.mjs).
const AUTH = {
  AUTH_ISSUER: 'https://bench.catalog.local/',
  AUTH_AUDIENCE: 'catalog-api',
  AUTH_PUBLIC_KEY_PEM: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }),
};

export function baseEnv(motoEndpoint) {
  return {
    DB_WRITER_HOST: '127.0.0.1',
    DB_READER_HOST: '127.0.0.1',
    DB_PORT: '5432',
    DB_NAME,
    // The migrate task runs as the master (postgres) and bootstraps the owner and app roles; the API is the app role.
    DB_MASTER_USER: 'postgres',
    DB_OWNER_USER: 'catalog_owner_bench',
    DB_OWNER_PASSWORD: 'catalog-bench-owner',
    DB_USER: 'catalog_app_bench',
    DB_PASSWORD: 'catalog-bench-app',
    ...AUTH,
    SESSIONS_TABLE: 'catalog-sessions-bench',
    CACHE_TABLE: 'catalog-cache-bench',
    DYNAMODB_ENDPOINT: motoEndpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    POWERTOOLS_SERVICE_NAME: 'catalog-api-bench',
    LOG_LEVEL: 'INFO',
  };
}

/** moto + tables + a fresh catalog_bench with `products` seeded products. */
export async function startInfra({ products, stock = 100, say }) {
  // The configured PostgreSQL, else an embedded one (fsync on: the benchmark measures writes).
  const postgres = await ensurePostgres({ say, durable: true });
  const admin = clientOptions(postgres);
  // pgbench (lib/pgbench.mjs) reads the address from PGHOST/PGPORT.
  if (postgres.embedded) Object.assign(process.env, { PGHOST: postgres.host, PGPORT: String(postgres.port) });
  const moto = await startMoto();
  const { DB_USER: master, DB_PASSWORD: masterPassword, ...address } = dbEnv(postgres);
  const env = { ...baseEnv(moto.endpoint), ...address, DB_MASTER_USER: master, ...(masterPassword ? { DB_MASTER_PASSWORD: masterPassword } : {}) };
  await createTables({ endpoint: moto.endpoint, names: { sessions: env.SESSIONS_TABLE, cache: env.CACHE_TABLE } });
  await dropDatabase(DB_NAME, admin); // a leftover of an interrupted run
  await ensureDatabase(DB_NAME, admin);
  await runMigrations(env);
  // The seed as the owner role, like every seed; the bench's own queries (ANALYZE, stock resets and proofs) stay
  // the master's, as before.
  await seedAsOwner(env, { count: products, stock });
  const db = createDatabase({ ...loadDbConfig(env), user: master, password: masterPassword });
  await db.writer.query('ANALYZE');
  say?.(`infra: moto ${moto.endpoint}, database ${DB_NAME} with ${products} products`);
  return {
    env,
    db,
    async stop() {
      await db.close();
      await moto.stop();
      await dropDatabase(DB_NAME, admin);
      await postgres.stop();
    },
  };
}

async function waitFor(url, child, stderr, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}:\n${stderr()}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs} ms:\n${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function spawnNode(args, { cwd, env, cpuProfDir }) {
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, ...args] : args;
  // stdout (one log line and one EMF line per request, as in Lambda) goes to /dev/null.
  const child = spawn(process.execPath, nodeArgs, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let err = '';
  child.stderr.on('data', (d) => { err = (err + d).slice(-4000); });
  return { child, stderr: () => err };
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(timer); children.delete(child); resolve(); });
    child.kill('SIGTERM'); // the API closes its pools; --cpu-prof writes its profile on a clean exit
  });
}

/** The API's local server (src/server.mjs) with env overrides, on a free loopback port. */
export async function startApi(env, overrides = {}, { cpuProfDir } = {}) {
  const port = await freePort();
  const { child, stderr } = spawnNode(['src/server.mjs'], {
    cwd: API_DIR,
    env: { PATH: process.env.PATH, ...env, ...overrides, PORT: String(port), HOST: '127.0.0.1' },
    cpuProfDir,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/health`, child, stderr);
  return { url, pid: child.pid, stop: () => stopChild(child) };
}

/**
 * dynalite (a DynamoDB emulator in Node, in memory) on a free loopback port: the waiting room's crowd case only.
 * moto answers a GSI Query by scanning the whole table (16 queue partitions = 16 scans per controller step:
 * 2.6 s at 20,000 tickets) and serves ~400 puts/s; dynalite keeps its indexes sorted (20,000 tickets read in
 * ~0.1 s) and serves ~1,000-1,300 puts/s on the same machine. Tables are ACTIVE at once (no CREATING delay).
 */
export async function startDynalite({ timeoutMs = 20_000, cpuProfDir } = {}) {
  const port = await freePort();
  const { child, stderr } = spawnNode([DYNALITE, '--host', '127.0.0.1', '--port', String(port), '--createTableMs', '0', '--deleteTableMs', '0', '--updateTableMs', '0'], {
    env: { PATH: process.env.PATH }, cpuProfDir,
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dynalite exited ${child.exitCode}:\n${stderr()}`);
    try {
      // Any HTTP answer (400 for a request without a target) means it listens.
      await (await fetch(endpoint, { method: 'POST' })).arrayBuffer();
      break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`dynalite not listening within ${timeoutMs} ms:\n${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint, pid: child.pid, stop: () => stopChild(child) };
}

/** The baseline: node:http answering `body` from memory for every GET. */
export async function startBare(body) {
  const port = await freePort();
  const { child, stderr } = spawnNode([BARE_SERVER], {
    env: { PATH: process.env.PATH, PORT: String(port), BODY: body },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/health`, child, stderr);
  return { url, pid: child.pid, stop: () => stopChild(child) };
}
