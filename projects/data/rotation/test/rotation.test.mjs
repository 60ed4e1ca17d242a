// The rotation function against a real PostgreSQL that checks passwords (SCRAM, a private server of this file's
// own) and moto's Secrets Manager server, each step driven as Secrets Manager drives it: a rotation starts with a
// version id (the token) labelled AWSPENDING and no value yet, then createSecret, setSecret, testSecret and
// finishSecret run with that token. moto cannot make that empty version (its RotateSecret without a Lambda moves
// AWSCURRENT at once), so `withPending` adds it to DescribeSecret's answer until createSecret stores the value;
// everything else is moto's. The two servers come from the API's local-infrastructure helpers (test-only).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { startMoto } from '../../../../containers/catalog-api/scripts/local-infra.mjs';
import { startEmbeddedPostgres } from '../../../../containers/catalog-api/scripts/local-postgres.mjs';
import {
  DEFAULT_EXCLUDE, RotationError, generatePassword, handler, parseSecret, rotate,
} from '../index.mjs';
import { scramVerifier } from '../scram.mjs';

const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
let server; // PostgreSQL with scram-sha-256 for every login; superuser postgres/postgres
let moto;
let sm;
let savedEnv;

before(async () => {
  savedEnv = { ...process.env };
  server = await startEmbeddedPostgres({ auth: 'scram-sha-256' });
  moto = await startMoto();
  sm = new SecretsManagerClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: CREDENTIALS });
});

after(async () => {
  sm?.destroy();
  await moto?.stop();
  await server?.stop();
  if (savedEnv) process.env = savedEnv;
});

async function asAdmin(fn) {
  const client = new pg.Client({ host: server.host, port: server.port, user: 'postgres', password: server.password, database: 'postgres' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function logIn(user, password) {
  const client = new pg.Client({ host: server.host, port: server.port, user, password, database: 'postgres' });
  await client.connect();
  try {
    return (await client.query('SELECT current_user AS me')).rows[0].me;
  } finally {
    await client.end();
  }
}

const pendingTokens = new Map(); // secret ARN -> the token of the rotation Secrets Manager started

/** moto plus the one thing it lacks: the AWSPENDING version without a value that starts a rotation. */
const withPending = {
  async send(command) {
    const out = await sm.send(command);
    const token = pendingTokens.get(command.input?.SecretId);
    if (command instanceof DescribeSecretCommand && token && !(token in (out.VersionIdsToStages ?? {}))) {
      return { ...out, VersionIdsToStages: { ...out.VersionIdsToStages, [token]: ['AWSPENDING'] } };
    }
    return out;
  },
};

/** A secret with rotation on (set before its first value, as the data layer does) and its first value. */
async function rotatingSecret(value, name) {
  const { ARN: arn } = await sm.send(new CreateSecretCommand({ Name: name }));
  await sm.send(new RotateSecretCommand({ SecretId: arn, RotationRules: { AutomaticallyAfterDays: 30 }, RotateImmediately: false }));
  await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: typeof value === 'string' ? value : JSON.stringify(value) }));
  return arn;
}

function startRotation(arn) {
  const token = randomUUID();
  pendingTokens.set(arn, token);
  return token;
}

/** A role with a password, its secret (RDS single-user shape) and a rotation started: { arn, user, first, token }. */
async function rotationStarted() {
  const user = `rot_${randomBytes(4).toString('hex')}`;
  const first = generatePassword();
  await asAdmin((c) => c.query(`CREATE ROLE ${user} LOGIN PASSWORD '${scramVerifier(first)}'`));
  const value = { engine: 'postgres', host: server.host, port: server.port, dbname: 'postgres', username: user, password: first };
  const arn = await rotatingSecret(value, `catalog-db-${user}`);
  return { arn, user, first, token: startRotation(arn) };
}

