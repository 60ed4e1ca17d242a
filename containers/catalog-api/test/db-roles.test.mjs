// Least-privilege database roles, proven on the real PostgreSQL server: the migrate task bootstraps an owner
// role (owns everything, runs migrations) and an app role (what the API connects as), and the app role can do
// exactly what the routes need. The AWS path reads the three credentials from Secrets Manager (moto's server).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { ConfigError, loadConfig, loadDbConfig } from '../src/config.mjs';
import { OWNER_ONLY_FUNCTIONS } from '../src/db-roles.mjs';
import { scramVerifier } from '../src/scram.mjs';
import { migrate, runMigrations } from '../src/migrate.mjs';
import { seedAsOwner, seedProducts } from '../src/seed-data.mjs';
import { startServer } from '../src/server.mjs';
import { dropDatabase, ensureDatabase } from '../scripts/local-infra.mjs';
import { call, dropRoles, setupInfra } from './helpers.mjs';
import { adminHeaders, userHeaders } from './identity.mjs';
import { LIMITS, KEY_PATTERN } from '../src/validation.mjs';

let infra;
let admin; // postgres superuser, for inspection only
let app; // a session as the app role
const extraRoles = [];
const extraDbs = [];

const connect = async (user, database = infra.dbName) => {
  const client = new pg.Client({ ...infra.pgOptions, user, database });
  await client.connect();
  return client;
};

before(async () => {
  infra = await setupInfra();
  admin = await connect(infra.postgres.user);
  app = await connect(infra.env.DB_USER);
  // Another schema owned by someone else: the app role must not read it.
  await admin.query('CREATE SCHEMA other; CREATE TABLE other.payroll (who text, salary int); INSERT INTO other.payroll VALUES ($$cfo$$, 1)');
});

after(async () => {
  await app?.end();
  await admin?.end();
  for (const name of extraDbs) await dropDatabase(name, infra.admin);
  // Before infra.cleanup(): it stops the server when setupInfra started an embedded one for this file.
  if (extraRoles.length) await dropRoles(extraRoles, infra.admin);
  await infra?.cleanup();
});

const ownerOf = async (sql) => (await admin.query(sql)).rows.map((r) => `${r.name}:${r.owner}`);

test('the owner role owns schema public and every object in it; neither role has any elevated attribute', async () => {
  const { DB_OWNER_USER: owner, DB_USER: appRole } = infra.env;
  const relations = await ownerOf(`SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'S', 'v', 'i') ORDER BY 1`);
  assert.ok(relations.length >= 10, relations.join());
  assert.deepEqual(relations.filter((r) => !r.endsWith(`:${owner}`)), []);
  const functions = await ownerOf(`SELECT p.proname AS name, pg_get_userbyid(p.proowner) AS owner FROM pg_proc p
    WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1`);
  assert.deepEqual(functions, ['default_shard_count', 'finish_reservation', 'release_expired_reservations', 'reserve_stock', 'reserve_stock_unserialized', 'restock_stock', 'return_stock', 'seed_products', 'stock_summary']
    .map((f) => `${f}:${owner}`));
  assert.deepEqual(await ownerOf(`SELECT nspname AS name, pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'public'`), [`public:${owner}`]);
  const { rows } = await admin.query(`SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,
      rolpassword IS NOT NULL AS has_password FROM pg_authid WHERE rolname = ANY($1) ORDER BY rolname = $2`, [[owner, appRole], owner]);
  for (const r of rows) {
    assert.deepEqual({ ...r, rolname: undefined }, {
      rolname: undefined, rolcanlogin: true, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false, has_password: true,
    }, r.rolname);
  }
  // The API's pools log in as the app role.
  const api = await startServer({ env: infra.env, port: 0, runtimeOptions: { metricsWrite: () => {} } });
  try {
    assert.equal((await api.runtime.db.writer.query('SELECT current_user AS u')).rows[0].u, appRole);
  } finally {
    await api.close();
  }
});

