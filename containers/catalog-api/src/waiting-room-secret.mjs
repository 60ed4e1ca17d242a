// The waiting room's HMAC key from Secrets Manager (WAITING_ROOM_SECRET_ARN), read at cold start: the value never
// passes through the function's environment, a Pulumi program or its state.
//
// The secret's SecretString is the key itself (at least 32 bytes). AWSCURRENT signs and verifies; AWSPREVIOUS, when
// the secret has one, only verifies: after a rotation, tickets and passes signed with the old key (shoppers already
// in line, environments that started before it) stay valid. Environments re-read both every REFRESH_MS, so one that
// started before a rotation learns the new key within that time.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from './config.mjs';

export const MIN_KEY_BYTES = 32;
export const REFRESH_MS = 5 * 60_000;
const VARIABLE = 'WAITING_ROOM_SECRET_ARN';

async function stage(client, arn, VersionStage) {
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage }))).SecretString;
  } catch (err) {
    if (err?.name === 'ResourceNotFoundException') return undefined; // no such secret, or no version at this stage
    throw new Error(`${VARIABLE}: reading ${VersionStage} of ${arn} failed: ${err?.name ?? 'Error'}`, { cause: err });
  }
}

/**
 * { current, previous? } of the secret. source: { secretArn, region, secretsEndpoint } (loadWaitingRoomConfig).
 * A missing or short current value is a ConfigError naming the variable; a short previous one is not used.
 */
export async function loadSigningKeys({ secretArn, region, secretsEndpoint }) {
  const options = { region, endpoint: secretsEndpoint, maxAttempts: 3 };
  // A local stand-in (moto) accepts any key: as for DynamoDB (src/dynamo.mjs), no AWS credentials to configure.
  if (secretsEndpoint && !process.env.AWS_ACCESS_KEY_ID) options.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const client = new SecretsManagerClient(options);
  try {
    const current = await stage(client, secretArn, 'AWSCURRENT');
    if (current === undefined) throw new ConfigError(VARIABLE, `names a secret with no value (AWSCURRENT): ${secretArn}`);
    const bytes = Buffer.byteLength(current);
    if (bytes < MIN_KEY_BYTES) {
      throw new ConfigError(VARIABLE, `names a secret whose value is ${bytes} bytes: the HMAC key of tickets and passes must be at least ${MIN_KEY_BYTES} bytes (put a longer value)`);
    }
    const previous = await stage(client, secretArn, 'AWSPREVIOUS');
    return { current, previous: previous !== undefined && Buffer.byteLength(previous) >= MIN_KEY_BYTES && previous !== current ? previous : undefined };
  } finally {
    client.destroy();
  }
}
