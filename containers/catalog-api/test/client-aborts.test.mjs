// Client aborts are client aborts on every body framing: a chunked body cut in the middle of a chunk, a bad chunk
// size, a body that stalls past the server's request timeout (and, for comparison, a content-length body cut
// short). Each is logged once at INFO as request.aborted: no ERROR line, no ServerErrors metric, nothing written.
// Raw sockets against the local server; real PostgreSQL and moto behind it.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { sleep, startApi, writeState } from './helpers.mjs';
import { userHeaders } from './identity.mjs';

let ctx;
let api;
let user;
const emf = [];
const REQUEST_TIMEOUT_MS = 600;

before(async () => {
  user = await userHeaders();
  ctx = await startApi({
    servers: { api: { HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) } },
    runtimeOptions: { metricsWrite: (line) => emf.push(JSON.parse(line)) },
    seed: { count: 2, stock: 10 },
  });
  ({ servers: { api } } = ctx);
});

after(() => ctx?.stop());

const state = () => writeState({ db: ctx.db, api, tables: ctx.infra.tables });
const head = (framing) => 'POST /api/products/SKU-000001/reservations HTTP/1.1\r\nHost: 127.0.0.1\r\n'
  + `Authorization: ${user.authorization}\r\nContent-Type: application/json\r\n${framing}\r\n`;

/** Send `parts` (strings, or numbers = ms to wait), then close unless `keepOpen`; resolves with what came back. */
async function raw(parts, { keepOpen = false, waitMs = 3000 } = {}) {
  const { port } = new URL(api.url);
  const socket = net.connect({ host: '127.0.0.1', port: Number(port) });
  let received = '';
  socket.on('data', (d) => { received += d; });
  socket.on('error', () => {});
  const closed = new Promise((resolve) => socket.once('close', resolve));
  await new Promise((resolve) => socket.once('connect', resolve));
  for (const part of parts) {
    if (typeof part === 'number') await sleep(part);
    else socket.write(part);
  }
  if (!keepOpen) socket.destroy();
  await Promise.race([closed, sleep(waitMs)]);
  socket.destroy();
  return received;
}

async function assertClientAbort(send) {
  stdout().length = 0;
  emf.length = 0;
  const before = await state();
  const received = await send();
  const deadline = Date.now() + 3000;
  while (!stdout().some((l) => l.event === 'request.completed') && Date.now() < deadline) await sleep(20);
  const lines = stdout();
  const aborted = lines.filter((l) => l.event === 'request.aborted');
  assert.equal(aborted.length, 1, JSON.stringify(lines));
  assert.equal(aborted[0].level, 'INFO');
  // A chunked body is read (and its size limited) before routing: the label may still be UNMATCHED.
  assert.ok(['POST /api/products/{sku}/reservations', 'UNMATCHED'].includes(aborted[0].route), aborted[0].route);
  assert.deepEqual(lines.filter((l) => l.level === 'ERROR'), []);
  const completed = lines.find((l) => l.event === 'request.completed');
  assert.equal(completed?.status, 499, JSON.stringify(lines));
  assert.equal(completed.path, '/api/products/SKU-000001/reservations');
  assert.ok(emf.length >= 1);
  assert.deepEqual(emf.filter((d) => d.ServerErrors !== 0), []);
  assert.deepEqual(await state(), before, 'nothing written');
  return received;
}

const stdout = () => ctx.stdout.lines;

test('chunked: a partial chunk, then the client closes', async () => {
  await assertClientAbort(() => raw([head('Transfer-Encoding: chunked\r\n'), '20\r\n{"quantity":1,', 100]));
});

test('chunked: a bad chunk size', async () => {
  await assertClientAbort(() => raw([head('Transfer-Encoding: chunked\r\n'), '10\r\n{"quantity":1,"i\r\nzz\r\n', 300], { keepOpen: true, waitMs: 1000 }));
});

test('chunked: a body that stalls past the request timeout', async () => {
  const received = await assertClientAbort(() => raw([head('Transfer-Encoding: chunked\r\n'), '20\r\n{"quantity":1,'],
    { keepOpen: true, waitMs: REQUEST_TIMEOUT_MS * 3 + 2000 }));
  // The server ended the connection itself (with its 408), not the client.
  assert.match(received, /^HTTP\/1\.1 408/);
});

test('content-length: a body cut short, then the client closes', async () => {
  await assertClientAbort(() => raw([head('Content-Length: 200\r\n'), '{"quantity":1,', 100]));
});
