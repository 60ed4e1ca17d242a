// Secrets Manager rotation function of the data layer. Single-user PostgreSQL strategy (this file): the owner and
// app role secrets; HMAC-key strategy (hmac-key.mjs): the secrets named in HMAC_KEY_SECRET_ARNS. Secrets Manager invokes it four times per rotation, each with the secret's ARN (SecretId), the new
// version's id (ClientRequestToken) and the Step; every step may be retried, so each one is idempotent:
//   createSecret: AWSCURRENT's fields with a new password, stored as the token's version under AWSPENDING;
//   setSecret:    log in (AWSPENDING first: already set means done; else AWSCURRENT, else AWSPREVIOUS) and
//                 ALTER ROLE to the pending password, sent as a SCRAM-SHA-256 verifier (never the plain text);
//   testSecret:   log in with AWSPENDING;
//   finishSecret: move AWSCURRENT to the token's version (AWSPREVIOUS follows automatically).
// The same protocol and the same retry rules as AWS's template (SecretsManagerRDSPostgreSQLRotationSingleUser).
// Passwords are never logged nor part of an error message.
import { randomInt } from 'node:crypto';
import {
  DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { createKey, hmacSecretArns, testKey } from './hmac-key.mjs';
import { scramVerifier } from './scram.mjs';

export const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
// What breaks a connection string or the RDS password rules; the data layer passes the same set (credentials.py).
export const DEFAULT_EXCLUDE = "/@\"' \\`";
export const PASSWORD_LENGTH = 32;
const CONNECT_TIMEOUT_MS = 5000;
// SQLSTATE of a refused login (invalid_password, invalid_authorization_specification): try the next version.
const REFUSED = new Set(['28P01', '28000']);

/** An error the function reports as is: one line, nothing secret in it. */
export class RotationError extends Error {
  constructor(message) {
    super(message);
    this.name = 'RotationError';
  }
}

const log = (message) => console.log(JSON.stringify({ level: 'INFO', message }));

/** A password of printable ASCII without `exclude`, each character drawn uniformly (crypto.randomInt). */
export function generatePassword(exclude = DEFAULT_EXCLUDE, length = PASSWORD_LENGTH) {
  const alphabet = [];
  for (let code = 33; code <= 126; code += 1) {
    const c = String.fromCharCode(code);
    if (!exclude.includes(c)) alphabet.push(c);
  }
  let out = '';
  for (let i = 0; i < length; i += 1) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** The RDS single-user secret shape: engine postgres, host, username, password; port and dbname defaulted. */
export function parseSecret(secretString, what) {
  let value;
  try {
    value = JSON.parse(secretString ?? '');
  } catch {
    throw new RotationError(`${what} is not JSON: a single-user PostgreSQL secret is {"engine":"postgres","host","port","dbname","username","password"}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RotationError(`${what} is not a JSON object`);
  for (const key of ['host', 'username', 'password']) {
    if (typeof value[key] !== 'string' || value[key] === '') throw new RotationError(`${what} has no "${key}" string`);
  }
  if (value.engine !== 'postgres') throw new RotationError(`${what} has engine ${JSON.stringify(value.engine ?? null)}: this function rotates "postgres" secrets`);
  const port = value.port === undefined ? 5432 : Number(value.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RotationError(`${what} has port ${JSON.stringify(value.port)}: not a TCP port`);
  return { ...value, port, dbname: value.dbname || 'postgres' };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** TLS to every database host, the certificate checked (Amazon's CAs through NODE_EXTRA_CA_CERTS); only a
 * loopback server (the tests') is reached in plain text. */
export function tlsOptions(host) {
  return LOOPBACK.has(host) ? false : { rejectUnauthorized: true };
}

/** A connected client, or null when the server refuses the credentials; any other failure is thrown. */
async function logIn(secret) {
  const client = new pg.Client({
    host: secret.host, port: secret.port, database: secret.dbname, user: secret.username, password: secret.password,
    ssl: tlsOptions(secret.host), connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'secrets-rotation',
  });
  client.on('error', () => {}); // a dropped connection surfaces in the next query instead of crashing the process
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => {});
    if (REFUSED.has(err?.code)) return null;
    throw new RotationError(`cannot reach PostgreSQL at ${secret.host}:${secret.port} as ${secret.username}: ${err?.code ?? err?.message}`);
  }
}

function smClient() {
  const endpoint = process.env.SECRETS_MANAGER_ENDPOINT?.trim() || undefined;
  return new SecretsManagerClient({ endpoint });
}

const notFound = (err) => err?.name === 'ResourceNotFoundException';

async function secretAt(sm, arn, stage, versionId) {
  const what = `secret ${arn} (${stage}${versionId ? ` ${versionId}` : ''})`;
  const { SecretString } = await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: stage, VersionId: versionId }));
  return parseSecret(SecretString, what);
}

async function createSecret(sm, arn, token, env) {
  const current = await secretAt(sm, arn, 'AWSCURRENT');
  try {
    await secretAt(sm, arn, 'AWSPENDING', token);
    log(`createSecret: ${arn} version ${token} already holds a pending value`);
    return;
  } catch (err) {
    if (!notFound(err)) throw err;
  }
  const password = generatePassword(env.EXCLUDE_CHARACTERS ?? DEFAULT_EXCLUDE);
  await sm.send(new PutSecretValueCommand({
    SecretId: arn, ClientRequestToken: token, SecretString: JSON.stringify({ ...current, password }),
    VersionStages: ['AWSPENDING'],
  }));
  log(`createSecret: stored a new pending value for ${arn} version ${token}`);
}

async function setSecret(sm, arn, token) {
  const pending = await secretAt(sm, arn, 'AWSPENDING', token);
  const already = await logIn(pending);
  if (already) {
    await already.end();
    log(`setSecret: the pending password of ${arn} already logs in`);
    return;
  }
  const current = await secretAt(sm, arn, 'AWSCURRENT');
  for (const key of ['username', 'host']) {
    if (current[key] !== pending[key]) throw new RotationError(`setSecret: the pending ${key} of ${arn} differs from the current one`);
  }
  let client = await logIn(current);
  if (!client) {
    // AWSCURRENT refused (e.g. the cluster was restored from a snapshot taken before the last rotation): the
    // role may still have the previous password, which AWS's template tries too.
    let previous;
    try {
      previous = await secretAt(sm, arn, 'AWSPREVIOUS');
    } catch (err) {
      if (!notFound(err)) throw err;
    }
    if (previous && (previous.username !== pending.username || previous.host !== pending.host)) {
      throw new RotationError(`setSecret: the previous username/host of ${arn} differs from the pending one`);
    }
    client = previous ? await logIn(previous) : null;
  }
  if (!client) throw new RotationError(`setSecret: neither the pending, current nor previous password of ${arn} logs in as ${pending.username}`);
  try {
    // DDL takes no bind parameters. The verifier, not the password: an audit log of role changes (pgaudit) or a
    // failed statement in the server log must never hold it.
    const role = client.escapeIdentifier(pending.username);
    await client.query(`ALTER ROLE ${role} PASSWORD ${client.escapeLiteral(scramVerifier(pending.password))}`);
  } finally {
    await client.end().catch(() => {});
  }
  log(`setSecret: ${pending.username} now logs in with the pending password of ${arn}`);
}

async function testSecret(sm, arn, token) {
  const pending = await secretAt(sm, arn, 'AWSPENDING', token);
  const client = await logIn(pending);
  if (!client) throw new RotationError(`testSecret: the pending password of ${arn} does not log in as ${pending.username}`);
  try {
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => {});
  }
  log(`testSecret: the pending password of ${arn} logs in`);
}

async function finishSecret(sm, arn, token, versions) {
  const current = Object.entries(versions).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
  if (current === token) {
    log(`finishSecret: ${arn} version ${token} is already AWSCURRENT`);
    return;
  }
  await sm.send(new UpdateSecretVersionStageCommand({
    SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: current,
  }));
  log(`finishSecret: ${arn} version ${token} is AWSCURRENT`);
}

/** One step of a rotation. sm: a Secrets Manager client; env: EXCLUDE_CHARACTERS, HMAC_KEY_SECRET_ARNS (the
 * secrets rotated by the HMAC-key strategy, hmac-key.mjs). */
export async function rotate(event, { sm, env = process.env } = {}) {
  const { SecretId: arn, ClientRequestToken: token, Step: step } = event ?? {};
  for (const [key, value] of [['SecretId', arn], ['ClientRequestToken', token], ['Step', step]]) {
    if (typeof value !== 'string' || !value) throw new RotationError(`the rotation event has no ${key}`);
  }
  if (!STEPS.includes(step)) throw new RotationError(`unknown rotation step ${JSON.stringify(step)}: one of ${STEPS.join(', ')}`);
  const described = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
  if (!described.RotationEnabled) throw new RotationError(`secret ${arn} is not enabled for rotation`);
  const versions = described.VersionIdsToStages ?? {};
  if (!(token in versions)) throw new RotationError(`secret ${arn} has no version ${token} to rotate to`);
  if (versions[token].includes('AWSCURRENT')) {
    log(`${step}: ${arn} version ${token} is already AWSCURRENT`);
    return;
  }
  if (!versions[token].includes('AWSPENDING')) throw new RotationError(`secret ${arn} version ${token} is not AWSPENDING`);
  if (hmacSecretArns(env).has(arn)) {
    if (step === 'createSecret') return createKey(sm, arn, token);
    if (step === 'setSecret') return log(`setSecret: ${arn} is a key only Secrets Manager holds: nothing to set`);
    if (step === 'testSecret') return testKey(sm, arn, token, RotationError);
    return finishSecret(sm, arn, token, versions);
  }
  if (step === 'createSecret') return createSecret(sm, arn, token, env);
  if (step === 'setSecret') return setSecret(sm, arn, token);
  if (step === 'testSecret') return testSecret(sm, arn, token);
  return finishSecret(sm, arn, token, versions);
}

let client;

/** Lambda's entry point (handler index.handler). */
export async function handler(event) {
  client ??= smClient();
  return rotate(event, { sm: client });
}
