// Least-privilege database roles. Run with the master credentials only (the migrate task), idempotently:
//   owner role: LOGIN, owns schema public and every object in it; migrations run as this role;
//   app role:   LOGIN, what the API connects as: USAGE on the schema, SELECT on tables, EXECUTE on functions but
//               the owner-only ones (the seed); it writes only through the owner's SECURITY DEFINER functions
//               (migrations/013): no INSERT, UPDATE, DELETE or TRUNCATE on any table, no sequences, no DDL, owns
//               nothing.
// Neither gets SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS; an existing role that has one is refused
// rather than silently "fixed" (only a superuser may change some of them, and Aurora's master is not one).
// ALTER DEFAULT PRIVILEGES FOR ROLE owner gives the app role its grants on objects later migrations create.
import pg from 'pg';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientOptions } from './db.mjs';
import { ConfigError, DEFAULT_APP_ROLE, DEFAULT_OWNER_ROLE } from './config.mjs';
import { currentSecretString, firstSecretFields } from './db-secrets.mjs';
import { scramVerifier } from './scram.mjs';

// src/migrate.mjs's key: a bootstrap never runs while another deploy's migrations do (granting on the schema
// while a migration creates objects in it fails with "tuple concurrently updated"), nor two bootstraps at once.
export const MIGRATION_LOCK_KEY = 7_301_024_001;
// Functions of the owner that the app role may not EXECUTE (everything else in public it may): the demo seed runs
// as the owner (src/seed-data.mjs seedAsOwner), never through the API's connection. A migration that adds one
// revokes it from the app role itself (default privileges grant it) and lists it here, so the bootstrap keeps it so.
// Written as regprocedure prints them.
export const OWNER_ONLY_FUNCTIONS = Object.freeze(['seed_products(integer,integer,integer,text[])']);
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const ELEVATED = ['rolsuper', 'rolcreatedb', 'rolcreaterole', 'rolreplication', 'rolbypassrls'];

function roleName(variable, value) {
  if (!ROLE_NAME.test(value)) throw new ConfigError(variable, `must be a lower-case PostgreSQL role name ([a-z_][a-z0-9_]*), got "${value}"`);
  return value;
}

/**
 * Who logs in as whom for the migrate task. Two sources:
 *   AWS: DB_MASTER_SECRET_ARN, DB_OWNER_SECRET_ARN, DB_APP_SECRET_ARN (all three), each a Secrets Manager secret
 *        {"username": ..., "password": ...} (the RDS secret shape; other keys ignored); an owner or app secret
 *        without a value yet gets its first one, generated here (src/db-secrets.mjs);
 *   local: DB_MASTER_USER (default postgres) / DB_MASTER_PASSWORD, DB_OWNER_USER / DB_OWNER_PASSWORD,
 *        DB_USER / DB_PASSWORD (the app role: the same user the API runtime connects as).
 * dbConfig: loadDbConfig(env). Returns { master, owner, app } each { user, password }.
 */