test('as the app role, the API reads, reserves and (with an admin token) restocks', async () => {
  const api = await startServer({ env: infra.env, port: 0, runtimeOptions: { metricsWrite: () => {} } });
  try {
    await seedAsOwner(infra.env, { count: 3, stock: 5 });
    assert.equal((await call(api.url, '/api/products?limit=3')).body.items.length, 3);
    const reserved = await call(api.url, '/api/products/SKU-000001/reservations', { method: 'POST', headers: await userHeaders(), json: { quantity: 2, idempotencyKey: 'roles-0001' } });
    assert.equal(reserved.status, 201, JSON.stringify(reserved.body));
    const restocked = await call(api.url, '/api/products/SKU-000001/inventory', { method: 'PUT', headers: await adminHeaders('roles-admin'), json: { add: 10 } });
    assert.equal(restocked.status, 200, JSON.stringify(restocked.body));
    assert.equal(restocked.body.available, 13);
    assert.equal((await call(api.url, '/api/products/SKU-000001/inventory')).body.reserved, 2);
  } finally {
    await api.close();
  }
});

test('as the app role, every stock-shard function the API calls runs (re-shard down included), the helpers do not', async () => {
  // SKU-000002 was seeded by the test above (5 units, one shard).
  const one = async (sql, params) => (await app.query(sql, params)).rows[0];
  assert.equal((await one('SELECT default_shard_count(1000, 1) AS k')).k, 16);
  const up = await one(`SELECT * FROM restock_stock('SKU-000002', 'set', 40, 8, 'roles-admin', 'probe', 'req-1')`);
  assert.deepEqual([up.outcome, up.available, up.shards], ['ok', 40, 8]);
  const down = await one(`SELECT * FROM restock_stock('SKU-000002', 'add', 0, 2, 'roles-admin', 'probe', 'req-2')`);
  assert.deepEqual([down.outcome, down.available, down.previous_shards, down.shards], ['ok', 40, 8, 2]);
  const made = await one(`SELECT * FROM reserve_stock('SKU-000002', 3, 'roles-fn-0001', 600, 'shopper-1')`);
  assert.equal(made.outcome, 'created');
  assert.equal((await one(`SELECT outcome FROM finish_reservation('cancel', $1, 'SKU-000002', 'shopper-1')`, [made.id])).outcome, 'cancelled');
  assert.equal((await one('SELECT release_expired_reservations(NULL, 10) AS n')).n, 0);
  const s = await one(`SELECT * FROM stock_summary('SKU-000002')`);
  assert.deepEqual([s.shards, Number(s.available), Number(s.held), s.negative_shards], [2, 40, 0, 0]);
  // The helpers run with the caller's rights: called directly by the app role they can write nothing.
  await assert.rejects(app.query(`SELECT return_stock('SKU-000002', 1)`), /permission denied/);
  await assert.rejects(app.query(`SELECT * FROM reserve_stock_unserialized('SKU-000002', 1, 'roles-fn-0002', 600, 'shopper-1')`), /permission denied/);
  assert.equal(Number((await one(`SELECT * FROM stock_summary('SKU-000002')`)).available), 40);
});

// The API's writes, as the app role alone (a plain session logged in as it): every one goes through a function of
// the owner's; every direct write to stock, reservations, products or the audit is refused.
const FORBIDDEN_WRITES = [
  "UPDATE inventory_audit SET actor = 'mallory'",
  "UPDATE products SET price_cents = 1 WHERE sku = 'SKU-000003'",
  "UPDATE reservations SET owner = 'mallory'",
  "UPDATE reservations SET status = 'confirmed'",
  'UPDATE inventory SET available = available + 1000',
  "DELETE FROM inventory WHERE sku = 'SKU-000003'",
  'DELETE FROM reservations',
  'DELETE FROM products',
  'DELETE FROM inventory_audit',
  "INSERT INTO products (sku, name, category, price_cents) VALUES ('FREE-1', 'x', 'c', 0)",
  "INSERT INTO inventory (sku, shard, available) VALUES ('SKU-000003', 63, 1000)",
  "INSERT INTO reservations (sku, quantity, idempotency_key, expires_at, owner) VALUES ('SKU-000003', 1, 'forged-key-1', now() + interval '1 day', 'mallory')",
  "INSERT INTO inventory_audit (sku, previous_available, new_available, actor) VALUES ('SKU-000003', 0, 0, 'mallory')",
  'TRUNCATE inventory_audit',
  "SELECT nextval('inventory_audit_id_seq')",
];

