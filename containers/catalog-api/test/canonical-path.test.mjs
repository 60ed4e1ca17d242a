// One canonical path: a path the router would reach under another spelling (percent-encoded unreserved
// characters, `//`, dot segments, backslashes) is refused with 400 JSON before any route runs, on the local server
// (raw request targets: fetch would normalize them) and on Lambda (ALB and API Gateway events). Nothing is written.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { nonCanonical } from '../src/app.mjs';
import { alb, apigw, context, unwrap } from './events.mjs';
import { call, startApi, writeState } from './helpers.mjs';
import { userHeaders } from './identity.mjs';

let ctx;
let api;
let user;
let lambda;
let savedEnv;

before(async () => {
  user = await userHeaders();
  ctx = await startApi({ seed: { count: 2, stock: 10 } });
  ({ servers: { api } } = ctx);
  savedEnv = { ...process.env };
  Object.assign(process.env, ctx.env, { AWS_LAMBDA_FUNCTION_NAME: 'catalog-api-qa' });
  lambda = await import('../src/lambda.mjs');
});

after(async () => {
  process.env = savedEnv;
  await ctx?.stop();
});

const state = () => writeState({ db: ctx.db, api, tables: ctx.infra.tables });
const SKU = 'SKU-000001';
const SPELLINGS = [
  `/api/products/${SKU}/%72eservations`,
  `/api/products/%53KU-000001/reservations`,
  `/api/products/${SKU}/reservation%73`,
  `/api/products/${SKU}//reservations`,
  `/api//products/${SKU}/reservations`,
  `/api/products/${SKU}/./reservations`,
  `/api/products/${SKU}/x/../reservations`,
  `/api/products/${SKU}/%2e/reservations`,
  `/api/products/${SKU}\\reservations`,
];

/** POST with the request target exactly as given (no URL normalization on the way). */
function rawPost(path, body) {
  const { port } = new URL(api.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, headers: { ...user, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

test('the canonical spelling is accepted; a non-canonical one is named', () => {
  assert.equal(nonCanonical(`/api/products/${SKU}/reservations?x=%41`), undefined);
  assert.equal(nonCanonical('/api/products/SKU%20X'), undefined); // reserved or other characters stay encoded
  assert.equal(nonCanonical('/api/products/SKU%2F1'), undefined);
  assert.match(nonCanonical(SPELLINGS[0]), /%72/);
  assert.match(nonCanonical(SPELLINGS[3]), /\/\//);
  assert.match(nonCanonical(SPELLINGS[6]), /dot segment/);
  assert.match(nonCanonical(SPELLINGS[8]), /backslash/);
  // A raw "#" (a fragment a client should never send) or space: the WAF's path regex would not match them.
  assert.match(nonCanonical(`/api/products/${SKU}/reservations#frag`), /outside the path syntax \("#"\)/);
  assert.match(nonCanonical('/api/products/SKU 1'), /outside the path syntax \(" "\)/);
});

test('local server: every other spelling of the reservation path is 400 JSON and reserves nothing', async () => {
  const before = await state();
  for (const [i, path] of SPELLINGS.entries()) {
    const res = await rawPost(path, { quantity: 1, idempotencyKey: `spelling-key-${i}` });
    assert.equal(res.status, 400, path);
    if (path.includes('\\')) continue; // node:http's parser refuses a backslash itself (400, no body): never routed
    assert.match(res.type ?? '', /^application\/json/, `${path}: ${res.type}`);
    assert.equal(res.body.error, 'non_canonical_path', path);
    assert.equal(res.body.field, 'path');
  }
  assert.deepEqual(await state(), before);
  // The canonical spelling reserves.
  const ok = await rawPost(`/api/products/${SKU}/reservations`, { quantity: 1, idempotencyKey: 'canonical-key-1' });
  assert.equal(ok.status, 201);
  // Reads too: a non-canonical read path is refused the same way.
  const read = await call(api.url, `/api/products/%53KU-000001`);
  assert.deepEqual([read.status, read.body.error], [400, 'non_canonical_path']);
});

test('Lambda (ALB and API Gateway events): the same spellings are 400 JSON', async () => {
  const before = await state();
  for (const [i, path] of SPELLINGS.entries()) {
    for (const make of [alb, apigw]) {
      const body = JSON.stringify({ quantity: 1, idempotencyKey: `lambda-spelling-${i}` });
      const res = unwrap(await lambda.handler(make({ method: 'POST', path, headers: { ...user, 'content-type': 'application/json' }, body }), context));
      assert.equal(res.status, 400, `${make.name} ${path}`);
      assert.equal(res.body.error, 'non_canonical_path');
    }
  }
  assert.deepEqual(await state(), before);
});

test('the edge-cached queue state has one spelling: a percent-encoded one is 400, never the cached route', async () => {
  for (const path of [`/api/products/${SKU}/queue/%73tate`, `/api/products/${SKU}/%71ueue/state`, `/api/products/${SKU}/queue/stat%65`]) {
    const r = await call(api.url, path);
    assert.deepEqual([r.status, r.body.error], [400, 'non_canonical_path'], path);
    for (const make of [alb, apigw]) {
      const res = unwrap(await lambda.handler(make({ method: 'GET', path, headers: {} }), context));
      assert.deepEqual([res.status, res.body.error], [400, 'non_canonical_path'], `${make.name} ${path}`);
    }
  }
});
