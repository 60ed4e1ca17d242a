// The waiting room under a sale-start crowd (loopback; bounded in count and time): N distinct shoppers (tokens
// of their own) arrive within `arrivalS` seconds for one SKU with ample stock; each joins the queue, polls when
// told (Retry-After), and reserves once with its admission pass. Then the same arrivals without the room: each
// reserves directly and retries after Retry-After on a 503 (today's shedding), for comparison.
//
// The set-up, so that 20,000 shoppers fit on two shared cores (where the time went, measured: README of the API):
// - the room's table (and the API's other tables) on dynalite, not moto: moto answers a GSI Query by scanning the
//   whole table, so every controller step cost 16 scans of all tickets (2.6 s at 20,000);
// - `apiProcesses` API processes for the joins and polls (clients spread over their ports), one more for the
//   admitted shoppers' reservations, and one that only runs the controller, as a scheduled function would on
//   AWS. On Lambda every request has an environment of its own: a burst of joins never queues a reservation
//   behind it in one event loop, which one shared local process would (its writer admission then sheds the
//   reservations: their connection hold time includes the loop's lag);
// - the shoppers driven by `clientThreads` worker threads (bench/lib/waitingroom-shoppers.mjs).
// The admission rate is half the one-SKU capacity: this run's open-loop case when it ran, else a short probe
// here (same ladder rule: highest rate with p99 <= 200 ms, >= 99 % granted, no timeouts).
//
// results.cases.waitingRoom:
//   { shoppers, arrivalS, ratePerSecond, rateSource, capacityProbe?, setup, room: Run, direct: Run,
//     verdicts: [{ id, measured, met, detail }] (bench/lib/goals.mjs waitingRoomVerdicts) }
//   Run: { soldRps, peakSoldRps10s, sold, durationS, latencyMs: { join, status, reserve } (p50/p95/p99/max),
//          polls, timeouts (answered after 10 s or never), serverErrors (room: every 5xx; direct: all but 503), shed
//          (503), otherServerErrors, statuses, inversionsOver1s, estimateWithin20pct, estimateErrorS,
//          originRequestsPerWaitingShopperMinute, joinRetries, reserveRetries, cpuPercent: { api0.., controller,
//          dynalite }, apiCpuMsPerJoinOrPoll, proof: { reservations, granted, oversell, undersell } }
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { createTables } from '../../containers/catalog-api/scripts/local-infra.mjs';
import { createWaitingRoomTable } from '../../containers/catalog-api/scripts/waiting-room-table.mjs';
import { withinCapacity } from './flash-openloop.mjs';
import { GOALS, waitingRoomVerdicts } from './goals.mjs';
import { assertLoopback, percentile, processCpuSeconds } from './load.mjs';
import { openLoop } from './openloop.mjs';
import { startApi, startDynalite } from './stack.mjs';

const ROOM_SKU = 'SKU-000190';
const DIRECT_SKU = 'SKU-000191';
const WARM_QUEUE_SKU = 'SKU-000192'; // behind the room too: joins that warm the queue processes up
const PROBE_FIRST_SKU = 180; // SKU-000180..189: one per probe step
const PROBE_RATES = [100, 250, 500, 1000, 1500, 2000, 2500, 3000];
const PROBE_WARM_SKU = 'SKU-000179';
const PROBE_STEP_S = 3;
const REQUEST_TIMEOUT_MS = 10_000;
const CONTROLLER_MS = 200;
const WORKER = new URL('./waitingroom-shoppers.mjs', import.meta.url);
const round = (v, d = 1) => (v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(d)));
const now = () => performance.timeOrigin + performance.now();

function summary(values) {
  const sorted = Float64Array.from(values).sort();
  return { count: sorted.length, p50: round(percentile(sorted, 50), 2), p95: round(percentile(sorted, 95), 2), p99: round(percentile(sorted, 99), 2), max: round(sorted[sorted.length - 1] ?? null, 2) };
}