test('as the app role: reserve, cancel, confirm, restock and read work through the owner\'s functions; every direct write is refused', async (t) => {
  const one = async (sql, params) => (await app.query(sql, params)).rows[0];
  const owner = await connect(infra.env.DB_OWNER_USER);
  try {
    await seedProducts(owner, { count: 3, stock: 10, shards: 2 });
  } finally {
    await owner.end();
  }
  const restocked = await one(`SELECT * FROM restock_stock('SKU-000003', 'set', 20, 4, 'roles-admin', 'probe', 'req-w1')`);
  assert.deepEqual([restocked.outcome, restocked.available], ['ok', 20]);
  const a = await one(`SELECT * FROM reserve_stock('SKU-000003', 2, 'roles-w-0001', 600, 'shopper-1')`);
  const b = await one(`SELECT * FROM reserve_stock('SKU-000003', 3, 'roles-w-0002', 600, 'shopper-1')`);
  assert.deepEqual([a.outcome, b.outcome], ['created', 'created']);
  assert.equal((await one(`SELECT outcome FROM finish_reservation('cancel', $1, 'SKU-000003', 'shopper-1')`, [a.id])).outcome, 'cancelled');
  assert.equal((await one(`SELECT outcome FROM finish_reservation('confirm', $1, 'SKU-000003', 'shopper-1')`, [b.id])).outcome, 'confirmed');
  assert.equal((await one('SELECT release_expired_reservations(NULL, 10) AS n')).n, 0);
  // Reads: every table the routes read.
  for (const table of ['products', 'inventory', 'reservations', 'inventory_audit']) await app.query(`SELECT * FROM ${table} LIMIT 1`);
  const before = await admin.query(`SELECT (SELECT sum(available) FROM inventory WHERE sku = 'SKU-000003')::int AS stock,
    (SELECT count(*) FROM reservations)::int AS reservations, (SELECT count(*) FROM inventory_audit)::int AS audits,
    (SELECT string_agg(actor, ',' ORDER BY id) FROM inventory_audit) AS actors, (SELECT min(price_cents) FROM products) AS price`);
  assert.equal(before.rows[0].stock, 17);
  for (const sql of FORBIDDEN_WRITES) {
    await assert.rejects(app.query(sql), /permission denied/, sql);
  }
  t.diagnostic(`${FORBIDDEN_WRITES.length} direct writes refused as the app role: ${FORBIDDEN_WRITES.map((w) => w.split(' ').slice(0, 3).join(' ')).join('; ')}`);
  const afterState = await admin.query(`SELECT (SELECT sum(available) FROM inventory WHERE sku = 'SKU-000003')::int AS stock,
    (SELECT count(*) FROM reservations)::int AS reservations, (SELECT count(*) FROM inventory_audit)::int AS audits,
    (SELECT string_agg(actor, ',' ORDER BY id) FROM inventory_audit) AS actors, (SELECT min(price_cents) FROM products) AS price`);
  assert.deepEqual(afterState.rows[0], before.rows[0]);
  // The entry points run as the owner, with search_path pinned; the app role owns nothing and holds no table write.
  const { rows: fns } = await admin.query(`SELECT p.proname, p.prosecdef, p.proconfig, pg_get_userbyid(p.proowner) AS owner
    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
     AND p.proname IN ('reserve_stock', 'finish_reservation', 'restock_stock', 'release_expired_reservations', 'seed_products') ORDER BY 1`);
  assert.equal(fns.length, 5);
  for (const f of fns) {
    assert.equal(f.prosecdef, true, f.proname);
    assert.ok(f.proconfig.includes('search_path=public, pg_temp'), `${f.proname}: ${f.proconfig}`);
    assert.equal(f.owner, infra.env.DB_OWNER_USER);
  }
  const { rows: grants } = await admin.query(`SELECT table_name, privilege_type FROM information_schema.role_table_grants
    WHERE grantee = $1 AND table_schema = 'public' ORDER BY 1, 2`, [infra.env.DB_USER]);
  assert.deepEqual(grants.filter((g) => g.privilege_type !== 'SELECT'), []);
});

