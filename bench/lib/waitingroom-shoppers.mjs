// One client thread of the waiting-room crowd (bench/lib/waitingroom.mjs starts several: one event loop cannot
// keep 20,000 shoppers' timers and HTTP exchanges on time). Each shopper arrives at its time, then either goes
// through the room (join, poll when told, reserve once with the pass) or, without the room, reserves directly
// and retries after Retry-After on a 503. Times are epoch milliseconds (comparable across threads).
//
// workerData: { mode: 'room' | 'direct', urls, reserveUrls (room: where admitted shoppers reserve), sku, keyPrefix, t0, boundMs, timeoutMs, connections,
//               shoppers: [{ i, arrival, authorization }] }
// Posts: { records: [{ i, arrival, joinedAt, estimateS, admittedAt, doneAt, gaveUp }], join, status, reserve
//          (Float64Array latencies, ms), statuses: { 'join 201': n, ... }, samples, polls, clientLoopLagMs: { p99, max } }
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'undici';

const now = () => performance.timeOrigin + performance.now();
// An answer later than timeoutMs counts as a timeout, but the shopper keeps waiting for it (up to this): a
// client that gave up and tried again would double the work of a server that is already behind (measured: at
// 20,000 shoppers, 10 s aborts and retries became 145,000 timed-out joins and a collapse).
const ABANDON_MS = 120_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

const { mode, urls, reserveUrls = urls, sku, keyPrefix, t0, boundMs, timeoutMs, connections, shoppers } = workerData;
const poolOf = (url) => new Pool(url, {
  connections, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000,
  headersTimeout: ABANDON_MS + 2000, bodyTimeout: ABANDON_MS + 2000, connect: { timeout: timeoutMs },
});
const pools = urls.map(poolOf);
const reservePools = reserveUrls === urls ? pools : reserveUrls.map(poolOf);

const lat = { join: [], status: [], reserve: [] };
const statuses = {};
const samples = [];
let polls = 0;

/** One HTTP exchange with its latency; a timeout or a socket error is counted, never thrown. */
async function exchange(kind, pool, { method, path, headers, body }) {
  const started = now();
  let out;
  try {
    const res = await pool.request({ method, path, headers, body, signal: AbortSignal.timeout(ABANDON_MS) });
    const text = await res.body.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    out = { status: res.statusCode, json, headers: res.headers };
  } catch (err) {
    out = { status: err.name === 'TimeoutError' || err.name === 'AbortError' ? 'timeout' : 'error', error: err.message };
  }
  out.ms = now() - started;
  lat[kind].push(out.ms);
  if (typeof out.status === 'number' && out.ms > timeoutMs) statuses[`${kind} late`] = (statuses[`${kind} late`] ?? 0) + 1;
  const key = `${kind} ${out.status}`;
  statuses[key] = (statuses[key] ?? 0) + 1;
  if (!(out.status >= 200 && out.status < 300) && samples.length < 5) samples.push({ kind, status: out.status, body: out.json ?? out.error });
  return out;
}

async function roomShopper(s, rec, pool, reservePool) {
  const path = `/api/products/${sku}/queue`;
  const headers = { authorization: s.authorization, 'content-type': 'application/json' };
  // A join that timed out or was refused (503) is tried again after Retry-After (1 s without one), as a browser
  // would; joining is idempotent (the same ticket). Every failed attempt still counts in the statuses.
  let joined;
  for (;;) {
    joined = await exchange('join', pool, { method: 'POST', path, headers, body: '{}' });
    if (joined.status === 201 || joined.status === 200) break;
    if (!(joined.status === 503 || joined.status === 'timeout') || now() - t0 > boundMs) return;
    rec.joinRetries = (rec.joinRetries ?? 0) + 1;
    // A timeout may have joined all the same: back off (1, 2, 4, 8 s, +-50 %) instead of adding to the load.
    const backoffS = joined.status === 'timeout' ? Math.min(8, 2 ** (rec.joinRetries - 1)) * (0.5 + Math.random()) : 0;
    await sleep(Math.max(backoffS, Number(joined.headers?.['retry-after'] ?? 1)) * 1000);
  }
  rec.joinedAt = now();
  rec.estimateS = joined.json.estimatedWaitSeconds ?? 0;
  let answer = joined.json;
  const pollHeaders = { authorization: s.authorization, 'x-queue-ticket': joined.json.ticket };
  while (!answer.admitted) {
    if (now() - t0 > boundMs) { rec.gaveUp = true; return; } // bounded: the shopper leaves
    await sleep(answer.retryAfterSeconds * 1000);
    const polled = await exchange('status', pool, { method: 'GET', path, headers: pollHeaders });
    polls += 1;
    if (polled.status !== 200) return;
    answer = polled.json;
  }
  rec.admittedAt = now();
  // One reservation (one idempotency key); a 503 is tried again after Retry-After while the bound allows.
  for (;;) {
    const r = await exchange('reserve', reservePool, {
      method: 'POST', path: `/api/products/${sku}/reservations`, headers: { ...headers, 'x-admission-pass': answer.pass },
      body: `{"quantity":1,"idempotencyKey":"${keyPrefix}${s.i}"}`,
    });
    if (r.status === 201 || r.status === 200) { rec.doneAt = now(); return; }
    if (r.status !== 503 || now() - t0 > boundMs) { rec.gaveUp = r.status === 503; return; }
    rec.reserveRetries = (rec.reserveRetries ?? 0) + 1;
    await sleep(Number(r.headers['retry-after'] ?? 1) * 1000);
  }
}

async function directShopper(s, rec, pool) {
  const headers = { authorization: s.authorization, 'content-type': 'application/json' };
  for (;;) {
    const r = await exchange('reserve', pool, {
      method: 'POST', path: `/api/products/${sku}/reservations`, headers, body: `{"quantity":1,"idempotencyKey":"${keyPrefix}${s.i}"}`,
    });
    if (r.status === 201 || r.status === 200) { rec.doneAt = now(); return; }
    if (r.status !== 503 || now() - t0 > boundMs) { rec.gaveUp = r.status === 503; return; }
    await sleep(Number(r.headers['retry-after'] ?? 1) * 1000);
  }
}


// This thread's own event-loop lag: latencies include it, so the report says how much the client added.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const records = await Promise.all(shoppers.map(async (s) => {
  const rec = { i: s.i, arrival: s.arrival };
  await sleep(t0 + s.arrival - now());
  const pool = pools[s.i % pools.length];
  await (mode === 'room' ? roomShopper(s, rec, pool, reservePools[s.i % reservePools.length]) : directShopper(s, rec, pool));
  return rec;
}));
await Promise.all([...new Set([...pools, ...reservePools])].map((p) => p.close().catch(() => {})));

const f64 = (a) => Float64Array.from(a);
loopDelay.disable();
const clientLoopLagMs = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
const out = { records, join: f64(lat.join), status: f64(lat.status), reserve: f64(lat.reserve), statuses, samples, polls, clientLoopLagMs };
parentPort.postMessage(out, [out.join.buffer, out.status.buffer, out.reserve.buffer]);