/** Shoppers whose success came more than 1 s before that of someone who arrived earlier (arrival order). */
export function inversionsOver1s(list) {
  const byArrival = list.filter((s) => s.doneAt !== undefined).sort((a, b) => a.arrival - b.arrival);
  let minLater = Infinity;
  let n = 0;
  for (let i = byArrival.length - 1; i >= 0; i -= 1) {
    if (byArrival[i].doneAt - minLater > 1000) n += 1; // someone who arrived later was served > 1 s earlier
    minLater = Math.min(minLater, byArrival[i].doneAt);
  }
  return n;
}

/** The most units sold in any `windowS` window (sliding by 1 s) per second. */
function peakRate(doneTimes, windowS = 10) {
  if (!doneTimes.length) return null;
  const t = [...doneTimes].sort((a, b) => a - b);
  if ((t[t.length - 1] - t[0]) / 1000 < windowS) return null; // shorter than one window: the overall rate says it
  let best = 0;
  let j = 0;
  for (let i = 0; i < t.length; i += 1) {
    while (t[j] < t[i] - windowS * 1000) j += 1;
    best = Math.max(best, i - j + 1);
  }
  return best / windowS;
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

/** One-SKU capacity of one API process: the open-loop ladder, short steps, stopping at the first step over it. */
async function probeCapacity({ url, auth, runId, say }) {
  // A cold process (JIT, first connections) misses its first second: 2 s at 100/s first, not counted.
  await restock(url, auth, PROBE_WARM_SKU, 1000);
  await openLoop({
    url, rate: 100, durationS: 2, timeoutMs: 5000, connections: 256, path: () => `/api/products/${PROBE_WARM_SKU}/reservations`,
    headers: () => ({ 'content-type': 'application/json', ...auth.headers('shopper') }), body: (i) => `{"quantity":1,"idempotencyKey":"ww-${runId}-${i}"}`,
  });
  const steps = [];
  for (const [k, rate] of PROBE_RATES.entries()) {
    const sku = `SKU-${String(PROBE_FIRST_SKU + k).padStart(6, '0')}`;
    await restock(url, auth, sku, rate * PROBE_STEP_S * 2);
    const run = await openLoop({
      url, rate, durationS: PROBE_STEP_S, timeoutMs: 5000, connections: 1024, path: () => `/api/products/${sku}/reservations`,
      headers: () => ({ 'content-type': 'application/json', ...auth.headers('shopper') }),
      body: (i) => `{"quantity":1,"idempotencyKey":"wp-${runId}-${rate}-${i}"}`,
    });
    const step = { offeredRps: rate, scheduled: run.scheduled, status: run.status, timeouts: run.timeouts, errors: run.errors, latencyMs: run.latencyMs };
    step.within = withinCapacity(step);
    steps.push(step);
    say(`waiting room: capacity probe @${rate}/s: p99 ${run.latencyMs.p99} ms, ${JSON.stringify(run.status)}, timeouts ${run.timeouts}: ${step.within ? 'within' : 'over'}`);
    if (!step.within) break;
  }
  return { capacityRps: Math.max(0, ...steps.filter((s) => s.within).map((s) => s.offeredRps)), stepS: PROBE_STEP_S, steps };
}

/** Fresh processes (JIT, first connections) are slow for a second: 2 s of joins and of reservations first. */
async function warmUp({ reserveUrl, queueUrls, auth, runId }) {
  await restock(reserveUrl, auth, PROBE_WARM_SKU, 1000);
  const common = { rate: 100, durationS: 2, timeoutMs: 5000, connections: 64 };
  const headers = () => ({ 'content-type': 'application/json', ...auth.headers('shopper') });
  await Promise.all([
    openLoop({ ...common, url: reserveUrl, headers, path: () => `/api/products/${PROBE_WARM_SKU}/reservations`, body: (i) => `{"quantity":1,"idempotencyKey":"wu-${runId}-${i}"}` }),
    ...queueUrls.map((url) => openLoop({ ...common, url, headers, path: () => `/api/products/${WARM_QUEUE_SKU}/queue`, body: () => '{}' })),
  ]);
}

/** The crowd in `threads` worker threads; resolves to their merged results. */
async function crowd({ mode, urls, reserveUrls, sku, keyPrefix, shoppers, t0, boundMs, threads, connections }) {
  const parts = Array.from({ length: threads }, () => []);
  shoppers.forEach((s, k) => parts[k % threads].push(s));
  const results = await Promise.all(parts.map((part) => new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { workerData: { mode, urls, reserveUrls, sku, keyPrefix, t0, boundMs, timeoutMs: REQUEST_TIMEOUT_MS, connections, shoppers: part } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`shopper thread exited ${code}`)); });
  })));
  const statuses = {};
  for (const r of results) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const cat = (key) => results.flatMap((r) => Array.from(r[key]));
  return {
    records: results.flatMap((r) => r.records), join: cat('join'), status: cat('status'), reserve: cat('reserve'),
    statuses, samples: results.flatMap((r) => r.samples).slice(0, 5), polls: results.reduce((n, r) => n + r.polls, 0),
    clientLoopLagMs: { p99: round(Math.max(...results.map((r) => r.clientLoopLagMs.p99))), max: round(Math.max(...results.map((r) => r.clientLoopLagMs.max))) },
  };
}