export async function loadRoleCredentials(env, dbConfig) {
  const arns = {
    master: env.DB_MASTER_SECRET_ARN?.trim() || undefined,
    owner: env.DB_OWNER_SECRET_ARN?.trim() || undefined,
    app: env.DB_APP_SECRET_ARN?.trim() || undefined,
  };
  const given = Object.values(arns).filter(Boolean).length;
  let creds;
  if (given === 0) {
    creds = {
      master: { user: env.DB_MASTER_USER?.trim() || 'postgres', password: env.DB_MASTER_PASSWORD || undefined },
      owner: { user: env.DB_OWNER_USER?.trim() || DEFAULT_OWNER_ROLE, password: env.DB_OWNER_PASSWORD || undefined },
      app: { user: dbConfig.user, password: env.DB_PASSWORD || undefined },
    };
  } else {
    const missing = Object.entries(arns).find(([, arn]) => !arn);
    if (missing) throw new ConfigError(`DB_${missing[0].toUpperCase()}_SECRET_ARN`, 'is required when any DB_*_SECRET_ARN is set (master, owner and app secrets go together)');
    creds = await readSecrets(env, arns, dbConfig);
    // The names configured for the runtime must be the ones the secrets hold, or the API would log in as a role
    // that was never granted anything.
    if (env.DB_OWNER_USER?.trim() && env.DB_OWNER_USER.trim() !== creds.owner.user) {
      throw new ConfigError('DB_OWNER_USER', `is "${env.DB_OWNER_USER.trim()}" but DB_OWNER_SECRET_ARN holds username "${creds.owner.user}"`);
    }
    if (creds.app.user !== dbConfig.user) {
      throw new ConfigError('DB_USER', `is "${dbConfig.user}" but DB_APP_SECRET_ARN holds username "${creds.app.user}"`);
    }
  }
  roleName('DB_OWNER_USER', creds.owner.user);
  roleName('DB_USER', creds.app.user);
  const names = new Set([creds.master.user, creds.owner.user, creds.app.user]);
  if (names.size !== 3) throw new ConfigError('DB_USER', `master, owner and app must be three different roles, got ${creds.master.user}, ${creds.owner.user}, ${creds.app.user}`);
  return creds;
}

function secretsClient(env, variable) {
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  if (!region) throw new ConfigError('AWS_REGION', `is required to read the ${variable} secret`);
  const endpoint = env.SECRETS_MANAGER_ENDPOINT?.trim() || undefined;
  return new SecretsManagerClient({ region, endpoint });
}

/** One role secret's {"username","password"}. first: see currentSecretString (only the migrate task gives it). */
async function readRoleSecret(client, variable, arn, first) {
  const { secretString: SecretString } = await currentSecretString(client, arn, { variable, first });
  let parsed;
  try {
    parsed = JSON.parse(SecretString ?? '');
  } catch {
    throw new ConfigError(variable, 'secret is not a JSON object {"username","password"}');
  }
  if (typeof parsed?.username !== 'string' || !parsed.username || typeof parsed.password !== 'string' || !parsed.password) {
    throw new ConfigError(variable, 'secret must hold non-empty "username" and "password" strings');
  }
  return { user: parsed.username, password: parsed.password };
}

async function readSecrets(env, arns, dbConfig) {
  const client = secretsClient(env, 'DB_*_SECRET_ARN');
  try {
    const out = {};
    for (const [role, arn] of Object.entries(arns)) {
      // The owner and app secrets get their first value here (src/db-secrets.mjs); the master is RDS's.
      const first = role === 'master' ? undefined : () => firstSecretFields(env, dbConfig, role);
      out[role] = await readRoleSecret(client, `DB_${role.toUpperCase()}_SECRET_ARN`, arn, first);
    }
    return out;
  } finally {
    client.destroy();
  }
}

/**
 * The owner role's credentials alone, for the seed (src/seed-data.mjs seedAsOwner): on AWS from DB_OWNER_SECRET_ARN
 * (the migrate function's; the secret must already hold a value: the migrate task writes the first one), locally
 * DB_OWNER_USER (default catalog_owner) / DB_OWNER_PASSWORD. Never the master's: seeding needs no role changes.
 */
export async function loadOwnerCredentials(env, dbConfig) {
  const arn = env.DB_OWNER_SECRET_ARN?.trim();
  let owner;
  if (!arn) {
    owner = { user: env.DB_OWNER_USER?.trim() || DEFAULT_OWNER_ROLE, password: env.DB_OWNER_PASSWORD || undefined };
  } else {
    const client = secretsClient(env, 'DB_OWNER_SECRET_ARN');
    try {
      owner = await readRoleSecret(client, 'DB_OWNER_SECRET_ARN', arn);
    } finally {
      client.destroy();
    }
  }
  roleName('DB_OWNER_USER', owner.user);
  if (owner.user === dbConfig.user) throw new ConfigError('DB_OWNER_USER', `is the app role "${dbConfig.user}": the seed runs as the owner role`);
  return owner;
}

