// The waiting room's HMAC key from Secrets Manager (WAITING_ROOM_SECRET_ARN) against moto: read at start, AWSCURRENT
// signs, AWSPREVIOUS still verifies after a rotation, a short value stops start-up naming the variable.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createWaitingRoomTable } from '../scripts/waiting-room-table.mjs';
import { ConfigError } from '../src/config.mjs';
import { startServer } from '../src/server.mjs';
import { Signer, TokenError } from '../src/waiting-room.mjs';
import { loadWaitingRoomConfig } from '../src/waiting-room-config.mjs';
import { loadSigningKeys } from '../src/waiting-room-secret.mjs';
import { call, setupInfra } from './helpers.mjs';
import { userHeaders } from './identity.mjs';

const KEY1 = 'first-waiting-room-key-0123456789abcdef';
const KEY2 = 'second-waiting-room-key-0123456789abcdef';
let infra;
let sm;
let table;
const secretEnv = (arn) => ({ WAITING_ROOM_SKUS: 'SKU-000001', WAITING_ROOM_TABLE: table, WAITING_ROOM_SECRET_ARN: arn, SECRETS_MANAGER_ENDPOINT: infra.moto.endpoint, WAITING_ROOM_CONTROLLER_MS: '0' });

before(async () => {
  infra = await setupInfra();
  table = `catalog-waitingroom-sec${process.pid}`;
  await createWaitingRoomTable({ endpoint: infra.moto.endpoint, name: table });
  sm = new SecretsManagerClient({ region: 'us-east-1', endpoint: infra.moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
});

after(async () => {
  sm?.destroy();
  await infra?.cleanup();
});

const create = async (name, value) => (await sm.send(new CreateSecretCommand({ Name: `catalog/${name}-${infra.id}`, SecretString: value }))).ARN;

test('settings: exactly one of the key and its ARN, and a real ARN', () => {
  const base = { WAITING_ROOM_SKUS: 'SKU-000001', WAITING_ROOM_TABLE: 'catalog-waitingroom-dev' };
  const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:catalog/waitingroom-AbCdEf';
  const c = loadWaitingRoomConfig({ ...base, WAITING_ROOM_SECRET_ARN: arn, AWS_REGION: 'eu-west-1' });
  assert.deepEqual([c.secret, c.secretArn, c.region], [undefined, arn, 'eu-west-1']);
  for (const [env, variable] of [[{ WAITING_ROOM_SECRET_ARN: arn, WAITING_ROOM_SECRET: KEY1 }, 'WAITING_ROOM_SECRET'],
    [{ WAITING_ROOM_SECRET_ARN: 'catalog/waitingroom' }, 'WAITING_ROOM_SECRET_ARN'], [{}, 'WAITING_ROOM_SECRET']]) {
    assert.throws(() => loadWaitingRoomConfig({ ...base, ...env }), (err) => err instanceof ConfigError && err.variable === variable, variable);
  }
});

test('AWSCURRENT signs; after a rotation AWSPREVIOUS still verifies what the old key signed', async () => {
  const arn = await create('waitingroom', KEY1);
  const source = { secretArn: arn, region: 'us-east-1', secretsEndpoint: infra.moto.endpoint };
  const first = await loadSigningKeys(source);
  assert.deepEqual(first, { current: KEY1, previous: undefined });
  const before = new Signer(first.current).sign({ k: 't', sku: 'SKU-000001', sub: 'a', arr: 1 });

  await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: KEY2 })); // a rotation: KEY1 becomes AWSPREVIOUS
  const keys = await loadSigningKeys(source);
  assert.deepEqual(keys, { current: KEY2, previous: KEY1 });
  const signer = new Signer(keys.current, [keys.previous]);
  assert.equal(signer.open(before).sub, 'a', 'a ticket signed before the rotation still verifies');
  assert.equal(new Signer(KEY2).open(signer.sign({ k: 't', sub: 'b' })).sub, 'b', 'new tokens are signed with AWSCURRENT');
  const stranger = new Signer('z'.repeat(40)).sign({ k: 't', sub: 'c' });
  assert.throws(() => signer.open(stranger), TokenError);
});

test('the API reads the key at start and signs with it; a short value stops start-up naming the variable', async () => {
  const arn = await create('waitingroom-api', KEY1);
  const server = await startServer({ env: { ...infra.env, ...secretEnv(arn) }, port: 0, runtimeOptions: { metricsWrite: () => {} } });
  try {
    const r = await call(server.url, '/api/products/SKU-000001/queue', { method: 'POST', headers: await userHeaders('sec-shopper'), json: {} });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(new Signer(KEY1).open(r.body.ticket).sub, 'sec-shopper', 'the ticket is signed with the secret\'s key');
  } finally {
    await server.close();
  }
  const short = await create('waitingroom-short', 'only-20-bytes-long!!');
  await assert.rejects(startServer({ env: { ...infra.env, ...secretEnv(short) }, port: 0 }),
    (err) => err instanceof ConfigError && err.variable === 'WAITING_ROOM_SECRET_ARN' && /20 bytes.*at least 32/.test(err.message) && !err.message.includes('only-20'));
  const missing = secretEnv(`${arn.slice(0, -6)}Zzzzzz`).WAITING_ROOM_SECRET_ARN;
  await assert.rejects(startServer({ env: { ...infra.env, ...secretEnv(missing) }, port: 0 }),
    (err) => err instanceof ConfigError && err.variable === 'WAITING_ROOM_SECRET_ARN');
});