const countWhere = (statuses, re) => Object.entries(statuses).filter(([k]) => re.test(k)).reduce((n, [, c]) => n + c, 0);

function roomMetrics(run, { n, rows, ratePerSecond }) {
  const recs = run.records;
  const done = recs.filter((s) => s.doneAt).map((s) => s.doneAt);
  const admitted = recs.filter((s) => s.admittedAt);
  const firstAdmit = Math.min(...admitted.map((s) => s.admittedAt));
  const durationS = done.length ? (Math.max(...done) - firstAdmit) / 1000 : null;
  const granted = (run.statuses['reserve 201'] ?? 0) + (run.statuses['reserve 200'] ?? 0);
  // The actual wait: from the join's answer to the poll that answered "admitted" (what the shopper lived).
  const waits = admitted.map((s) => ({ est: s.estimateS, actual: (s.admittedAt - s.joinedAt) / 1000 }));
  const within = waits.filter((w) => Math.abs(w.est - w.actual) <= 0.2 * w.actual).length;
  const errors = waits.map((w) => w.est - w.actual);
  const waitingMinutes = waits.reduce((m, w) => m + w.actual, 0) / 60;
  return {
    sold: granted, durationS: round(durationS, 2), soldRps: durationS ? round(granted / durationS) : 0,
    peakSoldRps10s: round(peakRate(done)), ratePerSecond,
    latencyMs: { join: summary(run.join), status: summary(run.status), reserve: summary(run.reserve) },
    polls: run.polls, statuses: run.statuses, samples: run.samples, clientLoopLagMs: run.clientLoopLagMs,
    // Timeouts: answered after the client's 10 s, or never (see waitingroom-shoppers.mjs: the shopper waits on).
    timeouts: countWhere(run.statuses, / (timeout|late)$/), socketErrors: countWhere(run.statuses, / error$/),
    serverErrors: countWhere(run.statuses, / 5\d\d$/), shed: countWhere(run.statuses, / 503$/),
    otherServerErrors: countWhere(run.statuses, / 5(?!03)\d\d$/),
    inversionsOver1s: inversionsOver1s(recs), gaveUp: recs.filter((s) => s.gaveUp).length,
    joinRetries: recs.reduce((k, s) => k + (s.joinRetries ?? 0), 0), reserveRetries: recs.reduce((k, s) => k + (s.reserveRetries ?? 0), 0),
    estimateWithin20pct: round(within / Math.max(1, waits.length), 3),
    // Estimate minus actual (s): negative = the room said less than it took.
    estimateErrorS: summary(errors.map((e) => Math.abs(e))), estimateBiasS: round(errors.reduce((a, b) => a + b, 0) / Math.max(1, errors.length), 2),
    actualWaitS: summary(waits.map((w) => w.actual)),
    originRequestsPerWaitingShopperMinute: round(run.polls / Math.max(1e-9, waitingMinutes), 2),
    proof: { reservations: rows.n, units: rows.units, granted, oversell: rows.units > granted || rows.n !== granted, undersell: granted < n },
  };
}

