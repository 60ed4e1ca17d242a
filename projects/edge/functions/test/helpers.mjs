// Test support: keys generated per run, a JWT signer, and fixture loading. (node --test runs
// every file under test/, so this file also appears as one passing file in the summary.)
import { generateKeyPairSync, sign, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { parseConfig } from '../src/config.mjs';

export const ISSUER = 'https://auth.catalog.example/';
export const AUDIENCE = 'catalog-api';

export const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

export const pem = (keyPair) => keyPair.publicKey.export({ type: 'spki', format: 'pem' });

export function rawConfig(keyPair, overrides = {}) {
  return { issuer: ISSUER, audience: AUDIENCE, publicKeyPem: pem(keyPair), roleClaim: 'role', clockSkewSeconds: 30, ...overrides };
}

export function config(keyPair, overrides = {}) {
  const result = parseConfig(rawConfig(keyPair, overrides));
  if (!result.ok) throw new Error(result.error);
  return result;
}

export const b64url = (value) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export function claims(overrides = {}) {
  const now = nowSeconds();
  return { iss: ISSUER, aud: AUDIENCE, sub: 'user-123', role: 'editor', iat: now, nbf: now, exp: now + 300, ...overrides };
}

/** Signs header.payload with RS256/ES256 (JWS encodings), HS256 (a string secret) or nothing. */
export function signJwt(payload, { alg = 'RS256', key = rsa.privateKey, header = {}, dsaEncoding = 'ieee-p1363' } = {}) {
  const input = `${b64url({ alg, typ: 'JWT', ...header })}.${b64url(payload)}`;
  let signature = '';
  if (alg === 'RS256') signature = sign('sha256', Buffer.from(input), key).toString('base64url');
  if (alg === 'ES256') signature = sign('sha256', Buffer.from(input), { key, dsaEncoding }).toString('base64url');
  if (alg === 'HS256') signature = createHmac('sha256', key).update(input).digest('base64url');
  return `${input}.${signature}`;
}

const fixtureCache = new Map();
/** A fresh deep copy of test/fixtures/<name>.json each call (handlers mutate events). */
export function fixture(name) {
  if (!fixtureCache.has(name)) {
    fixtureCache.set(name, readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8'));
  }
  return JSON.parse(fixtureCache.get(name));
}

export function viewerEvent({ method = 'POST', authorization, headers = {} } = {}) {
  const event = fixture('viewer-request');
  const request = event.Records[0].cf.request;
  request.method = method;
  if (authorization !== undefined) request.headers.authorization = [{ key: 'Authorization', value: authorization }];
  Object.assign(request.headers, headers);
  return event;
}

export const silent = () => {};

// Client-sent copies of internal headers: must never reach the API, allowed or denied.
export const SMUGGLED = {
  'x-catalog-user': [{ key: 'X-Catalog-User', value: 'admin' }],
  'x-catalog-role': [{ key: 'X-Catalog-Role', value: 'admin' }],
  'x-catalog-tenant': [{ key: 'X-Catalog-Tenant', value: 'other' }],
  'x-origin-verify': [{ key: 'X-Origin-Verify', value: 'guessed-secret' }],
};

export const bearer = (token) => `Bearer ${token}`;
export const requestOf = (event) => event.Records[0].cf.request;

export async function expectDenied(handler, event, reason) {
  const result = await handler(event);
  assert.equal(result.status, '401', `expected a 401 for ${reason}`);
  assert.deepEqual(JSON.parse(result.body), { error: 'unauthorized', reason });
  return result;
}