test('the app role may not seed (permission denied, nothing written); the owner may, and a redeploy keeps it so', async () => {
  const count = async () => (await admin.query('SELECT count(*)::int AS n FROM products')).rows[0].n;
  const before = await count();
  await assert.rejects(app.query('SELECT seed_products(50, 10, 2, ARRAY[$1]) AS n', ['books']), /permission denied for function seed_products/);
  await assert.rejects(seedProducts(app, { count: 50, stock: 10 }), /permission denied/);
  assert.equal(await count(), before);
  assert.equal((await seedAsOwner(infra.env, { count: before + 2, stock: 1 })).inserted, 2);
  // The bootstrap grants EXECUTE on every function on each deploy: the owner-only ones stay the owner's.
  await runMigrations(infra.env);
  const privileges = async () => (await admin.query(`SELECT p.oid::regprocedure::text AS fn, has_function_privilege($1, p.oid, 'EXECUTE') AS app
      FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1`, [infra.env.DB_USER])).rows;
  const granted = await privileges();
  assert.deepEqual(granted.filter((f) => !f.app).map((f) => f.fn), [...OWNER_ONLY_FUNCTIONS]);
  await assert.rejects(app.query('SELECT seed_products(1, 1, 1, ARRAY[$1])', ['books']), /permission denied/);
  // The seed's own owner role, and a misconfiguration named: the app role is never the seeder.
  await assert.rejects(seedAsOwner({ ...infra.env, DB_OWNER_USER: infra.env.DB_USER }, { count: 1 }), (err) => err instanceof ConfigError && err.variable === 'DB_OWNER_USER');
});

test('reserve_stock() refuses what no route sends: more than the per-request cap, a hold past the TTL bound, no owner, a bad key', async () => {
  const reserve = (args) => app.query('SELECT * FROM reserve_stock($1, $2, $3, $4, $5)', args);
  const held = async () => (await admin.query(`SELECT count(*)::int AS n FROM reservations`)).rows[0].n;
  const heldBefore = await held();
  // The route's bounds are the function's: the cap (src/validation.mjs) and the longest RESERVATION_TTL_SECONDS
  // the config accepts (src/config.mjs).
  const maxTtl = 86400;
  assert.equal(loadConfig({ ...infra.env, RESERVATION_TTL_SECONDS: String(maxTtl) }).reservationTtlSeconds, maxTtl);
  assert.throws(() => loadConfig({ ...infra.env, RESERVATION_TTL_SECONDS: String(maxTtl + 1) }), ConfigError);
  assert.ok(KEY_PATTERN.test('bounds-0001') && !KEY_PATTERN.test('short'));
  const refused = [
    ['SKU-000003', LIMITS.reservationMax + 1, 'bounds-0001', 600, 'shopper-1'],
    ['SKU-000003', 0, 'bounds-0002', 600, 'shopper-1'],
    ['SKU-000003', 1, 'bounds-0003', maxTtl + 1, 'shopper-1'],
    ['SKU-000003', 1, 'bounds-0004', 0, 'shopper-1'],
    ['SKU-000003', 1, 'bounds-0005', 600, null],
    ['SKU-000003', 1, 'bounds-0006', 600, ''],
    ['SKU-000003', 1, 'short', 600, 'shopper-1'],
    ['SKU-000003', 1, 'bounds 0008', 600, 'shopper-1'],
  ];
  for (const args of refused) await assert.rejects(reserve(args), (err) => err.code === '22023', JSON.stringify(args));
  assert.equal(await held(), heldBefore);
  // The bounds themselves pass (as the app role: the function keeps its owner's rights and search_path).
  const made = (await reserve(['SKU-000003', LIMITS.reservationMax, 'bounds-0009', maxTtl, 'shopper-1'])).rows[0];
  assert.equal(made.outcome, 'created', JSON.stringify(made));
  assert.equal((await app.query(`SELECT outcome FROM finish_reservation('cancel', $1, 'SKU-000003', 'shopper-1')`, [made.id])).rows[0].outcome, 'cancelled');
});