function directMetrics(run, { n, rows, t0 }) {
  const done = run.records.filter((s) => s.doneAt).map((s) => s.doneAt);
  const granted = (run.statuses['reserve 201'] ?? 0) + (run.statuses['reserve 200'] ?? 0);
  const durationS = done.length ? (Math.max(...done) - t0) / 1000 : null;
  return {
    sold: granted, durationS: round(durationS, 2), soldRps: durationS ? round(granted / durationS) : 0, peakSoldRps10s: round(peakRate(done)),
    latencyMs: { reserve: summary(run.reserve) }, statuses: run.statuses, requests: run.reserve.length, clientLoopLagMs: run.clientLoopLagMs,
    timeouts: countWhere(run.statuses, / (timeout|late)$/), serverErrors: countWhere(run.statuses, / 5(?!03)\d\d$/),
    otherServerErrors: countWhere(run.statuses, / 5(?!03)\d\d$/),
    shed: run.statuses['reserve 503'] ?? 0, gaveUp: run.records.filter((s) => s.gaveUp).length,
    inversionsOver1s: inversionsOver1s(run.records),
    proof: { reservations: rows.n, units: rows.units, granted, oversell: rows.units > granted || rows.n !== granted, undersell: granted < n },
  };
}

const cpuOf = (pids) => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, processCpuSeconds(pid)]));
function cpuPercent(before, after, seconds) {
  return Object.fromEntries(Object.keys(before).map((k) => [k, before[k] === null || after[k] === null ? null : round(((after[k] - before[k]) / seconds) * 100, 0)]));
}

