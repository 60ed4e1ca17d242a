// Test infrastructure: a real PostgreSQL database (created and dropped per test
// file) and a real moto server with the contract's tables. Nothing of ours is mocked.
// PostgreSQL is the configured server (PGHOST/PGPORT or DB_WRITER_HOST/DB_PORT,
// default 127.0.0.1:5432) or, when nothing answers there, an embedded one
// (scripts/local-postgres.mjs; test/global-setup.mjs starts one for a whole `npm test`).
import { randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import pg from 'pg';
import { createTables, dropDatabase, ensureDatabase, startMoto } from '../scripts/local-infra.mjs';
import { clientOptions, configuredPostgres, dbEnv, ensurePostgres } from '../scripts/local-postgres.mjs';
import { runMigrations } from '../src/migrate.mjs';
import { seedAsOwner } from '../src/seed-data.mjs';
import { startServer } from '../src/server.mjs';
import { authEnv } from './identity.mjs';

const say = (line) => process.stderr.write(`# ${line}\n`);

// Undo steps in reverse order; every step runs even when an earlier one fails.
async function unwind(steps) {
  const errors = [];
  for (const step of steps.splice(0).reverse()) {
    try { await step(); } catch (err) { errors.push(err); }
  }
  if (errors.length) throw errors[0];
}

/**
 * PostgreSQL server + database, moto + tables, migrations. A step that fails
 * undoes the ones before it (no moto left running, no database left behind) and
 * rejects with one line naming the step, so `before` fails at once and the
 * process can exit.
 */
export async function setupInfra({ migrateSchema = true, dynamo = true, serializedMoto = false } = {}) {
  const id = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const dbName = `catalog_test_${id}`;
  const tables = { sessions: `catalog-sessions-t${id}`, cache: `catalog-cache-t${id}` };
  const undo = [];
  let step = 'PostgreSQL';
  try {
    const server = await ensurePostgres({ say });
    undo.push(() => server.stop());
    const admin = clientOptions(server);
    // Roles are cluster-wide and outlive databases: each test file has its own owner and app role
    // (src/db-roles.mjs), dropped after its database (their only objects) is gone, i.e. pushed before it.
    const roles = { owner: `catalog_owner_t${id}`, app: `catalog_app_t${id}` };
    undo.push(() => dropRoles([roles.app, roles.owner], admin));
    step = `CREATE DATABASE ${dbName} on ${server.host}:${server.port}`;
    await ensureDatabase(dbName, admin);
    undo.push(() => dropDatabase(dbName, admin));
    step = 'moto server';
    // serializedMoto: conditional writes atomic as in DynamoDB (tests of concurrent conditional writes need it).
    const moto = dynamo ? await startMoto({ serialized: serializedMoto }) : { endpoint: 'http://127.0.0.1:9', stop: async () => {} };
    undo.push(() => moto.stop());
    step = 'DynamoDB tables on moto';
    if (dynamo) await createTables({ endpoint: moto.endpoint, names: tables });
    const env = {
      ...dbEnv(server),
      DB_NAME: dbName,
      // The migrate task logs in as the server's admin user; the API as the app role (dbEnv's DB_USER replaced).
      DB_MASTER_USER: server.user,
      ...(server.password ? { DB_MASTER_PASSWORD: server.password } : {}),
      DB_OWNER_USER: roles.owner,
      DB_OWNER_PASSWORD: `owner-${id}`,
      DB_USER: roles.app,
      DB_PASSWORD: `app-${id}`,
      ...authEnv(),
      DB_POOL_MAX: '20',
      SESSIONS_TABLE: tables.sessions,
      CACHE_TABLE: tables.cache,
      DYNAMODB_ENDPOINT: moto.endpoint,
      // moto answers in tens of milliseconds under the tests' bursts; the production bound would turn that into
      // cache misses the tests do not expect (test/slow-cache.test.mjs tests the bound itself).
      DYNAMODB_TIMEOUT_MS: '5000',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      POWERTOOLS_SERVICE_NAME: 'catalog-api-test',
      LOG_LEVEL: 'INFO',
    };
    step = 'migrations (roles, then schema)';
    const summary = migrateSchema ? await runMigrations(env) : undefined;
    return {
      env,
      id,
      dbName,
      roles,
      tables,
      moto,
      postgres: server,
      /** Options for ensureDatabase/dropDatabase on that server (another database of a test's own). */
      admin,
      /** pg.Client options for the test database (the test's own queries). */
      pgOptions: clientOptions(server, dbName),
      migrateSummary: summary,
      cleanup: () => unwind(undo),
    };
  } catch (err) {
    await unwind(undo).catch(() => {});
    throw new Error(`test setup failed at ${step}: ${err.message}`, { cause: err });
  }
}

/**
 * The shared before() of the API test files: infrastructure, stdout capture,
 * local servers (`servers`: name -> env overrides; the first is the main one),
 * optional seed (as the owner role, like every seed), and a pg client on the
 * test database. stop() undoes all of it, also after a setup that failed half-way.
 */
export async function startApi({
  servers = { api: {} }, runtimeOptions = { metricsWrite: () => {} }, seed, infraOptions,
} = {}) {
  const undo = [];
  try {
    const infra = await setupInfra(infraOptions);
    undo.push(() => infra.cleanup());
    const stdout = captureJsonStdout();
    undo.push(() => stdout.restore());
    const started = {};
    for (const [name, overrides] of Object.entries(servers)) {
      started[name] = await startServer({ env: { ...infra.env, ...overrides }, port: 0, runtimeOptions });
      undo.push(() => started[name].close());
    }
    const main = Object.values(started)[0];
    if (seed) await seedAsOwner(infra.env, seed);
    const db = new pg.Client(infra.pgOptions);
    await db.connect();
    undo.push(() => db.end());
    return { baseUrl: main.url, env: infra.env, infra, servers: started, db, stdout, stop: () => unwind(undo) };
  } catch (err) {
    await unwind(undo).catch(() => {});
    throw err;
  }
}

/**
 * Roles outlive databases; a test's own roles go once its database (their only objects) is gone.
 * admin: clientOptions() of the server (setupInfra's infra.admin); default the configured one.
 */
export async function dropRoles(names, admin = clientOptions(configuredPostgres())) {
  const client = new pg.Client({ ...admin, database: 'postgres' });
  await client.connect();
  try {
    for (const name of names) await client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

/**
 * Collect the JSON lines our code writes to stdout/stderr (Powertools log
 * lines: ERROR goes to stderr; EMF metrics). Only strings that look like JSON
 * objects are taken: the test runner's own output goes through untouched.
 */
export function captureJsonStdout() {
  const lines = [];
  const restorers = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write;
    stream.write = function write(chunk, ...rest) {
      if (typeof chunk === 'string' && chunk.startsWith('{')) {
        for (const line of chunk.split('\n').filter(Boolean)) {
          try { lines.push(JSON.parse(line)); } catch { lines.push({ unparsed: line }); }
        }
        const cb = rest.find((r) => typeof r === 'function');
        if (cb) cb();
        return true;
      }
      return original.call(this, chunk, ...rest);
    };
    return () => { stream.write = original; };
  });
  return { lines, restore: () => restorers.forEach((r) => r()) };
}

export async function call(baseUrl, path, { method = 'GET', headers = {}, body, json } = {}) {
  const init = { method, headers: { ...headers } };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['content-type'] = 'application/json';
  } else if (body !== undefined) {
    init.body = body;
  }
  const res = await fetch(`${baseUrl}${path}`, init);
  const text = await res.text();
  let data;
  try { data = text ? JSON.parse(text) : undefined; } catch { data = text; }
  return { status: res.status, headers: res.headers, body: data };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Everything a write could touch: restock audits, reservations, total stock (PostgreSQL) and the sessions and
 * cache items (DynamoDB). A refused request must leave all of it as it was.
 */
export async function writeState({ db, api, tables }) {
  const { rows } = await db.query(`SELECT (SELECT count(*)::int FROM inventory_audit) AS audits,
    (SELECT count(*)::int FROM reservations) AS reservations, (SELECT sum(available)::int FROM inventory) AS stock`);
  const count = async (table) => (await api.runtime.doc.send(new ScanCommand({ TableName: table, Select: 'COUNT', ConsistentRead: true }))).Count;
  return { ...rows[0], sessions: await count(tables.sessions), cacheEntries: await count(tables.cache) };
}