test('the app role cannot DROP, ALTER, TRUNCATE, DELETE, CREATE anything, touch the migration table or read another schema', async () => {
  const denied = [
    'DROP TABLE reservations',
    'ALTER TABLE products ADD COLUMN x integer',
    'TRUNCATE inventory',
    'DELETE FROM reservations',
    'CREATE TABLE sneaky (x integer)',
    'CREATE TEMP TABLE sneaky (x integer)',
    'CREATE SCHEMA sneaky',
    'CREATE ROLE sneaky',
    'CREATE DATABASE sneaky',
    'CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
    'DROP FUNCTION reserve_stock(text, integer, text, integer, text)',
    'CREATE INDEX sneaky ON products (name)',
    `INSERT INTO schema_migrations (version, name, checksum) VALUES ('999', 'x', 'x')`,
    'SELECT * FROM schema_migrations',
    'SELECT * FROM other.payroll',
    `ALTER ROLE ${infra.env.DB_USER} CREATEDB`,
  ];
  for (const sql of denied) {
    await assert.rejects(app.query(sql), (err) => {
      assert.match(err.message, /permission denied|must be owner|must have|Only roles with/i, `${sql}: ${err.message}`);
      return true;
    }, sql);
  }
});

test('objects a later migration creates (as the owner) get the app grants by default privileges', async () => {
  const owner = await connect(infra.env.DB_OWNER_USER);
  try {
    await owner.query(`CREATE TABLE stock_probe (id bigserial PRIMARY KEY, n integer NOT NULL);
      CREATE FUNCTION probe_total() RETURNS bigint LANGUAGE sql AS $$ SELECT coalesce(sum(n), 0) FROM stock_probe $$`);
  } finally {
    await owner.end();
  }
  // Reads and EXECUTE only: the app role writes through the owner's functions.
  assert.equal((await app.query('SELECT probe_total() AS t')).rows[0].t, 0);
  assert.equal((await app.query('SELECT count(*)::int AS n FROM stock_probe')).rows[0].n, 0);
  await assert.rejects(app.query('INSERT INTO stock_probe (n) VALUES (3)'), /permission denied/);
  await assert.rejects(app.query('UPDATE stock_probe SET n = 4'), /permission denied/);
  await assert.rejects(app.query('DELETE FROM stock_probe'), /permission denied/);
  await assert.rejects(app.query('DROP TABLE stock_probe'), /must be owner/);
  // Functions are not executable by every role (PUBLIC), only by the app role.
  const stranger = `catalog_stranger_${process.pid}`;
  extraRoles.push(stranger);
  await admin.query(`CREATE ROLE ${stranger} LOGIN`);
  const s = await connect(stranger);
  try {
    await assert.rejects(s.query('SELECT public.probe_total()'), /permission denied/);
    await assert.rejects(s.query('SELECT * FROM public.reserve_stock($1, 1, $2, 1)', ['SKU-000001', 'stranger-0001']), /permission denied/);
  } finally {
    await s.end();
  }
});

