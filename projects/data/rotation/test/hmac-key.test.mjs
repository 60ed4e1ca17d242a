// The HMAC-key strategy (hmac-key.mjs) against moto's Secrets Manager, driven as Secrets Manager drives a rotation:
// a version id (the token) labelled AWSPENDING with no value, then the four steps. The first rotation runs on a
// secret with no value at all, as the data layer creates it (rotate immediately): that is how the key's first value
// is made inside the account. moto cannot make the empty pending version, so `withPending` adds it to
// DescribeSecret's answer until createSecret stores the value (as rotation.test.mjs does).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { startMoto } from '../../../../containers/catalog-api/scripts/local-infra.mjs';
import { KEY_BYTES, generateKey, hmacSecretArns } from '../hmac-key.mjs';
import { RotationError, rotate } from '../index.mjs';

const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
let moto;
let sm;

before(async () => {
  moto = await startMoto();
  sm = new SecretsManagerClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: CREDENTIALS });
});

after(async () => {
  sm?.destroy();
  await moto?.stop();
});

const pendingTokens = new Map();
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

/** An empty secret with rotation on, as the data layer declares the waiting room's key. */
async function emptyRotatingSecret() {
  const { ARN: arn } = await sm.send(new CreateSecretCommand({ Name: `catalog-waiting-room-${randomUUID().slice(0, 8)}` }));
  await sm.send(new RotateSecretCommand({ SecretId: arn, RotationRules: { AutomaticallyAfterDays: 30 }, RotateImmediately: false }));
  return arn;
}

function started(arn) {
  const token = randomUUID();
  pendingTokens.set(arn, token);
  return token;
}

const run = (arn, token, step, env) => rotate({ SecretId: arn, ClientRequestToken: token, Step: step },
  { sm: withPending, env: env ?? { HMAC_KEY_SECRET_ARNS: `arn:aws:secretsmanager:us-east-1:123456789012:secret:other,${arn}` } });
const value = async (arn, stage) => (await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: stage }))).SecretString;
const stages = async (arn) => (await sm.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages;

async function fullRotation(arn, token, { twice = false } = {}) {
  for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
    await run(arn, token, step);
    if (twice) await run(arn, token, step);
  }
  pendingTokens.delete(arn);
}

test('the first rotation of an empty secret makes its first key: AWSCURRENT, 48 random bytes', async () => {
  const arn = await emptyRotatingSecret();
  const token = started(arn);
  await fullRotation(arn, token);
  const key = await value(arn, 'AWSCURRENT');
  assert.equal(Buffer.from(key, 'base64url').length, KEY_BYTES);
  assert.ok(Buffer.byteLength(key) >= 32, 'the API requires at least 32 bytes');
  assert.ok((await stages(arn))[token].includes('AWSCURRENT'));
});

test('a later rotation keeps the previous key as AWSPREVIOUS (the API still verifies tokens signed with it)', async () => {
  const arn = await emptyRotatingSecret();
  await fullRotation(arn, started(arn));
  const first = await value(arn, 'AWSCURRENT');
  const token = started(arn);
  await fullRotation(arn, token);
  const second = await value(arn, 'AWSCURRENT');
  assert.notEqual(second, first);
  assert.equal(await value(arn, 'AWSPREVIOUS'), first);
});

test('every step retried is idempotent: one pending key, the same end state', async () => {
  const arn = await emptyRotatingSecret();
  const token = started(arn);
  await run(arn, token, 'createSecret');
  const pending = (await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionId: token }))).SecretString;
  await fullRotation(arn, token, { twice: true });
  assert.equal(await value(arn, 'AWSCURRENT'), pending);
  const current = Object.entries(await stages(arn)).filter(([, s]) => s.includes('AWSCURRENT'));
  assert.deepEqual(current.map(([id]) => id), [token]);
});

test('a pending key too short to sign with fails testSecret in one line, the key not in it', async () => {
  const arn = await emptyRotatingSecret();
  await fullRotation(arn, started(arn)); // a key in place: a first value would be AWSCURRENT at once
  const token = started(arn);
  await sm.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token, SecretString: 'short-key', VersionStages: ['AWSPENDING'] }));
  await assert.rejects(run(arn, token, 'testSecret'), (err) => err instanceof RotationError
    && /shorter than 32 bytes/.test(err.message) && !err.message.includes('short-key'));
  pendingTokens.delete(arn);
});

test('a secret not named in HMAC_KEY_SECRET_ARNS goes to the database strategy (which needs an RDS-shaped AWSCURRENT)', async () => {
  const arn = await emptyRotatingSecret();
  const token = started(arn);
  await assert.rejects(run(arn, token, 'createSecret', {}), (err) => err?.name === 'ResourceNotFoundException' || err instanceof RotationError);
  assert.equal((await stages(arn) ?? {})[token], undefined, 'no value was stored');
  pendingTokens.delete(arn);
});

test('keys are random and the ARN list is a trimmed comma list', () => {
  assert.notEqual(generateKey(), generateKey());
  assert.deepEqual([...hmacSecretArns({ HMAC_KEY_SECRET_ARNS: ' a , ,b' })], ['a', 'b']);
  assert.equal(hmacSecretArns({}).size, 0);
});
