// Test identities: real key pairs from node:crypto, real tokens signed with jose, and a real JWKS document
// served over node:http on 127.0.0.1. Nothing of the verifier is stubbed.
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import { SignJWT, exportJWK } from 'jose';

export const ISSUER = 'https://issuer.catalog.test/';
export const AUDIENCE = 'catalog-api';

export const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
export const pemOf = (pair) => pair.publicKey.export({ type: 'spki', format: 'pem' });

/** Settings the API needs for tokens signed by `pair` (RSA by default). */
export function authEnv(pair = rsa) {
  return { AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_PUBLIC_KEY_PEM: pemOf(pair) };
}

/**
 * A signed token. claims: extra payload (role, sub, ...); opts: { pair, alg, kid, iss, aud, exp, nbf, iat, omit }.
 * exp / nbf / iat are seconds relative to now (iat default 0).
 */
export async function token(claims = {}, opts = {}) {
  const pair = opts.pair ?? rsa;
  const alg = opts.alg ?? (pair === ec || pair.publicKey.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256');
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ sub: 'shopper-1', ...claims })
    .setProtectedHeader({ alg, ...(opts.kid ? { kid: opts.kid } : {}) })
    .setIssuedAt(now + (opts.iat ?? 0))
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE);
  if (opts.exp !== null) jwt.setExpirationTime(now + (opts.exp ?? 300));
  if (opts.nbf !== undefined) jwt.setNotBefore(now + opts.nbf);
  return jwt.sign(opts.key ?? pair.privateKey);
}

export const bearer = async (claims, opts) => ({ authorization: `Bearer ${await token(claims, opts)}` });
export const adminHeaders = (sub = 'ops@example.com') => bearer({ sub, role: 'admin' });
export const userHeaders = (sub = 'shopper-1') => bearer({ sub });

/** Unsigned token (alg "none"), assembled by hand: jose refuses to create one, which is the point. */
export function unsignedToken(claims = {}) {
  const now = Math.floor(Date.now() / 1000);
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: 'mallory', role: 'admin', iss: ISSUER, aud: AUDIENCE, exp: now + 300, ...claims })}.`;
}

/** HS256 with the public key PEM as the HMAC secret: the classic alg-confusion forgery. */
export async function hmacWithPublicKey(pair = rsa) {
  return token({ sub: 'mallory', role: 'admin' }, { alg: 'HS256', key: new TextEncoder().encode(pemOf(pair)) });
}

/** Serve a JWKS with the given pairs' public keys (kid = index); counts requests. */
export async function startJwks(pairs) {
  const keys = await Promise.all(pairs.map(async ([kid, pair]) => ({ ...(await exportJWK(pair.publicKey)), kid, use: 'sig' })));
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/.well-known/jwks.json`,
    state,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}
