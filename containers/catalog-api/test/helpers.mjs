// Test infrastructure: a real PostgreSQL database (created and dropped per test
// file) and a real moto server with the contract's tables. Nothing of ours is mocked.
import { randomBytes } from 'node:crypto';
import { createTables, dropDatabase, ensureDatabase, startMoto } from '../scripts/local-infra.mjs';
import pg from 'pg';
import { runMigrations } from '../src/migrate.mjs';
import { authEnv } from './identity.mjs';

export async function setupInfra({ migrateSchema = true, dynamo = true } = {}) {
  const id = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const dbName = `catalog_test_${id}`;
  const moto = dynamo ? await startMoto() : { endpoint: 'http://127.0.0.1:9', stop: async () => {} };
  await ensureDatabase(dbName);
  const tables = { sessions: `catalog-sessions-t${id}`, cache: `catalog-cache-t${id}` };
  if (dynamo) await createTables({ endpoint: moto.endpoint, names: tables });
  const env = {
    DB_WRITER_HOST: '127.0.0.1',
    DB_READER_HOST: '127.0.0.1',
    DB_PORT: '5432',
    DB_NAME: dbName,
    // Roles are cluster-wide: each test file has its own owner and app role (src/db-roles.mjs).
    DB_MASTER_USER: 'postgres',
    DB_OWNER_USER: `catalog_owner_t${id}`,
    DB_OWNER_PASSWORD: `owner-${id}`,
    DB_USER: `catalog_app_t${id}`,
    DB_PASSWORD: `app-${id}`,
    ...authEnv(),
    DB_POOL_MAX: '20',
    SESSIONS_TABLE: tables.sessions,
    CACHE_TABLE: tables.cache,
    DYNAMODB_ENDPOINT: moto.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    POWERTOOLS_SERVICE_NAME: 'catalog-api-test',
    LOG_LEVEL: 'INFO',
  };
  const summary = migrateSchema ? await runMigrations(env) : undefined;
  return {
    env,
    dbName,
    tables,
    moto,
    migrateSummary: summary,
    async cleanup() {
      await moto.stop();
      await dropDatabase(dbName);
      await dropRoles([env.DB_USER, env.DB_OWNER_USER]);
    },
  };
}

/** Roles outlive databases; a test's own roles go once its database (their only objects) is gone. */
export async function dropRoles(names) {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
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
