// The HMAC-key strategy of the data layer's rotation function: secrets that hold a signing key nothing outside
// Secrets Manager knows (the waiting room's ticket and pass key). Same four steps and retry rules as the database
// strategy (index.mjs), but no service to update: the readers (the API) accept AWSCURRENT and AWSPREVIOUS, so a
// token signed just before a rotation keeps verifying.
//   createSecret: a new random key under AWSPENDING (kept when a retry finds it already stored); works on a
//                 secret with no value yet, which is how the key's first value is made inside the account;
//   setSecret:    nothing to set;
//   testSecret:   the pending key is long enough to sign with;
//   finishSecret: shared with the database strategy (move AWSCURRENT; AWSPREVIOUS follows).
// The key is never logged nor part of an error message.
import { randomBytes } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';

// 48 random bytes, base64url: 64 characters. The API requires at least 32 bytes of key (HMAC-SHA256's block is 64).
export const KEY_BYTES = 48;
export const MIN_KEY_BYTES = 32;

export function generateKey() {
  return randomBytes(KEY_BYTES).toString('base64url');
}

/** The ARNs (comma list in HMAC_KEY_SECRET_ARNS) this strategy rotates; every other secret is a database one. */
export function hmacSecretArns(env) {
  return new Set((env.HMAC_KEY_SECRET_ARNS ?? '').split(',').map((s) => s.trim()).filter(Boolean));
}

const log = (message) => console.log(JSON.stringify({ level: 'INFO', message }));
const notFound = (err) => err?.name === 'ResourceNotFoundException';

async function pendingKey(sm, arn, token) {
  try {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionId: token, VersionStage: 'AWSPENDING' }));
    return out.SecretString ?? null;
  } catch (err) {
    if (notFound(err)) return null;
    throw err;
  }
}

export async function createKey(sm, arn, token) {
  if (await pendingKey(sm, arn, token)) {
    log(`createSecret: ${arn} version ${token} already holds a pending key`);
    return;
  }
  await sm.send(new PutSecretValueCommand({
    SecretId: arn, ClientRequestToken: token, SecretString: generateKey(), VersionStages: ['AWSPENDING'],
  }));
  log(`createSecret: stored a new pending key for ${arn} version ${token}`);
}

export async function testKey(sm, arn, token, RotationError) {
  const key = await pendingKey(sm, arn, token);
  if (!key || Buffer.byteLength(key) < MIN_KEY_BYTES) {
    throw new RotationError(`testSecret: the pending key of ${arn} is shorter than ${MIN_KEY_BYTES} bytes`);
  }
  log(`testSecret: the pending key of ${arn} is usable`);
}
