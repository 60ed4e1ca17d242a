#!/usr/bin/env node
// The API as the contract fuzzer's target (tests/app/test_api_contract_fuzz.py): like `npm run dev` (PostgreSQL,
// the embedded one when nothing answers; a moto server; migrations; seed), but on a throw-away database and
// tables of its own, a free port and a throw-away signing key. It prints one line `@fuzz {"url","shopper","admin"}`
// (tokens of a shopper and of an admin), then answers each `snapshot` line on stdin with
// `@fuzz {"snapshot":{table: md5 of its rows}}` (every table of the database but the migration ledger), so a test
// can prove a run wrote nothing. EOF on stdin (or SIGTERM) drops the database and stops everything it started.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { SignJWT } from 'jose';
import { createTables, dropDatabase, ensureDatabase, freePort, startMoto } from './local-infra.mjs';
import { clientOptions, dbEnv, ensurePostgres } from './local-postgres.mjs';
import { runMigrations } from '../src/migrate.mjs';
import { seedAsOwner } from '../src/seed-data.mjs';
import { startServer } from '../src/server.mjs';

const say = (msg) => process.stderr.write(`[fuzz-target] ${msg}\n`);
const tell = (value) => process.stdout.write(`@fuzz ${JSON.stringify(value)}\n`);
const suffix = randomBytes(4).toString('hex');
const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
const env = {
  DB_WRITER_HOST: '127.0.0.1', DB_PORT: '5432', DB_MASTER_USER: 'postgres', DB_OWNER_USER: 'catalog_owner', DB_USER: 'catalog_app',
  AWS_REGION: 'us-east-1', POWERTOOLS_SERVICE_NAME: 'catalog-api-fuzz',
  ...process.env,
  DB_NAME: `catalog_fuzz_${suffix}`,
  SESSIONS_TABLE: `catalog-sessions-fuzz-${suffix}`,
  CACHE_TABLE: `catalog-cache-fuzz-${suffix}`,
  AUTH_ISSUER: 'http://localhost/catalog-fuzz',
  AUTH_AUDIENCE: 'catalog-api',
  AUTH_PUBLIC_KEY_PEM: key.publicKey.export({ type: 'spki', format: 'pem' }),
};
const token = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setIssuer(env.AUTH_ISSUER)
  .setAudience(env.AUTH_AUDIENCE).setIssuedAt().setExpirationTime('1h').sign(key.privateKey);

let postgres;
let moto;
let server;
let admin; // pg client as the master user, for snapshots
let stopping = false;

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  await server?.close().catch(() => {});
  await admin?.end().catch(() => {});
  if (postgres) {
    await dropDatabase(env.DB_NAME, { host: env.DB_WRITER_HOST, port: Number(env.DB_PORT), user: env.DB_MASTER_USER, password: env.DB_MASTER_PASSWORD })
      .catch((err) => say(`drop ${env.DB_NAME}: ${err.message}`));
  }
  await moto?.stop().catch(() => {});
  await postgres?.stop().catch(() => {});
  process.exit(code);
}
process.once('SIGTERM', () => stop(0));
process.once('SIGINT', () => stop(0));

/** md5 of every table's rows (sorted), by table name. */
async function snapshot() {
  const { rows: tables } = await admin.query(`SELECT quote_ident(table_name) AS t FROM information_schema.tables
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY 1`);
  const out = {};
  for (const { t } of tables) {
    const { rows } = await admin.query(`SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM ${t} x`);
    out[t] = `${rows[0].n}:${rows[0].h}`;
  }
  return out;
}

try {
  postgres = await ensurePostgres({ env, say });
  if (postgres.embedded) {
    const { DB_USER: master, DB_PASSWORD: masterPassword, ...address } = dbEnv(postgres);
    Object.assign(env, address, { DB_MASTER_USER: master }, masterPassword ? { DB_MASTER_PASSWORD: masterPassword } : {});
  }
  moto = await startMoto();
  env.DYNAMODB_ENDPOINT = moto.endpoint;
  await createTables({ endpoint: env.DYNAMODB_ENDPOINT, region: env.AWS_REGION, names: { sessions: env.SESSIONS_TABLE, cache: env.CACHE_TABLE } });
  const master = { host: env.DB_WRITER_HOST, port: Number(env.DB_PORT), user: env.DB_MASTER_USER, password: env.DB_MASTER_PASSWORD };
  await ensureDatabase(env.DB_NAME, master);
  await runMigrations(env);
  await seedAsOwner(env, { count: Number(env.FUZZ_SEED_COUNT ?? 20), stock: 1000, shards: 4 });
  admin = new pg.Client({ ...clientOptions({ ...master }), database: env.DB_NAME });
  await admin.connect();
  server = await startServer({ env, port: await freePort() });
  tell({ url: server.url, shopper: await token({ sub: 'fuzz-shopper' }), admin: await token({ sub: 'fuzz-admin', role: 'admin' }) });
  // One request at a time, in order; the end of stdin (the test is done or gone) stops everything.
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === 'snapshot') tell({ snapshot: await snapshot() });
  }
  await stop(0);
} catch (err) {
  say(`failed: ${err.stack ?? err.message}`);
  await stop(1);
}
