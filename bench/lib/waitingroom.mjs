// The waiting room under a sale-start crowd (loopback; bounded in count and time): N distinct shoppers (tokens
// of their own) arrive within `arrivalS` seconds for one SKU with ample stock; each joins the queue, polls when
// told (Retry-After), and reserves once with its admission pass. Then the same arrivals without the room: each
// reserves directly and retries after Retry-After on a 503 (today's shedding), for comparison.
//
// results.cases.waitingRoom:
//   { shoppers, arrivalS, ratePerSecond, rateSource, room: Run, direct: Run, verdicts: [{ id, text, measured, met }] }
//   Run: { soldRps, sold, durationS, latencyMs: { join, status, reserve } (p50/p95/p99/max), polls, timeouts,
//          serverErrors, statuses, inversionsOver1s, estimateWithin20pct, originRequestsPerWaitingShopperMinute,
//          proof: { reservations, granted, oversell, undersell } }
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { createWaitingRoomTable } from '../../containers/catalog-api/scripts/waiting-room-table.mjs';
import { assertLoopback, percentile } from './load.mjs';
import { startApi } from './stack.mjs';

const ROOM_SKU = 'SKU-000190';
const DIRECT_SKU = 'SKU-000191';
const REQUEST_TIMEOUT_MS = 10_000;
const round = (v, d = 1) => (v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(d)));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function summary(values) {
  const sorted = Float64Array.from(values).sort();
  return { count: sorted.length, p50: round(percentile(sorted, 50), 2), p95: round(percentile(sorted, 95), 2), p99: round(percentile(sorted, 99), 2), max: round(sorted[sorted.length - 1] ?? null, 2) };
}

