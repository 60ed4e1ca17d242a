// One rule for a token's time claims at the edge (projects/edge/functions, Lambda@Edge) and in the API: the same
// default clock skew, and the same verdict on tokens issued in the future (iat), expired, not yet valid (nbf) or living
// longer than the rules' maximum lifetime,
// each side's own verifier judging the same signed tokens with the same skew setting. No infrastructure.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { createVerifier } from '../src/auth.mjs';
import { DEFAULT_CLOCK_SKEW_SECONDS, MAX_CLOCK_SKEW_SECONDS, loadAuthConfig } from '../src/config.mjs';
import { AUDIENCE, ISSUER, authEnv, pemOf, rsa, token } from './identity.mjs';

const EDGE = new URL('../../../projects/edge/functions/', import.meta.url);
const edgeInstalled = existsSync(new URL('node_modules/jose/package.json', EDGE));

test('the edge and the API judge iat, exp and nbf alike, with the same skew', { skip: !edgeInstalled && 'run npm ci in projects/edge/functions' }, async () => {
  const edgeConfig = await import(new URL('src/config.mjs', EDGE));
  const { verifyJwt } = await import(new URL('src/jwt.mjs', EDGE));
  assert.equal(edgeConfig.DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_CLOCK_SKEW_SECONDS);
  assert.equal(edgeConfig.MAX_CLOCK_SKEW_SECONDS, MAX_CLOCK_SKEW_SECONDS);
  for (const skew of [DEFAULT_CLOCK_SKEW_SECONDS, 0]) {
    const api = createVerifier(loadAuthConfig({ ...authEnv(rsa), AUTH_CLOCK_SKEW_SECONDS: String(skew), AUTH_VERIFY_CACHE_ENTRIES: '0' }));
    const parsed = edgeConfig.parseConfig({ issuer: ISSUER, audience: AUDIENCE, publicKeyPem: pemOf(rsa), clockSkewSeconds: skew });
    assert.ok(parsed.ok, parsed.error);
    const cases = [
      ['iat now', {}], ['iat 20 s ahead', { iat: 20 }], ['iat 40 s ahead', { iat: 40 }], ['iat a day ahead', { iat: 86_400 }],
      ['iat an hour ago', { iat: -3600 }], ['expired 10 s ago', { exp: -10 }], ['nbf 20 s ahead', { nbf: 20 }],
      ['lives exactly the maximum', { exp: 86_400 }], ['lives 2 days', { exp: 2 * 86_400 }],
      ['issued 2 days ago, a minute left', { iat: -2 * 86_400, exp: 60 }],
    ];
    for (const [name, opts] of cases) {
      const jwt = await token({}, opts);
      const atEdge = (await verifyJwt(jwt, parsed.config, Math.floor(Date.now() / 1000))).ok;
      const inApi = await api.verify(`Bearer ${jwt}`).then(() => true, () => false);
      assert.equal(inApi, atEdge, `skew ${skew}, ${name}: API ${inApi}, edge ${atEdge}`);
    }
    // The rules bite on both sides: a day ahead is refused, and so is a token living two days.
    assert.equal((await verifyJwt(await token({}, { exp: 2 * 86_400 }), parsed.config, Math.floor(Date.now() / 1000))).ok, false);
    assert.equal((await verifyJwt(await token({}, { iat: 86_400 }), parsed.config, Math.floor(Date.now() / 1000))).ok, false);
  }
});