export async function waitingRoomCase({
  env, auth, db, shoppers: n, arrivalS, ratePerSecond, rateSource, apiProcesses = 2, clientThreads = 2, connections = 64, say,
}) {
  const runId = Date.now().toString(36);
  const table = `catalog-waitingroom-bench-${runId}`;
  const dynalite = await startDynalite();
  await createTables({ endpoint: dynalite.endpoint, names: { sessions: env.SESSIONS_TABLE, cache: env.CACHE_TABLE }, ttl: false });
  await createWaitingRoomTable({ endpoint: dynalite.endpoint, name: table });
  let t = now();
  const tokens = [];
  for (let i = 0; i < n; i += 1) tokens.push((await auth.signFor(`wr-${runId}-${i}`)).authorization);
  say(`waiting room: ${n} shopper tokens signed in ${round((now() - t) / 1000)} s; dynalite ${dynalite.endpoint}`);
  const roomEnv = (controllerMs) => ({
    DYNAMODB_ENDPOINT: dynalite.endpoint, WAITING_ROOM_SKUS: `${ROOM_SKU},${WARM_QUEUE_SKU}`, WAITING_ROOM_TABLE: table, WAITING_ROOM_SECRET: secret,
    // Before the probe fixed the rate: 1 (that process is restarted with the rate, and runs no controller).
    WAITING_ROOM_ADMIT_PER_SECOND: String(rate ?? 1), WAITING_ROOM_MAX_ACTIVE: String((rate ?? 1) * 120), WAITING_ROOM_CONTROLLER_MS: String(controllerMs),
    // Every shopper's token stays verified (the default 10,000 entries would re-verify half the crowd's polls).
    AUTH_VERIFY_CACHE_ENTRIES: String(n + 1000),
  });
  const secret = randomBytes(32).toString('hex');
  let rate = ratePerSecond;
  const out = {
    shoppers: n, arrivalS,
    setup: { emulator: 'dynalite', queueProcesses: apiProcesses, reserveProcesses: 1, controllerProcess: true, controllerMs: CONTROLLER_MS, clientThreads, connectionsPerThreadAndApi: connections },
  };
  // apis[0] takes the admitted shoppers' reservations (and the capacity probe); apis[1..] the joins and polls.
  const apis = [];
  try {
    // The probe runs on the reservation process as the open-loop case runs on its API (the room's settings do
    // not touch a SKU that is not behind it); the rate is fixed before the controller starts.
    apis.push(await startApi(env, roomEnv(0)));
    if (!rate) {
      out.capacityProbe = await probeCapacity({ url: apis[0].url, auth, runId, say });
      rate = Math.max(1, Math.floor(out.capacityProbe.capacityRps / 2));
      rateSource = `half the one-SKU capacity ${out.capacityProbe.capacityRps}/s probed in this case (${PROBE_STEP_S} s steps, one API process)`;
      if (!out.capacityProbe.capacityRps) { rate = 50; rateSource = 'probe found no rate within capacity: 50/s'; }
      await apis[0].stop();
      apis.length = 0;
      apis.push(await startApi(env, roomEnv(0)));
    }
    Object.assign(out, { ratePerSecond: rate, rateSource });
    for (let k = 0; k < apiProcesses; k += 1) apis.push(await startApi(env, roomEnv(0)));
    const controller = await startApi(env, roomEnv(CONTROLLER_MS));
    for (const a of apis) assertLoopback(a.url);
    const urls = apis.map((a) => a.url);
    const [reserveUrl, ...queueUrls] = urls;
    for (const sku of [ROOM_SKU, DIRECT_SKU]) await restock(urls[0], auth, sku, n * 2);
    await warmUp({ reserveUrl, queueUrls, auth, runId });
    // Arrivals: uniform over the window, the same for both runs.
    const arrivals = Array.from({ length: n }, () => Math.random() * arrivalS * 1000).sort((a, b) => a - b);
    const shoppers = arrivals.map((arrival, i) => ({ i, arrival, authorization: tokens[i] }));
    // Bounded: a shopper still waiting this long after the start leaves (and counts as unsold).
    const boundMs = Math.max(60_000, (n / rate) * 1000 * 1.5);
    const pids = { ...Object.fromEntries(apis.map((a, k) => [`api${k}`, a.pid])), controller: controller.pid, dynalite: dynalite.pid };

    say(`waiting room: ${n} shoppers within ${arrivalS} s, admission ${rate}/s (${rateSource}); API processes: ${apiProcesses} for joins and polls, `
      + `1 for reservations, 1 controller; ${clientThreads} client threads`);
    let cpu0 = cpuOf(pids);
    t = now() + 500;
    const room = await crowd({ mode: 'room', urls: queueUrls, reserveUrls: [reserveUrl], sku: ROOM_SKU, keyPrefix: `wr-${runId}-`, shoppers, t0: t, boundMs, threads: clientThreads, connections });
    const roomWall = (now() - t) / 1000;
    out.room = roomMetrics(room, { n, rows: await reservationsOf(db, ROOM_SKU, `wr-${runId}-`), ratePerSecond: rate });
    out.room.wallS = round(roomWall);
    const cpu1 = cpuOf(pids);
    out.room.cpuPercent = cpuPercent(cpu0, cpu1, roomWall);
    // What a join or poll costs the queue processes (CPU seconds over the requests they answered).
    const queueCpuS = queueUrls.reduce((sum, _u, k) => sum + (cpu1[`api${k + 1}`] ?? 0) - (cpu0[`api${k + 1}`] ?? 0), 0);
    out.room.apiCpuMsPerJoinOrPoll = round((queueCpuS * 1000) / Math.max(1, room.join.length + room.status.length), 2);
    await controller.stop();
    say(`waiting room: sold ${out.room.soldRps}/s (rate ${rate}/s, peak 10 s ${out.room.peakSoldRps10s}/s), reserve p99 ${out.room.latencyMs.reserve.p99} ms, `
      + `join p99 ${out.room.latencyMs.join.p99} ms, status p99 ${out.room.latencyMs.status.p99} ms; ${room.polls} polls; wall ${out.room.wallS} s; cpu ${JSON.stringify(out.room.cpuPercent)}`
      + `${room.samples.length ? `; samples ${JSON.stringify(room.samples)}` : ''}`);

    cpu0 = cpuOf(pids);
    t = now() + 500;
    const direct = await crowd({ mode: 'direct', urls, sku: DIRECT_SKU, keyPrefix: `wd-${runId}-`, shoppers, t0: t, boundMs, threads: clientThreads, connections });
    const directWall = (now() - t) / 1000;
    out.direct = directMetrics(direct, { n, rows: await reservationsOf(db, DIRECT_SKU, `wd-${runId}-`), t0: t });
    out.direct.wallS = round(directWall);
    out.direct.cpuPercent = cpuPercent(cpu0, cpuOf(pids), directWall);
    say(`no waiting room: sold ${out.direct.soldRps}/s, ${out.direct.shed} x 503, ${out.direct.requests} requests for ${n} shoppers; wall ${out.direct.wallS} s`);
  } finally {
    await Promise.all(apis.map((a) => a.stop()));
    await dynalite.stop();
  }
  out.verdicts = waitingRoomVerdicts(out);
  return out;
}

