// A slow cache tier costs a read little. The DynamoDB endpoint is a socket that accepts connections and never
// answers (an emulator restarting, a tier in trouble): product reads still answer from the database, each paying
// at most the cache bound (DYNAMODB_TIMEOUT_MS) and, after a failure, nothing for the cooldown; the warnings are
// rate-limited. Real PostgreSQL; no DynamoDB at all.
import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { call, sleep, startApi } from './helpers.mjs';

let ctx;
let api;
let silent; // accepts, reads, never answers
const sockets = new Set();
const TIMEOUT_MS = 50;

before(async () => {
  silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  ctx = await startApi({
    infraOptions: { dynamo: false },
    servers: {
      api: {
        DYNAMODB_ENDPOINT: `http://127.0.0.1:${silent.address().port}`, DYNAMODB_TIMEOUT_MS: String(TIMEOUT_MS),
        LOCAL_CACHE_TTL_MS: '0', // every read goes to the DynamoDB tier
      },
    },
    seed: { count: 3, stock: 5 },
  });
  ({ servers: { api } } = ctx);
});

after(async () => {
  await ctx?.stop();
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => silent?.close(resolve));
});

const timedRead = async (sku) => {
  const started = performance.now();
  const res = await call(api.url, `/api/products/${sku}`);
  return { ...res, ms: performance.now() - started };
};

// Bounded: without the cache bound a read waits for the silent endpoint forever.
test('product reads answer from the database while DynamoDB accepts and never answers; warnings rate-limited', { timeout: 20_000 }, async (t) => {
  await call(api.url, '/api/products/SKU-000001'); // warm the database connections
  const reads = [];
  for (let i = 0; i < 30; i += 1) {
    reads.push(await timedRead(`SKU-00000${1 + (i % 3)}`));
    await sleep(40); // spread over more than one cooldown
  }
  for (const r of reads) {
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-cache'), 'miss');
    assert.equal(r.body.available, 5);
  }
  const slowest = Math.max(...reads.map((r) => r.ms));
  const paid = reads.filter((r) => r.ms >= TIMEOUT_MS).length;
  t.diagnostic(`30 reads: slowest ${slowest.toFixed(1)} ms, ${paid} paid the ${TIMEOUT_MS} ms bound`);
  // Before the bound, a read waited for the SDK's own (none): seconds.
  assert.ok(slowest < TIMEOUT_MS + 150, `slowest read ${slowest.toFixed(1)} ms`);
  // Only the first read of each cooldown (1 s) pays the bound; 30 reads over ~1.5 s: at most a few.
  assert.ok(paid <= 4, `${paid} reads paid the bound`);
  const warnings = ctx.stdout.lines.filter((l) => l.event === 'cache.error');
  assert.ok(warnings.length >= 1 && warnings.length <= 2, `${warnings.length} cache warnings (one per kind per interval)`);
  assert.equal(warnings[0].level, 'WARN');
});