/** One HTTP exchange with its latency; a timeout or a socket error is counted, never thrown. */
async function exchange(pool, { method, path, headers, body }) {
  const started = performance.now();
  try {
    const res = await pool.request({ method, path, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await res.body.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.statusCode, json, headers: res.headers, ms: performance.now() - started };
  } catch (err) {
    return { status: err.name === 'TimeoutError' || err.name === 'AbortError' ? 'timeout' : 'error', ms: performance.now() - started, error: err.message };
  }
}

/** Shoppers whose success came more than 1 s before that of someone who arrived earlier (arrival order). */
function inversionsOver1s(list) {
  const byArrival = list.filter((s) => s.doneAt !== undefined).sort((a, b) => a.arrival - b.arrival);
  let minLater = Infinity;
  let n = 0;
  for (let i = byArrival.length - 1; i >= 0; i -= 1) {
    if (byArrival[i].doneAt - minLater > 1000) n += 1; // someone who arrived later was served > 1 s earlier
    minLater = Math.min(minLater, byArrival[i].doneAt);
  }
  return n;
}

async function reservationsOf(db, sku, prefix) {
  const { rows } = await db.writer.query('SELECT count(*)::int AS n, coalesce(sum(quantity), 0)::int AS units FROM reservations WHERE sku = $1 AND idempotency_key LIKE $2', [sku, `${prefix}%`]);
  return rows[0];
}

async function restock(url, auth, sku, available) {
  const res = await fetch(`${url}/api/products/${sku}/inventory`, {
    method: 'PUT', headers: { 'content-type': 'application/json', ...auth.headers('admin') }, body: JSON.stringify({ available, reason: 'bench waiting room' }),
  });
  if (res.status !== 200) throw new Error(`restock ${sku}: ${res.status} ${await res.text()}`);
}

async function roomRun({ pool, shoppers, tokens, t0, runId, say, boundMs }) {
  const join = [];
  const status = [];
  const reserve = [];
  const statuses = {};
  const samples = [];
  const count = (s, kind, r) => {
    statuses[`${kind} ${s}`] = (statuses[`${kind} ${s}`] ?? 0) + 1;
    if (r && !(s >= 200 && s < 300) && samples.length < 5) samples.push({ kind, status: s, body: r.json ?? r.error });
  };
  let polls = 0;
  let waitingMs = 0;
  await Promise.all(shoppers.map(async (s, i) => {
    await sleep(Math.max(0, t0 + s.arrival - performance.now()));
    const headers = { ...tokens[i], 'content-type': 'application/json' };
    const joined = await exchange(pool, { method: 'POST', path: `/api/products/${ROOM_SKU}/queue`, headers, body: '{}' });
    count(joined.status, 'join', joined);
    join.push(joined.ms);
    if (joined.status !== 201 && joined.status !== 200) return;
    const joinedAt = performance.now();
    s.estimateS = joined.json.estimatedWaitSeconds ?? 0;
    let answer = joined.json;
    while (!answer.admitted) {
      if (performance.now() - t0 > boundMs) { s.gaveUp = true; return; } // bounded: the shopper leaves
      await sleep(answer.retryAfterSeconds * 1000);
      const polled = await exchange(pool, { method: 'GET', path: `/api/products/${ROOM_SKU}/queue`, headers: { ...tokens[i], 'x-queue-ticket': joined.json.ticket } });
      polls += 1;
      count(polled.status, 'status', polled);
      status.push(polled.ms);
      if (polled.status !== 200) return;
      answer = polled.json;
    }
    s.admittedAt = performance.now();
    s.actualWaitS = (s.admittedAt - joinedAt) / 1000;
    waitingMs += s.admittedAt - joinedAt;
    const r = await exchange(pool, {
      method: 'POST', path: `/api/products/${ROOM_SKU}/reservations`, headers: { ...headers, 'x-admission-pass': answer.pass },
      body: `{"quantity":1,"idempotencyKey":"wr-${runId}-${i}"}`,
    });
    count(r.status, 'reserve', r);
    reserve.push(r.ms);
    if (r.status === 201) s.doneAt = performance.now();
  }));
  say(`waiting room: ${shoppers.filter((s) => s.doneAt).length} of ${shoppers.length} reserved; ${polls} polls${samples.length ? `; samples ${JSON.stringify(samples)}` : ''}`);
  return { join, status, reserve, statuses, polls, waitingMs, samples };
}

async function directRun({ pool, shoppers, tokens, t0, runId, boundMs }) {
  const reserve = [];
  const statuses = {};
  const count = (s) => { statuses[s] = (statuses[s] ?? 0) + 1; };
  await Promise.all(shoppers.map(async (s, i) => {
    await sleep(Math.max(0, t0 + s.arrival - performance.now()));
    const headers = { ...tokens[i], 'content-type': 'application/json' };
    for (;;) {
      const r = await exchange(pool, { method: 'POST', path: `/api/products/${DIRECT_SKU}/reservations`, headers, body: `{"quantity":1,"idempotencyKey":"wd-${runId}-${i}"}` });
      count(r.status);
      reserve.push(r.ms);
      if (r.status === 201 || r.status === 200) { s.doneAt = performance.now(); return; }
      if (r.status !== 503 || performance.now() - t0 > boundMs) return; // gives up at the bound
      await sleep(Number(r.headers['retry-after'] ?? 1) * 1000);
    }
  }));
  return { reserve, statuses };
}

function serverErrors(statuses) {
  return Object.entries(statuses).filter(([k]) => /^5/.test(k) && k !== '503').reduce((n, [, v]) => n + v, 0);
}

export async function waitingRoomCase({ env, auth, db, shoppers: n, arrivalS, ratePerSecond, rateSource, connections = 512, say }) {
  const runId = Date.now().toString(36);
  const table = `catalog-waitingroom-bench-${runId}`;
  await createWaitingRoomTable({ endpoint: env.DYNAMODB_ENDPOINT, name: table });
  say(`waiting room: signing ${n} shopper tokens`);
  const tokens = [];
  for (let i = 0; i < n; i += 1) tokens.push(await auth.signFor(`wr-${runId}-${i}`));
  const api = await startApi(env, {
    WAITING_ROOM_SKUS: ROOM_SKU, WAITING_ROOM_TABLE: table, WAITING_ROOM_SECRET: randomBytes(32).toString('hex'),
    WAITING_ROOM_ADMIT_PER_SECOND: String(ratePerSecond), WAITING_ROOM_MAX_ACTIVE: String(ratePerSecond * 120), WAITING_ROOM_CONTROLLER_MS: '500',
  });
  assertLoopback(api.url);
  const pool = new Pool(api.url, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const out = { shoppers: n, arrivalS, ratePerSecond, rateSource };
  try {
    for (const sku of [ROOM_SKU, DIRECT_SKU]) await restock(api.url, auth, sku, n * 2);
    // Arrivals: uniform over the window, the same for both runs.
    const arrivals = Array.from({ length: n }, () => Math.random() * arrivalS * 1000).sort((a, b) => a - b);
    const make = () => arrivals.map((arrival) => ({ arrival }));

    const roomShoppers = make();
    let t0 = performance.now() + 200;
    const boundMs = Math.max(60_000, (n / ratePerSecond) * 1000 * 2);
    const room = await roomRun({ pool, shoppers: roomShoppers, tokens, t0, runId, say, boundMs });
    const doneTimes = roomShoppers.filter((s) => s.doneAt).map((s) => s.doneAt);
    const firstAdmit = Math.min(...roomShoppers.filter((s) => s.admittedAt).map((s) => s.admittedAt));
    const roomDurationS = (Math.max(...doneTimes) - firstAdmit) / 1000;
    const roomRows = await reservationsOf(db, ROOM_SKU, `wr-${runId}-`);
    const granted = room.statuses['reserve 201'] ?? 0;
    const estimates = roomShoppers.filter((s) => s.actualWaitS !== undefined);
    const within = estimates.filter((s) => Math.abs(s.estimateS - s.actualWaitS) <= 0.2 * s.actualWaitS).length;
    const withinFloor = estimates.filter((s) => Math.abs(s.estimateS - s.actualWaitS) <= Math.max(0.2 * s.actualWaitS, 1)).length;
    out.room = {
      sold: granted, durationS: round(roomDurationS, 2), soldRps: round(granted / roomDurationS),
      latencyMs: { join: summary(room.join), status: summary(room.status), reserve: summary(room.reserve) },
      polls: room.polls, statuses: room.statuses, samples: room.samples,
      timeouts: Object.entries(room.statuses).filter(([k]) => / timeout$/.test(k)).reduce((n, [, c]) => n + c, 0),
      serverErrors: Object.entries(room.statuses).filter(([k]) => / 5\d\d$/.test(k)).reduce((n, [, c]) => n + c, 0),
      inversionsOver1s: inversionsOver1s(roomShoppers), gaveUp: roomShoppers.filter((s) => s.gaveUp).length,
      estimateWithin20pct: round(within / Math.max(1, estimates.length), 3), estimateWithin20pctOr1s: round(withinFloor / Math.max(1, estimates.length), 3),
      originRequestsPerWaitingShopperMinute: round(room.polls / Math.max(1e-9, room.waitingMs / 60_000), 2),
      proof: { reservations: roomRows.n, granted, oversell: roomRows.units > granted || roomRows.n !== granted, undersell: granted < n },
    };
    say(`waiting room: sold ${out.room.soldRps}/s (rate ${ratePerSecond}/s), reserve p99 ${out.room.latencyMs.reserve.p99} ms, join p99 ${out.room.latencyMs.join.p99} ms, status p99 ${out.room.latencyMs.status.p99} ms`);

    const directShoppers = make();
    t0 = performance.now() + 200;
    const direct = await directRun({ pool, shoppers: directShoppers, tokens, t0, runId, boundMs });
    const dDone = directShoppers.filter((s) => s.doneAt).map((s) => s.doneAt);
    const dGranted = direct.statuses['201'] ?? 0;
    const dDurationS = dDone.length ? (Math.max(...dDone) - t0) / 1000 : null;
    const dRows = await reservationsOf(db, DIRECT_SKU, `wd-${runId}-`);
    out.direct = {
      sold: dGranted, durationS: round(dDurationS, 2), soldRps: dDurationS ? round(dGranted / dDurationS) : 0,
      latencyMs: { reserve: summary(direct.reserve) }, statuses: direct.statuses, requests: direct.reserve.length,
      timeouts: direct.statuses.timeout ?? 0, serverErrors: serverErrors(direct.statuses), shed: direct.statuses['503'] ?? 0,
      inversionsOver1s: inversionsOver1s(directShoppers),
      proof: { reservations: dRows.n, granted: dGranted, oversell: dRows.n !== dGranted, undersell: dGranted < n },
    };
    say(`no waiting room: sold ${out.direct.soldRps}/s, ${out.direct.shed} x 503, ${out.direct.requests} requests for ${n} shoppers`);
  } finally {
    await pool.close().catch(() => {});
    await api.stop();
  }
  out.verdicts = waitingRoomVerdicts(out);
  return out;
}

export function waitingRoomVerdicts(out) {
  const r = out.room;
  const v = (id, text, measured, met) => ({ id, text, measured, met });
  const ratio = r.soldRps / out.ratePerSecond;
  return [
    v('reserveP99', 'admitted shoppers\' reservation p99 <= 200 ms', r.latencyMs.reserve.p99, r.latencyMs.reserve.p99 !== null && r.latencyMs.reserve.p99 <= 200),
    v('joinStatusP99', 'join and status p99 <= 50 ms', Math.max(r.latencyMs.join.p99 ?? Infinity, r.latencyMs.status.p99 ?? 0), (r.latencyMs.join.p99 ?? Infinity) <= 50 && (r.latencyMs.status.p99 ?? 0) <= 50),
    v('soldVsRate', 'units sold per second within 5 % of the admission rate', round(ratio, 3), Math.abs(ratio - 1) <= 0.05),
    v('inversions', 'arrival-order inversions beyond 1 s <= 1 % of shoppers', r.inversionsOver1s, r.inversionsOver1s <= 0.01 * out.shoppers),
    v('estimate', 'estimated wait within 20 % of the actual for 90 % of shoppers', r.estimateWithin20pct, r.estimateWithin20pct >= 0.9),
    v('clean', '0 timeouts, 0 5xx, 0 oversell, 0 undersell', `${r.timeouts} t/o, ${r.serverErrors} 5xx, oversell ${r.proof.oversell}, undersell ${r.proof.undersell}`,
      r.timeouts === 0 && r.serverErrors === 0 && !r.proof.oversell && !r.proof.undersell),
  ];
}

export function waitingRoomTable(out) {
  const r = out.room;
  const d = out.direct;
  const lines = [
    `waiting room: ${out.shoppers} shoppers arriving within ${out.arrivalS} s, one SKU, admission ${out.ratePerSecond}/s (${out.rateSource})`,
    `  with the room: sold ${r.soldRps}/s over ${r.durationS} s; join p50/p99 ${r.latencyMs.join.p50}/${r.latencyMs.join.p99} ms, status ${r.latencyMs.status.p50}/${r.latencyMs.status.p99} ms, `
      + `reserve ${r.latencyMs.reserve.p50}/${r.latencyMs.reserve.p99} ms; ${r.polls} polls = ${r.originRequestsPerWaitingShopperMinute} origin requests per waiting shopper per minute; `
      + `estimate within 20 %: ${Math.round(r.estimateWithin20pct * 100)} % (within 20 % or 1 s: ${Math.round(r.estimateWithin20pctOr1s * 100)} %); inversions > 1 s: ${r.inversionsOver1s}; statuses ${JSON.stringify(r.statuses)}`,
  ];
  if (d) {
    lines.push(`  without:       sold ${d.soldRps}/s over ${d.durationS} s; ${d.requests} requests (${d.shed} x 503) for ${out.shoppers} shoppers; reserve p99 ${d.latencyMs.reserve.p99} ms; `
      + `inversions > 1 s: ${d.inversionsOver1s}; sold ${d.sold} of ${out.shoppers}; statuses ${JSON.stringify(d.statuses)}`);
  }
  for (const x of out.verdicts) lines.push(`  ${x.met ? 'met   ' : 'MISSED'} ${x.text}: ${typeof x.measured === 'number' ? x.measured : x.measured}`);
  return lines.join('\n');
}
