// The contract (src/contract.mjs) is what the router serves and what it publishes: every route is in the
// OpenAPI document and nothing else is, auth per operation is what the router enforces, the document is cacheable,
// the human docs page exists only when asked for, and the zod schemas report the field the API always named.
// Also the fuzzer's findings, each held here: session data that DynamoDB's own types cannot hold.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createApp } from '../src/app.mjs';
import { unauthorized } from '../src/auth.mjs';
import { ROUTES, ReservationBody, RestockBody } from '../src/contract.mjs';
import * as v from '../src/validation.mjs';
import { readFileSync } from 'node:fs';
import { DOCUMENT_FILE, documentText } from '../scripts/openapi.mjs';
import { call, startApi } from './helpers.mjs';
import { userHeaders } from './identity.mjs';

// A router without I/O: the routes refuse or answer before any store is touched in these tests.
function bareApp(config = {}) {
  const quiet = { info() {}, error() {}, warn() {} };
  return createApp({
    logger: quiet, metrics: { begin: () => ({ add() {} }) }, requestLog: { write() {} }, config,
    verifier: { verify: async (header) => { if (!header) throw unauthorized(); return { sub: 'someone', role: null }; } },
  });
}

async function documentOf(app) {
  const res = await app.request('/api/openapi.json');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
  assert.match(res.headers.get('content-type'), /^application\/json/);
  return res.json();
}

test('the document lists exactly the routes the router serves, with their auth', async () => {
  const app = bareApp();
  const doc = await documentOf(app);
  assert.equal(doc.openapi, '3.1.0');
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
  const served = app.routes.filter((r) => r.method !== 'ALL')
    .map((r) => `${r.method} ${r.path.replace(/:([a-zA-Z]+)/g, '{$1}')}`).sort();
  assert.deepEqual(documented, served);
  assert.deepEqual(documented, Object.values(ROUTES).map((r) => `${r.method.toUpperCase()} ${r.path}`).sort());
  assert.deepEqual(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT',
    description: doc.components.securitySchemes.bearerAuth.description });

  // What the document says about auth is what the router does: a protected operation refuses a request without
  // a token (401 before anything else), a public one does not ask for one.
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const concrete = path.replace('{sku}', 'SKU-000001').replace('{id}', '7f1d2c4e-8a8b-4c65-9f1e-2d8d1c3b4a5f');
      if (op['x-catalog-auth'] === 'public') {
        assert.deepEqual(op.security, [], `${method} ${path}`);
        continue;
      }
      assert.deepEqual(op.security, [{ bearerAuth: [] }], `${method} ${path}`);
      const res = await app.request(concrete, { method: method.toUpperCase() });
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.ok(op.responses['401'], `${method} ${path}: 401 documented`);
      if (op['x-catalog-auth'] !== 'user') assert.ok(op.responses['403'], `${method} ${path}: 403 documented`);
    }
  }
  assert.equal(doc.paths['/api/products/{sku}/inventory'].put['x-catalog-auth'], 'admin');
  assert.ok(doc.paths['/api/products/{sku}/reservations'].post.responses['503'].headers['Retry-After']);
  assert.ok(doc.paths['/api/products/{sku}/reservations'].post.responses['429'].headers['Retry-After']);
});

test('openapi.json (read by the app layer and `invoke docs`) is the current document', () => {
  assert.equal(readFileSync(DOCUMENT_FILE, 'utf8'), documentText(), 'openapi.json is stale: run `npm run openapi` (or `invoke docs`)');
});

test('the docs page is served only with API_DOCS=true', async () => {
  assert.equal((await bareApp().request('/api/docs')).status, 404);
  const page = await bareApp({ apiDocs: true }).request('/api/docs');
  assert.equal(page.status, 200);
  assert.match(await page.text(), /\/api\/openapi\.json/);
});