export function waitingRoomTable(out) {
  const r = out.room;
  const d = out.direct;
  const l = (x) => `${x.p50}/${x.p99} ms`;
  const lines = [
    `waiting room: ${out.shoppers} shoppers arriving within ${out.arrivalS} s, one SKU, admission ${out.ratePerSecond}/s (${out.rateSource})`,
    `  with the room: sold ${r.sold} at ${r.soldRps}/s over ${r.durationS} s (busiest 10 s: ${r.peakSoldRps10s}/s); p50/p99 join ${l(r.latencyMs.join)}, status ${l(r.latencyMs.status)}, `
      + `reserve ${l(r.latencyMs.reserve)}; ${r.polls} polls = ${r.originRequestsPerWaitingShopperMinute} origin requests per waiting shopper per minute; `
      + `wait p50/p99 ${r.actualWaitS.p50}/${r.actualWaitS.p99} s, estimate within 20 %: ${Math.round(r.estimateWithin20pct * 100)} % (mean error ${r.estimateBiasS} s); `
      + `inversions > 1 s: ${r.inversionsOver1s}; gave up ${r.gaveUp}; retries: ${r.joinRetries} joins, ${r.reserveRetries} reservations; `
      + `API CPU ${r.apiCpuMsPerJoinOrPoll} ms per join or poll, CPU % ${JSON.stringify(r.cpuPercent)}, client loop lag p99 ${r.clientLoopLagMs.p99} ms; `
      + `statuses ${JSON.stringify(r.statuses)}`,
  ];
  if (d) {
    lines.push(`  without:       sold ${d.sold} at ${d.soldRps}/s over ${d.durationS} s; ${d.requests} requests (${d.shed} x 503) for ${out.shoppers} shoppers; reserve ${l(d.latencyMs.reserve)}; `
      + `inversions > 1 s: ${d.inversionsOver1s}; gave up ${d.gaveUp}; statuses ${JSON.stringify(d.statuses)}`);
  }
  const text = Object.fromEntries(GOALS.map((g) => [g.id, g.text]));
  for (const x of out.verdicts) lines.push(`  ${x.met ? 'met   ' : 'MISSED'} ${text[x.id]}: ${x.detail}`);
  return lines.join('\n');
}