test('a migration can grant the app role more through catalog.app_role', async () => {
  const owner = await connect(infra.env.DB_OWNER_USER);
  try {
    // What migrate() does before applying files, then what such a migration would run.
    await owner.query(`SELECT set_config('catalog.app_role', $1, false)`, [infra.env.DB_USER]);
    await owner.query(`CREATE TABLE delete_probe (id integer);
      DO $$ BEGIN EXECUTE format('GRANT INSERT, DELETE ON delete_probe TO %I', current_setting('catalog.app_role')); END $$`);
  } finally {
    await owner.end();
  }
  await app.query('INSERT INTO delete_probe VALUES (1)');
  assert.equal((await app.query('DELETE FROM delete_probe')).rowCount, 1);
});

test('an earlier deploy that migrated as master: the bootstrap hands every object to the owner', async () => {
  const name = `${infra.dbName}_legacy`;
  extraDbs.push(name);
  await ensureDatabase(name, infra.admin);
  const env = { ...infra.env, DB_NAME: name };
  // The old behaviour: migrations applied by the master user.
  await migrate({ ...loadDbConfig(env), user: infra.postgres.user, password: infra.postgres.password });
  const summary = await runMigrations(env);
  assert.ok(summary.roles.reassigned >= 6, JSON.stringify(summary));
  assert.deepEqual(summary.applied, []);
  const check = await connect(infra.postgres.user, name);
  try {
    const { rows } = await check.query(`SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relowner <> $1::regrole`, [infra.env.DB_OWNER_USER]);
    assert.equal(rows[0].n, 0);
  } finally {
    await check.end();
  }
  const asApp = await connect(infra.env.DB_USER, name);
  try {
    // The grants of the earlier deploy (writes) are gone: reads only.
    await asApp.query('SELECT count(*) FROM products');
    await assert.rejects(asApp.query(`INSERT INTO products (sku, name, category, price_cents) VALUES ('LEG-1', 'x', 'c', 1)`), /permission denied/);
    await assert.rejects(asApp.query('DROP TABLE products'), /must be owner/);
  } finally {
    await asApp.end();
  }
});

test('a role that already has an elevated attribute is refused, not used', async () => {
  const name = `${infra.dbName}_elev`;
  extraDbs.push(name);
  await ensureDatabase(name, infra.admin);
  const risky = `catalog_app_risky_${infra.id}`; // roles are cluster-wide: per file, like setupInfra's
  extraRoles.push(risky);
  await admin.query(`CREATE ROLE ${risky} LOGIN CREATEDB`);
  await assert.rejects(runMigrations({ ...infra.env, DB_NAME: name, DB_USER: risky }), new RegExp(`role ${risky} has CREATEDB`));
  await assert.rejects(runMigrations({ ...infra.env, DB_NAME: name, DB_USER: infra.env.DB_OWNER_USER }), /three different roles/);
});