const step = (r, name) => rotate({ SecretId: r.arn, ClientRequestToken: r.token, Step: name }, { sm: withPending });
const value = async (arn, stage, versionId) => JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: stage, VersionId: versionId }))).SecretString);
const stages = async (arn) => (await sm.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages;

test('a full rotation: the new password logs in, the old one is refused, AWSCURRENT moved and AWSPREVIOUS kept', async () => {
  const r = await rotationStarted();
  const logged = [];
  const realLog = console.log;
  console.log = (line) => logged.push(String(line));
  try {
    for (const name of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await step(r, name);
  } finally {
    console.log = realLog;
  }
  const now = await value(r.arn, 'AWSCURRENT');
  assert.notEqual(now.password, r.first);
  assert.deepEqual({ ...now, password: '-' }, { engine: 'postgres', host: server.host, port: server.port, dbname: 'postgres', username: r.user, password: '-' });
  assert.equal(now.password.length, 32);
  assert.ok(![...DEFAULT_EXCLUDE].some((c) => now.password.includes(c)), 'an excluded character in the password');
  assert.equal(await logIn(r.user, now.password), r.user);
  await assert.rejects(logIn(r.user, r.first), /password authentication failed/);
  const versions = await stages(r.arn);
  // AWSPENDING may stay on the new version next to AWSCURRENT (Secrets Manager clears it): only one is current.
  assert.ok(versions[r.token].includes('AWSCURRENT'));
  assert.deepEqual(Object.values(versions).filter((s) => s.includes('AWSCURRENT')).length, 1);
  assert.equal((await value(r.arn, 'AWSPREVIOUS')).password, r.first);
  // Neither password in what the function logs.
  assert.ok(logged.length >= 4);
  assert.ok(!logged.some((l) => l.includes(now.password) || l.includes(r.first)), 'a password was logged');
  // The server stores a SCRAM verifier for the role (the ALTER ROLE sent one, never the plain text).
  const { rows } = await asAdmin((c) => c.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [r.user]));
  assert.match(rows[0].rolpassword, /^SCRAM-SHA-256\$4096:/);
});

test('every step retried is idempotent: one pending value, one password change, the same end state', async () => {
  const r = await rotationStarted();
  await step(r, 'createSecret');
  const pending = await value(r.arn, 'AWSPENDING', r.token);
  await step(r, 'createSecret'); // retried: keeps the value it stored
  assert.deepEqual(await value(r.arn, 'AWSPENDING', r.token), pending);
  await step(r, 'setSecret');
  const verifier = async () => (await asAdmin((c) => c.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [r.user]))).rows[0].rolpassword;
  const set = await verifier();
  await step(r, 'setSecret'); // retried: the pending password already logs in, nothing is changed
  assert.equal(await verifier(), set);
  await step(r, 'testSecret');
  await step(r, 'testSecret');
  await step(r, 'finishSecret');
  await step(r, 'finishSecret'); // retried: already AWSCURRENT
  for (const name of ['createSecret', 'setSecret', 'testSecret']) await step(r, name); // a late retry changes nothing
  assert.equal((await value(r.arn, 'AWSCURRENT')).password, pending.password);
  assert.equal(await verifier(), set);
  assert.equal(await logIn(r.user, pending.password), r.user);
});

test('setSecret after the password was already set (a retry whose first run succeeded) passes without a login as current', async () => {
  const r = await rotationStarted();
  await step(r, 'createSecret');
  const pending = await value(r.arn, 'AWSPENDING', r.token);
  // The database already has the pending password and AWSCURRENT's no longer works.
  await asAdmin((c) => c.query(`ALTER ROLE ${r.user} PASSWORD '${scramVerifier(pending.password)}'`));
  await assert.rejects(logIn(r.user, r.first), /password authentication failed/);
  await step(r, 'setSecret');
  await step(r, 'testSecret');
  await step(r, 'finishSecret');
  assert.equal(await logIn(r.user, (await value(r.arn, 'AWSCURRENT')).password), r.user);
});

