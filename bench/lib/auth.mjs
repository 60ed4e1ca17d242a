// Bearer tokens for API writes. The API under test may or may not check them
// yet (AUTH_ISSUER / AUTH_AUDIENCE / AUTH_PUBLIC_KEY_PEM): a fresh EC P-256
// key pair per run, its public PEM in the API's env, ES256 tokens signed with
// jose. An API that ignores the variables ignores the header too.
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';

// The edge's trusted role header, still read by an API without token checks.
const ROLE_HEADER = 'x-catalog-role';
const ISSUER = 'https://bench.catalog.local/';
const AUDIENCE = 'catalog-api';
const LIFETIME_S = 3600;

export async function benchAuth() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const env = {
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_PUBLIC_KEY_PEM: publicKey.export({ type: 'spki', format: 'pem' }),
  };
  // Signed ahead of time and reused: ES256 signing per request would cost the generator's CPU, not the API's.
  const tokens = new Map();
  async function sign(role) {
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ role, roles: [role], scope: role === 'admin' ? 'catalog:write catalog:admin' : 'catalog:write' })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(`bench-${role}`)
      .setIssuedAt(now).setExpirationTime(now + LIFETIME_S)
      .sign(privateKey);
    const entry = { expires: now + LIFETIME_S, headers: { authorization: `Bearer ${jwt}`, ...(role === 'admin' ? { [ROLE_HEADER]: 'admin' } : {}) } };
    tokens.set(role, entry);
    return entry;
  }
  await sign('shopper');
  await sign('admin');
  return {
    env,
    /** Headers for one request (synchronous: the generator calls it per request); re-signs before expiry. */
    headers(role = 'shopper') {
      const entry = tokens.get(role);
      if (entry.expires - Date.now() / 1000 < 300) sign(role).catch(() => {}); // the old token still has 5 min
      return entry.headers;
    },
  };
}
