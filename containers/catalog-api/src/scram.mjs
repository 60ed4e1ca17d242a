// The SCRAM-SHA-256 verifier, in one place for the two writers of database passwords: the migrate task
// (src/db-roles.mjs) and the data layer's rotation function (projects/data/rotation, whose scram.mjs links here and
// is zipped from this copy). Both send PostgreSQL the verifier, never the password: an audit log of the statement holds no secret.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * The verifier PostgreSQL stores for a SCRAM-SHA-256 password (RFC 5802 / 7677, the format of pg_authid and of
 * libpq's PQencryptPasswordConn): the server accepts it in ALTER ROLE ... PASSWORD and stores it unchanged.
 */
export function scramVerifier(password, { iterations = 4096, salt = randomBytes(16) } = {}) {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const hmac = (key, text) => createHmac('sha256', key).update(text).digest();
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