test('setSecret logs in with AWSPREVIOUS when AWSCURRENT is refused (a database restored to before the last rotation)', async () => {
  const r = await rotationStarted();
  for (const name of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await step(r, name);
  await asAdmin((c) => c.query(`ALTER ROLE ${r.user} PASSWORD '${scramVerifier(r.first)}'`)); // back to the old one
  const next = { ...r, token: startRotation(r.arn) };
  for (const name of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await step(next, name);
  assert.equal(await logIn(r.user, (await value(r.arn, 'AWSCURRENT')).password), r.user);
});

test('no version logs in: setSecret fails in one line naming the secret, no password in it', async () => {
  const r = await rotationStarted();
  await step(r, 'createSecret');
  await asAdmin((c) => c.query(`ALTER ROLE ${r.user} PASSWORD '${scramVerifier(generatePassword())}'`));
  const pending = await value(r.arn, 'AWSPENDING', r.token);
  await assert.rejects(step(r, 'setSecret'), (err) => {
    assert.ok(err instanceof RotationError);
    assert.match(err.message, /neither the pending, current nor previous password of .* logs in as rot_/);
    assert.ok(!err.message.includes(pending.password) && !err.message.includes(r.first));
    return true;
  });
  await assert.rejects(step(r, 'testSecret'), /testSecret: the pending password of .* does not log in/);
});

test('a secret of the wrong shape fails with a clear error, before anything changes', async () => {
  const user = `rot_${randomBytes(4).toString('hex')}`;
  const bad = [
    [{ engine: 'mysql', host: server.host, username: user, password: 'x' }, /has engine "mysql": this function rotates "postgres" secrets/],
    [{ engine: 'postgres', host: server.host, password: 'x' }, /has no "username" string/],
    [{ engine: 'postgres', host: server.host, username: user, password: 'x', port: 'abc' }, /has port "abc": not a TCP port/],
  ];
  bad.push(['plain text', /is not JSON/]);
  for (const [secret, message] of bad) {
    const arn = await rotatingSecret(secret, `catalog-db-bad-${randomBytes(4).toString('hex')}`);
    const token = startRotation(arn);
    await assert.rejects(rotate({ SecretId: arn, ClientRequestToken: token, Step: 'createSecret' }, { sm: withPending }), message);
    assert.equal((await stages(arn))[token], undefined); // no pending value was stored
  }
  assert.throws(() => parseSecret('[1]', 'secret s'), /secret s is not a JSON object/);
});

test('events that are not a rotation of this secret are refused', async () => {
  const r = await rotationStarted();
  const sm2 = withPending;
  await assert.rejects(rotate({ SecretId: r.arn, Step: 'createSecret' }, { sm: sm2 }), /the rotation event has no ClientRequestToken/);
  await assert.rejects(rotate({ SecretId: r.arn, ClientRequestToken: r.token, Step: 'dropSecret' }, { sm: sm2 }), /unknown rotation step "dropSecret"/);
  await assert.rejects(rotate({ SecretId: r.arn, ClientRequestToken: randomUUID(), Step: 'createSecret' }, { sm: sm2 }), /has no version .* to rotate to/);
  const { ARN: plain } = await sm.send(new CreateSecretCommand({ Name: `catalog-db-norot-${randomBytes(4).toString('hex')}`, SecretString: '{}' }));
  await assert.rejects(rotate({ SecretId: plain, ClientRequestToken: r.token, Step: 'createSecret' }, { sm: sm2 }), /is not enabled for rotation/);
  // A version that is neither pending nor current (the previous one, after a rotation) is not rotated to.
  for (const name of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await step(r, name);
  const previous = Object.entries(await stages(r.arn)).find(([, s]) => s.includes('AWSPREVIOUS'))[0];
  await assert.rejects(rotate({ SecretId: r.arn, ClientRequestToken: previous, Step: 'setSecret' }, { sm: sm2 }), /is not AWSPENDING/);
});

test('the Lambda entry point reads the endpoint and region from its environment', async () => {
  const r = await rotationStarted();
  // Through the real client (no stand-in): the pending value exists, as after a createSecret that ran before.
  const password = generatePassword();
  await sm.send(new PutSecretValueCommand({ SecretId: r.arn, ClientRequestToken: r.token, VersionStages: ['AWSPENDING'],
    SecretString: JSON.stringify({ ...(await value(r.arn, 'AWSCURRENT')), password }) }));
  Object.assign(process.env, { SECRETS_MANAGER_ENDPOINT: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
  for (const name of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
    await handler({ SecretId: r.arn, ClientRequestToken: r.token, Step: name });
  }
  assert.equal((await value(r.arn, 'AWSCURRENT')).password, password);
  assert.equal(await logIn(r.user, password), r.user);
});

test('passwords use the whole allowed alphabet and never an excluded character', () => {
  const seen = new Set();
  for (let i = 0; i < 200; i += 1) for (const c of generatePassword()) seen.add(c);
  assert.equal(seen.size, 94 - DEFAULT_EXCLUDE.replace(' ', '').length);
  for (const c of DEFAULT_EXCLUDE) assert.ok(!seen.has(c), c);
  assert.ok(![...generatePassword('abc', 64)].some((c) => 'abc'.includes(c)));
});
