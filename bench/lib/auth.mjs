// Bearer tokens for API writes: the API verifies them itself (AUTH_ISSUER /
// AUTH_AUDIENCE / AUTH_PUBLIC_KEY_PEM): a fresh EC P-256 key pair per run, its
// public PEM in the API's env, ES256 tokens signed with jose, the role in the
// API's default role claim `role`.
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';

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
    const jwt = await new SignJWT({ role })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(`bench-${role}`)
      .setIssuedAt(now).setExpirationTime(now + LIFETIME_S)
      .sign(privateKey);
    const entry = { expires: now + LIFETIME_S, headers: { authorization: `Bearer ${jwt}` } };
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
