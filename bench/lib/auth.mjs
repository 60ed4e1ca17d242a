// Bearer tokens for API writes: the API verifies them itself (AUTH_ISSUER /
// AUTH_AUDIENCE / AUTH_PUBLIC_KEY_PEM): a fresh EC P-256 key pair per run, its
// public PEM in the API's env, ES256 tokens signed with jose, the role in the
// API's default role claim `role`.
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';

const ISSUER = 'https://bench.catalog.local/';
const AUDIENCE = 'catalog-api';
const LIFETIME_S = 3600;
const SHOPPERS = 2_000;

export async function benchAuth() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const env = {
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_PUBLIC_KEY_PEM: publicKey.export({ type: 'spki', format: 'pem' }),
  };
  // Signed ahead of time and reused: ES256 signing per request would cost the generator's CPU, not the API's.
  const tokens = new Map();
  async function sign(name) {
    const now = Math.floor(Date.now() / 1000);
    const role = name === 'admin' ? 'admin' : 'shopper';
    const jwt = await new SignJWT({ role })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(`bench-${name}`)
      .setIssuedAt(now).setExpirationTime(now + LIFETIME_S)
      .sign(privateKey);
    const entry = { expires: now + LIFETIME_S, headers: { authorization: `Bearer ${jwt}` } };
    tokens.set(name, entry);
    return entry;
  }
  // A sale has many shoppers, each with a token of its own: requests take them in turn, so the API verifies a
  // signature per shopper and then finds the token in its cache of verified tokens, as a real sale would make it.
  const shoppers = Array.from({ length: SHOPPERS }, (_, i) => `shopper-${i}`);
  for (const name of ['admin', ...shoppers]) await sign(name);
  let turn = 0;
  return {
    env,
    shoppers: SHOPPERS,
    /** Headers of a token for one named shopper (the waiting room's crowd: one identity each). */
    async signFor(sub) {
      const now = Math.floor(Date.now() / 1000);
      const jwt = await new SignJWT({ role: 'shopper' })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
        .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(sub)
        .setIssuedAt(now).setExpirationTime(now + LIFETIME_S)
        .sign(privateKey);
      return { authorization: `Bearer ${jwt}` };
    },
    /** Headers for one request (synchronous: the generator calls it per request); re-signs before expiry. */
    headers(role = 'shopper') {
      const name = role === 'shopper' ? shoppers[turn++ % SHOPPERS] : role;
      const entry = tokens.get(name);
      if (entry.expires - Date.now() / 1000 < 300) sign(name).catch(() => {}); // the old token still has 5 min
      return entry.headers;
    },
  };
}