/**
 * Connection settings for one of the roles. The migrate task logs in with passwords (from the secrets), so it
 * goes to DB_MIGRATE_HOST (the cluster writer endpoint on AWS) rather than the IAM-only proxy.
 */
export function roleDbConfig(dbConfig, env, { user, password }) {
  return { ...dbConfig, writerHost: env.DB_MIGRATE_HOST?.trim() || dbConfig.writerHost, user, password, iamAuth: false };
}

async function withClient(config, fn) {
  const client = new pg.Client({ ...clientOptions(config, config.writerHost, 'bootstrap'), query_timeout: undefined });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function ensureRole(client, name, password) {
  const id = client.escapeIdentifier(name);
  const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
  // CREATE ROLE's defaults are NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS.
  if (!rowCount) await client.query(`CREATE ROLE ${id} LOGIN`);
  else await client.query(`ALTER ROLE ${id} LOGIN`);
  // DDL takes no bind parameters. The password goes as a SCRAM-SHA-256 verifier, never as sent: an audit log of
  // role changes (or a failing statement in the server log) must not hold it.
  if (password) await client.query(`ALTER ROLE ${id} PASSWORD ${client.escapeLiteral(scramVerifier(password))}`);
  const { rows } = await client.query(`SELECT ${ELEVATED.join(', ')} FROM pg_roles WHERE rolname = $1`, [name]);
  const extra = ELEVATED.filter((attr) => rows[0][attr]);
  if (extra.length) throw new Error(`role ${name} has ${extra.map((a) => a.slice(3).toUpperCase()).join(', ')}: remove it (ALTER ROLE ${name} NO...) and rerun`);
}

/**
 * master: { user, password } with CREATEROLE and ownership of the database (Aurora's master user, or postgres).
 * Returns a summary of what it did. Safe to run on every deploy.
 */
export async function bootstrapRoles(dbConfig, env, { master, owner, app }) {
  return withClient(roleDbConfig(dbConfig, env, master), async (client) => {
    const O = client.escapeIdentifier(owner.user);
    const A = client.escapeIdentifier(app.user);
    const database = client.escapeIdentifier(dbConfig.database);
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await ensureRole(client, owner.user, owner.password);
      await ensureRole(client, app.user, app.password);
      const { rows: [me] } = await client.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
      // A non-superuser master (Aurora) may only hand objects to a role it is a member of.
      if (!me.rolsuper) await client.query(`GRANT ${O} TO CURRENT_USER`);
      // Temp tables are DDL too; CONNECT stays as the cluster has it, given explicitly to our two roles.
      await client.query(`REVOKE TEMPORARY, CREATE ON DATABASE ${database} FROM PUBLIC`);
      await client.query(`GRANT CONNECT ON DATABASE ${database} TO ${O}, ${A}`);
      await client.query(`ALTER SCHEMA public OWNER TO ${O}`);
      await client.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
      // Objects created before the owner existed (earlier deploys ran migrations as master) move to it.
      const moved = await reassignSchemaObjects(client, owner.user);
      // The audit trail of DDL and role changes (pgaudit, loaded by the cluster parameter group on Aurora); a
      // server without the library (a local PostgreSQL) offers no such extension.
      const { rowCount: auditable } = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'pgaudit'");
      if (auditable) await client.query('CREATE EXTENSION IF NOT EXISTS pgaudit');
      // Grants as the owner, so the owner is their grantor and can manage them in later migrations.
      await client.query(`SET LOCAL ROLE ${O}`);
      await client.query(`GRANT USAGE ON SCHEMA public TO ${A}`);
      // Reads only: earlier deploys granted writes, taken back here on every run.
      await client.query(`REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM ${A}`);
      await client.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${A}`);
      await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${A}`);
      await client.query('REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC');
      await client.query(`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ${A}`);
      // ...but not the owner's own tasks: the line above runs on every deploy and would hand them back.
      for (const fn of OWNER_ONLY_FUNCTIONS) {
        const { rows: [f] } = await client.query('SELECT to_regprocedure($1) IS NOT NULL AS present', [`public.${fn}`]);
        if (f.present) await client.query(`REVOKE EXECUTE ON FUNCTION public.${fn} FROM ${A}`);
      }
      // The migration bookkeeping is the owner's alone (src/migrate.mjs revokes it again when it creates it).
      await client.query(`DO $$ BEGIN
        IF to_regclass('public.schema_migrations') IS NOT NULL THEN EXECUTE 'REVOKE ALL ON TABLE public.schema_migrations FROM ${A.replace(/'/g, "''")}'; END IF;
      END $$`);
      for (const sql of defaultPrivileges(O, A)) await client.query(sql);
      await client.query('COMMIT');
      return { owner: owner.user, app: app.user, reassigned: moved, audit: auditable > 0 };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  });
}

