// Versioned SQL migrations (src/migrations/NNN_name.sql), applied in order, each
// in its own transaction, under a PostgreSQL advisory lock so two deploys (or two
// concurrent invocations) never run them at once. Re-running is a no-op; a file
// edited after it was applied is refused (its checksum no longer matches).
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import pg from 'pg';
import { loadDbConfig } from './config.mjs';
import { clientOptions } from './db.mjs';
import { MIGRATION_LOCK_KEY, bootstrapRoles, loadRoleCredentials, roleDbConfig } from './db-roles.mjs';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
// Arbitrary but fixed: every migrator of this schema (and the role bootstrap) must use the same key.
const LOCK_KEY = MIGRATION_LOCK_KEY;

export async function listMigrations() {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(files.map(async (file) => {
    const sql = await readFile(new URL(file, MIGRATIONS_DIR), 'utf8');
    return { version: file.slice(0, 3), name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  }));
}

/**
 * The migrate task: bootstrap the roles as the master user (src/db-roles.mjs), then apply the migrations as
 * the owner role, so every object they create is the owner's and the app role gets its grants by default
 * privileges. env: see loadRoleCredentials (secrets on AWS, plain names locally).
 */
export async function runMigrations(env = process.env) {
  const dbConfig = loadDbConfig(env);
  const creds = await loadRoleCredentials(env, dbConfig);
  const roles = await bootstrapRoles(dbConfig, env, creds);
  const summary = await migrate(roleDbConfig(dbConfig, env, creds.owner), { appRole: creds.app.user });
  return { ...summary, roles };
}

/** Applies the migrations as dbConfig.user (the owner role; see runMigrations). */
export async function migrate(dbConfig, { appRole } = {}) {
  const started = Date.now();
  // Always the writer, and a dedicated connection: the advisory lock belongs to the session.
  // No client-side query timeout: a migration on a big table may legitimately take long.
  const client = new pg.Client({ ...clientOptions(dbConfig, dbConfig.writerHost, 'migrate'), query_timeout: undefined, connectionTimeoutMillis: 10_000 });
  await client.connect();
  const applied = [];
  const skipped = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    // Default privileges would give the app role write access to the bookkeeping; it is the owner's alone.
    if (appRole) {
      await client.query(`REVOKE ALL ON TABLE schema_migrations FROM ${client.escapeIdentifier(appRole)}`);
      // Role names differ per environment: a migration that must grant the app role more than the defaults
      // reads its name here: EXECUTE format('GRANT DELETE ON t TO %I', current_setting('catalog.app_role')).
      await client.query(`SELECT set_config('catalog.app_role', $1, false)`, [appRole]);
    }
    const { rows } = await client.query('SELECT version, checksum FROM schema_migrations');
    const done = new Map(rows.map((r) => [r.version, r.checksum]));
    for (const m of await listMigrations()) {
      if (done.has(m.version)) {
        if (done.get(m.version) !== m.checksum) {
          throw new Error(`migration ${m.name} was changed after it was applied: add a new migration instead`);
        }
        skipped.push(m.name);
        continue;
      }
      try {
        await client.query('BEGIN');
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(`migration ${m.name} failed: ${err.message}`, { cause: err });
      }
      applied.push(m.name);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    await client.end().catch(() => {});
  }
  return { task: 'migrate', ok: true, applied, alreadyApplied: skipped, durationMs: Date.now() - started };
}
