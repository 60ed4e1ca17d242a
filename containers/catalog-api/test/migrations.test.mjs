// Migrations against a real PostgreSQL database: idempotent, serialized by the
// advisory lock, refusing edited files; plus the migrate and seed CLIs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { listMigrations, runMigrations } from '../src/migrate.mjs';
import { dropDatabase, ensureDatabase } from '../scripts/local-infra.mjs';
import { setupInfra } from './helpers.mjs';

const PKG = fileURLToPath(new URL('..', import.meta.url));
let infra;
let db;

before(async () => {
  infra = await setupInfra({ migrateSchema: false, dynamo: false });
  db = new pg.Client(infra.pgOptions);
  await db.connect();
});

after(async () => {
  await db?.end();
  await infra?.cleanup();
});

test('migrations run twice in a row: the second run applies nothing', async () => {
  const all = (await listMigrations()).map((m) => m.name);
  assert.ok(all.length >= 2);
  const first = await runMigrations(infra.env);
  assert.deepEqual(first.applied, all);
  assert.deepEqual(first.alreadyApplied, []);
  const second = await runMigrations(infra.env);
  assert.deepEqual(second.applied, []);
  assert.deepEqual(second.alreadyApplied, all);
  const { rows } = await db.query('SELECT version FROM schema_migrations ORDER BY version');
  assert.deepEqual(rows.map((r) => r.version), all.map((n) => n.slice(0, 3)));
  const tables = await db.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
  assert.deepEqual(tables.rows.map((r) => r.table_name), ['inventory', 'inventory_audit', 'products', 'reservations', 'schema_migrations']);
  // 011: the stock functions never keep a sequential-scan plan made while their tables were nearly empty.
  // 013: their search_path is pinned (the API's entry points run with the owner's rights).
  const fns = await db.query(`SELECT proname, proconfig FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    AND proname IN ('reserve_stock', 'release_expired_reservations', 'return_stock', 'finish_reservation', 'restock_stock') ORDER BY 1`);
  assert.deepEqual(fns.rows.map((r) => [r.proname, r.proconfig]), [
    'finish_reservation', 'release_expired_reservations', 'reserve_stock', 'restock_stock', 'return_stock',
  ].map((name) => [name, ['enable_seqscan=off', 'search_path=public, pg_temp']]));
  // The SET is the functions' own: after a call the session's setting is unchanged.
  await db.query(`SELECT * FROM stock_summary('SKU-000001')`);
  await db.query(`SELECT release_expired_reservations(NULL, 1)`);
  const session = await db.query(`SELECT current_setting('enable_seqscan') AS value`);
  assert.equal(session.rows[0].value, 'on');
});

test('concurrent migrators are serialized by the advisory lock', async () => {
  const name = `${infra.dbName}_c`;
  await ensureDatabase(name, infra.admin);
  try {
    const env = { ...infra.env, DB_NAME: name };
    const results = await Promise.all([1, 2, 3].map(() => runMigrations(env)));
    const applied = results.flatMap((r) => r.applied).sort();
    assert.deepEqual(applied, (await listMigrations()).map((m) => m.name));
  } finally {
    await dropDatabase(name, infra.admin);
  }
});

test('a migration edited after it was applied is refused', async () => {
  await db.query(`UPDATE schema_migrations SET checksum = 'tampered' WHERE version = '001'`);
  try {
    await assert.rejects(runMigrations(infra.env), /001_catalog_schema\.sql was changed after it was applied/);
  } finally {
    const original = (await listMigrations())[0].checksum;
    await db.query(`UPDATE schema_migrations SET checksum = $1 WHERE version = '001'`, [original]);
  }
});

test('the database refuses negative stock even outside the API', async () => {
  await db.query(`INSERT INTO products (sku, name, category, price_cents) VALUES ('CHK-1', 'x', 'c', 1)`);
  await db.query(`INSERT INTO inventory (sku, available) VALUES ('CHK-1', 0)`);
  await assert.rejects(db.query(`UPDATE inventory SET available = -1 WHERE sku = 'CHK-1'`), /inventory_available_check/);
});

const run = (args, extraEnv = {}) => spawnSync(process.execPath, args, {
  cwd: PKG, env: { PATH: process.env.PATH, ...infra.env, ...extraEnv }, encoding: 'utf8', timeout: 30_000,
});

test('npm run migrate entry point prints a JSON summary', () => {
  const out = run(['src/migrate-cli.mjs']);
  assert.equal(out.status, 0, out.stderr);
  const summary = JSON.parse(out.stdout);
  assert.equal(summary.ok, true);
  assert.deepEqual(summary.applied, []);
  const missing = run(['src/migrate-cli.mjs'], { DB_NAME: '' });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /DB_NAME is required/);
});

test('seed --count N inserts N products with stock, and is safe to repeat', async () => {
  const first = run(['src/seed.mjs', '--count', '25', '--stock', '7']);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(JSON.parse(first.stdout).inserted, 25);
  const again = run(['src/seed.mjs', '--count', '25']);
  assert.equal(JSON.parse(again.stdout).inserted, 0);
  const { rows } = await db.query(`SELECT count(*)::int AS n, min(available) AS lo, max(available) AS hi FROM inventory WHERE sku LIKE 'SKU-%'`);
  assert.deepEqual(rows[0], { n: 25, lo: 7, hi: 7 });
  const bad = run(['src/seed.mjs', '--count', 'lots']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--count must be a non-negative integer/);
});