/** Every later object the owner creates in public gets the app grants without naming the app role in SQL. */
export function defaultPrivileges(O, A) {
  const forOwner = `ALTER DEFAULT PRIVILEGES FOR ROLE ${O} IN SCHEMA public`;
  return [
    // Writes go through the owner's SECURITY DEFINER functions; what earlier deploys set is taken back.
    `${forOwner} REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLES FROM ${A}`,
    `${forOwner} REVOKE ALL ON SEQUENCES FROM ${A}`,
    `${forOwner} GRANT SELECT ON TABLES TO ${A}`,
    // Functions are executable by PUBLIC by default: only the app role gets them.
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${O} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`,
    `${forOwner} GRANT EXECUTE ON FUNCTIONS TO ${A}`,
  ];
}

async function reassignSchemaObjects(client, owner) {
  const O = client.escapeIdentifier(owner);
  // Tables first: their owned sequences (serial columns) and indexes follow them.
  const { rows: relations } = await client.query(
    `SELECT c.oid::regclass::text AS name, c.relkind FROM pg_class c
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
        AND pg_get_userbyid(c.relowner) <> $1
      ORDER BY c.relkind = 'S'`, [owner]);
  let count = 0;
  for (const r of relations) {
    const { rows } = await client.query('SELECT pg_get_userbyid(relowner) <> $2 AS other FROM pg_class WHERE oid = $1::regclass', [r.name, owner]);
    if (!rows[0].other) continue;
    const kind = { r: 'TABLE', p: 'TABLE', v: 'VIEW', m: 'MATERIALIZED VIEW', S: 'SEQUENCE', f: 'FOREIGN TABLE' }[r.relkind];
    await client.query(`ALTER ${kind} ${r.name} OWNER TO ${O}`);
    count += 1;
  }
  const { rows: routines } = await client.query(
    `SELECT p.oid::regprocedure::text AS name, p.prokind FROM pg_proc p
      WHERE p.pronamespace = 'public'::regnamespace AND pg_get_userbyid(p.proowner) <> $1`, [owner]);
  for (const f of routines) {
    await client.query(`ALTER ${f.prokind === 'p' ? 'PROCEDURE' : 'FUNCTION'} ${f.name} OWNER TO ${O}`);
    count += 1;
  }
  const { rows: types } = await client.query(
    `SELECT t.oid::regtype::text AS name FROM pg_type t
      WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'c', 'r')
        AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
        AND pg_get_userbyid(t.typowner) <> $1`, [owner]);
  for (const t of types) {
    await client.query(`ALTER TYPE ${t.name} OWNER TO ${O}`);
    count += 1;
  }
  return count;
}

export { DEFAULT_APP_ROLE, DEFAULT_OWNER_ROLE };
