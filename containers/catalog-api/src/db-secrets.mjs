// The first value of the owner and app role secrets, made inside the account by the migrate task.
//
// The data layer creates both secrets without a value, so no database password ever passes through a Pulumi
// program, its config or its state. The first time the migrate task reads such a secret it finds no AWSCURRENT
// version: it generates a password here (node:crypto, 192 random bits), writes the whole RDS-shaped value
// (engine, host, port, dbname, username, password: what AWS's single-user rotation function reads later) with
// PutSecretValue, and src/db-roles.mjs then creates the role with it. Every later run reads that value (or the one
// rotation put there since) and never generates again.
//
// Retries and races: the version id (ClientRequestToken) of the first value is derived from the secret's ARN, so
// every run sends the same one. Secrets Manager keeps one version per token: a retried request with the same
// value is a no-op, and a concurrent run that generated another password gets ResourceExistsException; either
// way the run then reads AWSCURRENT back and uses what is stored, so all runs agree on one password.
//
// The password is never logged, never part of an error message and never returned in the task's summary.
import { createHash, randomBytes } from 'node:crypto';
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from './config.mjs';

// base64url of 24 bytes: 32 characters of [A-Za-z0-9_-], none of which the rotation template excludes
// (/ @ " ' space \ backtick) or PostgreSQL connection strings need escaped.
const PASSWORD_BYTES = 24;

export function generatePassword() {
  return randomBytes(PASSWORD_BYTES).toString('base64url');
}

/** The version id of a secret's first value: a UUID derived from its ARN, the same for every run. */
export function firstVersionToken(secretArn) {
  const h = createHash('sha256').update(`catalog first value ${secretArn}`).digest('hex');
  const variant = ((Number.parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * What the first value of a role secret holds besides the password, in the shape RDS and the rotation function
 * use. role: 'owner' | 'app'. The host is the cluster writer endpoint (DB_MIGRATE_HOST), where rotation logs in.
 */
export function firstSecretFields(env, dbConfig, role) {
  const username = role === 'app' ? dbConfig.user : env.DB_OWNER_USER?.trim();
  if (!username) throw new ConfigError('DB_OWNER_USER', 'is required to write the first value of DB_OWNER_SECRET_ARN (the role name it holds)');
  return {
    engine: 'postgres',
    host: env.DB_MIGRATE_HOST?.trim() || dbConfig.writerHost,
    port: dbConfig.port,
    dbname: dbConfig.database,
    username,
  };
}

const notFound = (err) => err?.name === 'ResourceNotFoundException';

async function readCurrent(client, arn) {
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  return SecretString;
}

/**
 * The secret's AWSCURRENT SecretString. When the secret exists without one and `first` is given (a function
 * returning the non-secret fields of the RDS shape, called only then), writes the first value with a generated
 * password and returns what is then current.
 * variable: the environment variable that named the secret, for errors. Returns { secretString, generated }.
 */
export async function currentSecretString(client, arn, { variable, first } = {}) {
  try {
    return { secretString: await readCurrent(client, arn), generated: false };
  } catch (err) {
    if (!notFound(err)) throw err;
  }
  // ResourceNotFoundException: no such secret, or a secret without an AWSCURRENT version yet.
  let described;
  try {
    described = await client.send(new DescribeSecretCommand({ SecretId: arn }));
  } catch (err) {
    if (notFound(err)) throw new ConfigError(variable, `names a secret that does not exist: ${arn}`);
    throw err;
  }
  const stages = Object.values(described.VersionIdsToStages ?? {}).flat();
  if (stages.includes('AWSCURRENT')) return { secretString: await readCurrent(client, arn), generated: false }; // written meanwhile
  if (!first) throw new ConfigError(variable, `secret ${arn} has no value (AWSCURRENT) yet`);
  const value = JSON.stringify({ ...first(), password: generatePassword() });
  try {
    await client.send(new PutSecretValueCommand({
      SecretId: arn, ClientRequestToken: firstVersionToken(described.ARN ?? arn), SecretString: value,
    }));
  } catch (err) {
    // Another run wrote the first value under the same token first: use that one.
    if (err?.name !== 'ResourceExistsException') throw new Error(`writing the first value of ${variable} failed: ${err?.name ?? 'Error'}`, { cause: err });
  }
  const secretString = await readCurrent(client, arn);
  return { secretString, generated: secretString === value };
}
