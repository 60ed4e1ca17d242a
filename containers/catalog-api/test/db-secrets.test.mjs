// The owner and app secrets are created by the data layer without a value; the migrate task generates their
// passwords inside the account and writes them straight into Secrets Manager (src/db-secrets.mjs). Proven against
// moto's Secrets Manager server and a PostgreSQL server of this file's own that checks passwords (SCRAM), so a
// role logging in with the stored password is a real login, not the trust auth of the shared test server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { ensureDatabase, startMoto } from '../scripts/local-infra.mjs';
import { clientOptions, startEmbeddedPostgres } from '../scripts/local-postgres.mjs';
import { currentSecretString, firstVersionToken } from '../src/db-secrets.mjs';
import { runMigrations } from '../src/migrate.mjs';

const CLI = fileURLToPath(new URL('../src/migrate-cli.mjs', import.meta.url));
const AWS = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };

let server; // PostgreSQL with scram-sha-256 for every login, superuser postgres/postgres
let moto;
let sm;
let round = 0;
let savedEnv;

before(async () => {
  // The in-process runs' Secrets Manager client takes its credentials from the process, as on Lambda.
  savedEnv = { ...process.env };
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
  server = await startEmbeddedPostgres({ auth: 'scram-sha-256' });
  moto = await startMoto();
  sm = new SecretsManagerClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
});

after(async () => {
  sm?.destroy();
  await moto?.stop();
  await server?.stop();
  if (savedEnv) process.env = savedEnv;
});

/** A database, three secrets as the data layer leaves them (owner and app empty) and the migrate task's env. */
async function platform() {
  round += 1;
  const id = `${round}_${randomBytes(3).toString('hex')}`;
  const database = `catalog_sec_${id}`;
  await ensureDatabase(database, clientOptions(server));
  const secret = async (kind, value) => (await sm.send(new CreateSecretCommand({
    Name: `catalog-db-${kind}-${id}`, ...(value ? { SecretString: JSON.stringify(value) } : {}),
  }))).ARN;
  const arns = {
    master: await secret('master', { username: 'postgres', password: server.password }),
    owner: await secret('owner'),
    app: await secret('app'),
  };
  const roles = { owner: `catalog_owner_${id}`, app: `catalog_app_${id}` };
  const env = {
    DB_WRITER_HOST: server.host, DB_MIGRATE_HOST: server.host, DB_PORT: String(server.port), DB_NAME: database,
    DB_USER: roles.app, DB_OWNER_USER: roles.owner,
    DB_MASTER_SECRET_ARN: arns.master, DB_OWNER_SECRET_ARN: arns.owner, DB_APP_SECRET_ARN: arns.app,
    SECRETS_MANAGER_ENDPOINT: moto.endpoint, LOG_LEVEL: 'INFO', ...AWS,
  };
  return { id, database, arns, roles, env };
}

const current = async (arn) => JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString);
const versions = async (arn) => (await sm.send(new ListSecretVersionIdsCommand({ SecretId: arn }))).Versions
  .map((v) => ({ id: v.VersionId, stages: v.VersionStages }));

async function logIn(user, password, database) {
  const client = new pg.Client({ host: server.host, port: server.port, user, password, database });
  await client.connect();
  try {
    return (await client.query('SELECT current_user AS me')).rows[0].me;
  } finally {
    await client.end();
  }
}

/** Run `npm run migrate` (src/migrate-cli.mjs) with env; resolves { code, out } (stdout and stderr together). */
function migrateCli(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out }));
  });
}