test('the openapi document refuses query parameters like every route', async () => {
  const res = await bareApp().request('/api/openapi.json?x=1');
  assert.equal(res.status, 400);
  assert.equal((await res.json()).field, 'x');
});

test('the schemas name the field the API always named, in the same order', () => {
  const fieldOf = (schema, body, rule) => {
    try {
      v.checked(schema, body, rule);
      return undefined;
    } catch (err) {
      return [err.extra.field, err.message];
    }
  };
  // an unknown field first, then a missing one, then the rest in order
  assert.deepEqual(fieldOf(ReservationBody, { price: 1 }), ['price', 'price: is not a known field']);
  assert.deepEqual(fieldOf(ReservationBody, { idempotencyKey: 'x' }), ['quantity', 'quantity: is required']);
  assert.deepEqual(fieldOf(ReservationBody, { quantity: 'x' }), ['idempotencyKey', 'idempotencyKey: is required']);
  assert.deepEqual(fieldOf(ReservationBody, { quantity: 1.5, idempotencyKey: 'k' }), ['quantity', 'quantity: must be an integer']);
  assert.deepEqual(fieldOf(ReservationBody, { quantity: 11, idempotencyKey: 'key-000001' }), ['quantity', 'quantity: must be between 1 and 10']);
  assert.equal(fieldOf(ReservationBody, { quantity: 10, idempotencyKey: 'key-000001' }), undefined);
  // restock: the one-of rule before any range, reason before shards before the amount
  assert.equal(fieldOf(RestockBody, { available: 1, add: 1e9 }, v.restockRule)[0], 'available');
  assert.equal(fieldOf(RestockBody, { add: 1e9, shards: 0, reason: 5 }, v.restockRule)[0], 'reason');
  // Found by the fuzzer: a NUL in the audit reason was a 500 (PostgreSQL text cannot hold it); now a 400 naming it.
  assert.equal(fieldOf(RestockBody, { available: 1, reason: 'restock\u0000' }, v.restockRule)[0], 'reason');
  assert.equal(fieldOf(RestockBody, { available: 1, reason: 'restock before the sale' }, v.restockRule), undefined);
  assert.equal(fieldOf(RestockBody, { add: 1e9, shards: 0 }, v.restockRule)[0], 'shards');
  assert.equal(fieldOf(RestockBody, { shards: 2, reason: null }, v.restockRule), undefined);
});

let ctx;
before(async () => {
  ctx = await startApi();
});
after(() => ctx?.stop());

test('fuzzer finding: session data beyond DynamoDB\'s types (huge numbers, lone surrogates, deep nesting) is kept, not a 500', async () => {
  const { servers: { api }, infra } = ctx;
  const shopper = await userHeaders('shopper-fuzz');
  let deep = { leaf: true };
  for (let i = 0; i < 40; i += 1) deep = { d: deep };
  const cases = [
    '{"data":{"n":2.752814150858831e+248,"tiny":1e-200,"list":[-9007199254740993]}}',
    '{"data":{"\\udb58\\udc33":["\\u0088",false],"s":"\\udae0x"}}',
    JSON.stringify({ data: deep }),
  ];
  for (const body of cases) {
    const created = await call(api.url, '/api/sessions', { method: 'POST', headers: { ...shopper, 'content-type': 'application/json' }, body });
    assert.equal(created.status, 201, `${body} -> ${JSON.stringify(created.body)}`);
    assert.deepEqual(created.body.session.data, JSON.parse(body).data);
    const cookie = created.headers.get('set-cookie').split(';')[0];
    const current = await call(api.url, '/api/sessions/current', { headers: { cookie } });
    assert.equal(current.status, 200);
    assert.deepEqual(current.body.session.data, JSON.parse(body).data);
    const { Item } = await api.runtime.doc.send(new GetCommand({ TableName: infra.tables.sessions, Key: { sessionId: cookie.split('=')[1] } }));
    assert.equal(typeof Item.data, 'string');
  }
});