test('AWS path: master, owner and app credentials come from Secrets Manager (moto server)', async () => {
  const sm = new SecretsManagerClient({ region: 'us-east-1', endpoint: infra.moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const suffix = infra.id;
  const owner = `catalog_owner_sm${suffix}`;
  const appRole = `catalog_app_sm${suffix}`;
  extraRoles.push(owner, appRole);
  const secret = async (id, value) => (await sm.send(new CreateSecretCommand({ Name: `catalog/${id}-${suffix}`, SecretString: JSON.stringify(value) }))).ARN;
  const arns = {
    DB_MASTER_SECRET_ARN: await secret('master', { username: 'postgres', password: 'master-pw', engine: 'postgres' }),
    DB_OWNER_SECRET_ARN: await secret('owner', { username: owner, password: 'owner-pw-1' }),
    DB_APP_SECRET_ARN: await secret('app', { username: appRole, password: 'app-pw-1' }),
  };
  const name = `${infra.dbName}_sm`;
  extraDbs.push(name);
  await ensureDatabase(name, infra.admin);
  // No DB_OWNER_USER / DB_*_PASSWORD: the secrets say who and with what password.
  const env = {
    ...infra.env, ...arns, DB_NAME: name, DB_USER: appRole, DB_OWNER_USER: '', DB_OWNER_PASSWORD: '', DB_PASSWORD: '',
    SECRETS_MANAGER_ENDPOINT: infra.moto.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing',
  };
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
  try {
    const first = await runMigrations(env);
    // audit: no pgaudit library on a local PostgreSQL (Aurora loads it through the cluster parameter group).
    assert.deepEqual(first.roles, { owner, app: appRole, reassigned: 0, audit: false });
    assert.ok(first.applied.length >= 2);
    const passwords = async () => Object.fromEntries((await admin.query(
      'SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1)', [[owner, appRole]])).rows.map((r) => [r.rolname, r.rolpassword]));
    const set = await passwords();
    assert.match(set[owner], /^SCRAM-SHA-256\$/);
    assert.match(set[appRole], /^SCRAM-SHA-256\$/);
    // What the server stores is the verifier of the secret's password (sent as a verifier, never in clear).
    const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(set[appRole]);
    assert.equal(scramVerifier('app-pw-1', { iterations: Number(iterations), salt: Buffer.from(salt, 'base64') }), set[appRole]);
    // A rotated secret is applied by the next run. (Each run sets both passwords again, with a fresh salt; the
    // local server only has trust auth, so a password login cannot be shown here.)
    await sm.send(new PutSecretValueCommand({ SecretId: arns.DB_APP_SECRET_ARN, SecretString: JSON.stringify({ username: appRole, password: 'app-pw-2' }) }));
    const second = await runMigrations(env);
    assert.deepEqual(second.applied, []);
    const rotated = await passwords();
    assert.notEqual(rotated[appRole], set[appRole]);
    assert.match(rotated[owner], /^SCRAM-SHA-256\$/);

    // Misconfigurations are named.
    const named = (variable) => (err) => err instanceof ConfigError && err.variable === variable;
    await assert.rejects(runMigrations({ ...env, DB_OWNER_SECRET_ARN: '' }), named('DB_OWNER_SECRET_ARN'));
    await assert.rejects(runMigrations({ ...env, DB_USER: 'catalog_app' }), named('DB_USER'));
    await assert.rejects(runMigrations({ ...env, DB_OWNER_USER: 'someone_else' }), named('DB_OWNER_USER'));
    const bad = await secret('broken', { username: owner });
    await assert.rejects(runMigrations({ ...env, DB_OWNER_SECRET_ARN: bad }), named('DB_OWNER_SECRET_ARN'));

    // The seed (the migrate function's {"catalogTask":"seed"}) reads the owner secret alone: the master and app
    // secrets may name nothing.
    const seedEnv = { ...env, DB_MASTER_SECRET_ARN: `${arns.DB_MASTER_SECRET_ARN}-gone`, DB_APP_SECRET_ARN: `${arns.DB_APP_SECRET_ARN}-gone` };
    assert.equal((await seedAsOwner(seedEnv, { count: 2, stock: 1 })).inserted, 2);
    await assert.rejects(seedAsOwner({ ...seedEnv, DB_OWNER_SECRET_ARN: bad }, { count: 2 }), named('DB_OWNER_SECRET_ARN'));
    // An owner secret without a value yet: the migrate task writes the first one; the seed never does.
    const empty = (await sm.send(new CreateSecretCommand({ Name: `catalog/empty-${suffix}` }))).ARN;
    await assert.rejects(seedAsOwner({ ...seedEnv, DB_OWNER_SECRET_ARN: empty }, { count: 2 }), named('DB_OWNER_SECRET_ARN'));
  } finally {
    process.env = saved;
    sm.destroy();
  }
});

test('the SCRAM-SHA-256 verifier matches RFC 7677: its ServerKey signs the RFC\'s exchange as the RFC says', () => {
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
  const verifier = scramVerifier('pencil', { iterations: 4096, salt });
  const [, , , , serverKey] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  const authMessage = 'n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,'
    + 's=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  const signature = createHmac('sha256', Buffer.from(serverKey, 'base64')).update(authMessage).digest('base64');
  assert.equal(signature, '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  assert.ok(verifier.startsWith('SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$'));
});