test('the first run generates each role password once, in the RDS shape, and the role logs in with it', async () => {
  const p = await platform();
  const first = await migrateCli(p.env);
  assert.equal(first.code, 0, first.out);
  const owner = await current(p.arns.owner);
  const app = await current(p.arns.app);
  for (const [value, user] of [[owner, p.roles.owner], [app, p.roles.app]]) {
    assert.deepEqual({ ...value, password: '-' }, {
      engine: 'postgres', host: server.host, port: server.port, dbname: p.database, username: user, password: '-',
    });
    assert.match(value.password, /^[A-Za-z0-9_-]{32}$/);
    // Never in what the task prints (its summary, its errors).
    assert.ok(!first.out.includes(value.password), 'the migrate task printed a password');
  }
  assert.notEqual(owner.password, app.password);
  // One version each, under the token derived from the secret's ARN, and it is AWSCURRENT.
  assert.deepEqual(await versions(p.arns.owner), [{ id: firstVersionToken(p.arns.owner), stages: ['AWSCURRENT'] }]);
  assert.deepEqual(await versions(p.arns.app), [{ id: firstVersionToken(p.arns.app), stages: ['AWSCURRENT'] }]);
  // A server that checks passwords accepts each role with its stored password, and refuses another one.
  assert.equal(await logIn(p.roles.app, app.password, p.database), p.roles.app);
  assert.equal(await logIn(p.roles.owner, owner.password, p.database), p.roles.owner);
  await assert.rejects(logIn(p.roles.app, owner.password, p.database), /password authentication failed/);

  // A second run generates nothing: same single version, same value, and the login still works.
  const second = await migrateCli(p.env);
  assert.equal(second.code, 0, second.out);
  assert.deepEqual(await current(p.arns.app), app);
  assert.deepEqual(await current(p.arns.owner), owner);
  assert.equal((await versions(p.arns.app)).length, 1);
  assert.equal((await versions(p.arns.owner)).length, 1);
  assert.equal(await logIn(p.roles.app, app.password, p.database), p.roles.app);
  assert.ok(!second.out.includes(app.password) && !second.out.includes(owner.password));
});

test('two migrate tasks at once agree on one password per role', async () => {
  const p = await platform();
  const runs = await Promise.all([runMigrations(p.env), runMigrations(p.env)]);
  assert.equal(runs.length, 2);
  for (const arn of [p.arns.owner, p.arns.app]) assert.deepEqual(await versions(arn), [{ id: firstVersionToken(arn), stages: ['AWSCURRENT'] }]);
  const app = await current(p.arns.app);
  assert.equal(await logIn(p.roles.app, app.password, p.database), p.roles.app);
});

test('racing writers of a first value: one is generated, every caller gets that one', async () => {
  const p = await platform();
  const first = () => ({ engine: 'postgres', host: 'h', port: 5432, dbname: 'd', username: 'u' });
  const results = await Promise.all(Array.from({ length: 6 }, () => currentSecretString(sm, p.arns.app, { variable: 'DB_APP_SECRET_ARN', first })));
  assert.equal(new Set(results.map((r) => r.secretString)).size, 1);
  assert.equal(results.filter((r) => r.generated).length, 1);
  assert.equal((await versions(p.arns.app)).length, 1);
  // A retry of the same request (same token, same value) is accepted and adds nothing.
  const again = await currentSecretString(sm, p.arns.app, { variable: 'DB_APP_SECRET_ARN', first });
  assert.deepEqual(again, { secretString: results[0].secretString, generated: false });
});

test('what cannot be generated is refused with the variable that names it, without a password', async () => {
  const p = await platform();
  const named = (variable) => (err) => err.name === 'ConfigError' && err.variable === variable;
  // The master secret is RDS's: an empty one is an error, not something to fill in.
  const emptyMaster = (await sm.send(new CreateSecretCommand({ Name: `catalog-db-master-empty-${p.id}` }))).ARN;
  await assert.rejects(runMigrations({ ...p.env, DB_MASTER_SECRET_ARN: emptyMaster }), named('DB_MASTER_SECRET_ARN'));
  // The owner's first value needs the owner role's name.
  await assert.rejects(runMigrations({ ...p.env, DB_OWNER_USER: '' }), named('DB_OWNER_USER'));
  // The CLI says it in one line and exits 2.
  const cli = await migrateCli({ ...p.env, DB_OWNER_USER: '' });
  assert.equal(cli.code, 2);
  assert.equal(cli.out.trim().split('\n').length, 1, cli.out);
  assert.match(cli.out, /DB_OWNER_USER/);
  // A secret that does not exist is not created here (the data layer creates them).
  const missing = p.arns.app.replace(/catalog-db-app-/, 'catalog-db-gone-');
  await assert.rejects(runMigrations({ ...p.env, DB_APP_SECRET_ARN: missing }), named('DB_APP_SECRET_ARN'));
});
