// Open-loop flash sale: a fixed arrival rate of reservations (quantity 1, a
// fresh idempotency key each) on ONE SKU, step by step, with the API's default
// configuration (DynamoDB cache tier on: moto runs and its CPU is measured),
// once with the API's default shard count and once restocked to one shard.
// pgbench runs the single-row reservation statement in the same run as the
// baseline. After every step the stock is proved against the answers.
//
// results.cases.openLoop (rendered by the README generator; add fields, do not rename):
//   { runId, durationS, rates[], timeoutMs, connections, apiOverrides, motoFound, cpuPercent (whole case),
//     shards: { supported, note?, probe? },
//     variants: [{ label, shards: 'default' | k, capacityRps, steps: [Step], sellOut: Step | null }],
//     pgbench: { tps, clients, latencyMs: { p50, p95, p99, max }, ... } }
//   Step: { sku, shards, stock, restock, offeredRps, durationS, scheduled, sent, answered, achievedRps, grantedRps,
//     takenRps, latencyMs: { p50, p95, p99, max }, latencyByClassMs: { granted, soldOut, refused },
//     status: { '201': n, ... }, shedReasons: { queue_full: n, lock_timeout: n, ... }, timeouts, errors, errorSamples,
//     generator: { connections, timeoutMs, sendRps, scheduleLagMs, cpuPercent, maxInFlight, maxClientQueue, limited },
//     cpuPercent: { api, moto, postgres, generator, machine, motoShareOfBusy }, loadAvg1m,
//     proof: { stockBefore, stockAfter, stockTaken, granted, soldOut, grantedAfterClientGaveUp, reservations,
//              negativeRows, soldOutWithStock, oversell, undersell, consistent, ok } }
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { openLoop } from './openloop.mjs';
import { machineTicks, processCpuSeconds } from './load.mjs';
import { pgbench } from './pgbench.mjs';
import { startApi } from './stack.mjs';

const skuOf = (n) => `SKU-${String(n).padStart(6, '0')}`;
// SKUs of their own (the other cases use 1-9): one per step, so every proof starts from an untouched row.
const FIRST_SKU = 200;
const PGBENCH_SKU = skuOf(199);
const WARM_SKU = skuOf(198);
const PROBE_SKU = skuOf(197);
const round = (v, d = 1) => (v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(d)));

/** Our child processes whose command line matches (moto is started by the API's local-infra helper). */
function childPids(pattern) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.split(') ')[1].split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (pattern.test(readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' '))) out.push(Number(name));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

/** CPU seconds of this run's PostgreSQL backends (command line names the database: other work on the machine may
 *  share the server), by pid; backends opened during a step start at 0. */
function postgresCpu(dbName) {
  const out = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      if (!readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(` ${dbName} `)) continue;
      const f = stat.split(') ')[1].split(' ');
      out.set(name, (Number(f[11]) + Number(f[12])) / 100);
    } catch { /* gone meanwhile */ }
  }
  return out;
}

function cpuSnapshot(pids) {
  return {
    at: performance.now(),
    api: processCpuSeconds(pids.api),
    moto: pids.moto ? processCpuSeconds(pids.moto) : null,
    postgres: postgresCpu(pids.dbName),
    ticks: machineTicks(),
  };
}

/** Share of one core (%) of each process between two snapshots, and moto's share of the machine's busy time. */
function cpuBetween(a, b, generatorPercent) {
  const s = (b.at - a.at) / 1000;
  const pct = (x, y) => (x === null || y === null ? null : round(((y - x) / s) * 100, 0));
  let pg = 0;
  for (const [pid, v] of b.postgres) pg += v - (a.postgres.get(pid) ?? 0);
  const busyJiffies = a.ticks && b.ticks ? b.ticks.busy - a.ticks.busy : null;
  const motoS = a.moto === null || b.moto === null ? null : b.moto - a.moto;
  return {
    api: pct(a.api, b.api),
    moto: pct(a.moto, b.moto),
    postgres: round((pg / s) * 100, 0),
    generator: generatorPercent,
    machine: a.ticks && b.ticks ? round((busyJiffies / (b.ticks.total - a.ticks.total)) * 100, 0) : null,
    // moto is a Python stand-in for DynamoDB on the same cores: what share of all busy CPU it took.
    motoShareOfBusy: motoS !== null && busyJiffies ? round(motoS / (busyJiffies / 100), 3) : null,
  };
}

async function json(res) {
  const text = await res.text();
  try { return JSON.parse(text); } catch { return { text: text.slice(0, 300) }; }
}

/** Set the SKU's stock through the API (admin); shards: null = the API's default. */
async function restock(api, auth, sku, available, shards) {
  const body = shards === null ? { available, reason: 'bench open-loop step' } : { available, shards, reason: 'bench open-loop step' };
  const res = await fetch(`${api.url}/api/products/${sku}/inventory`, {
    method: 'PUT', headers: { 'content-type': 'application/json', ...auth.headers('admin') }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await json(res) };
}

async function inventory(api, auth, sku) {
  const res = await fetch(`${api.url}/api/products/${sku}/inventory`, { headers: auth.headers('shopper') });
  const body = await json(res);
  if (res.status !== 200) throw new Error(`GET inventory ${sku}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Does this API build take `shards` on restock? A 400 naming the field means no. */
async function shardSupport(api, auth) {
  const r = await restock(api, auth, PROBE_SKU, 10, 2);
  if (r.status === 200) return { supported: true, probe: r.body };
  const text = JSON.stringify(r.body);
  if (r.status === 400 && /shards/.test(text)) return { supported: false, note: 'shards: not supported by this API build' };
  throw new Error(`restock probe: ${r.status} ${text}`);
}

/** Stock settles once requests the client gave up on have finished on the server. Bounded wait. */
async function settledStock(api, auth, sku, maxMs = 10_000) {
  const deadline = Date.now() + maxMs;
  let last = (await inventory(api, auth, sku)).available;
  let lastChange = performance.now(); // an upper bound of when the server sold its last unit
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const now = (await inventory(api, auth, sku)).available;
    if (now === last || Date.now() > deadline) return { available: now, settled: now === last, lastChange };
    last = now;
    lastChange = performance.now();
  }
}

/** Every table with an `available` column (inventory, and shard tables an API build may add): negative rows. */
async function negativeRows(db) {
  const { rows: tables } = await db.writer.query(
    `SELECT quote_ident(table_name) AS t FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name = 'available' AND data_type IN ('integer', 'bigint', 'smallint', 'numeric')`);
  let n = 0;
  for (const { t } of tables) {
    const { rows } = await db.writer.query(`SELECT count(*)::int AS n FROM ${t} WHERE available < 0`);
    n += rows[0].n;
  }
  return { negativeRows: n, tables: tables.map((r) => r.t) };
}

/** Reservation rows of the step, matched to what each request was told. */
async function reservationRows(db, sku, prefix, outcome) {
  try {
    const { rows } = await db.writer.query(
      `SELECT idempotency_key AS k, quantity AS q FROM reservations WHERE sku = $1 AND idempotency_key LIKE $2`, [sku, `${prefix}%`]);
    const byOutcome = { granted: 0, timedOut: 0, errored: 0, refused: 0 };
    let units = 0;
    for (const { k, q } of rows) {
      units += q;
      const o = outcome[Number(k.slice(prefix.length))];
      if (o === 201) byOutcome.granted += 1;
      else if (o === 'timeout') byOutcome.timedOut += 1; // the client gave up; the server still granted it
      else if (o === 'error') byOutcome.errored += 1;
      else byOutcome.refused += 1; // a row for a request answered other than 201: a lie
    }
    return { rows: rows.length, units, ...byOutcome };
  } catch (err) {
    return { error: `reservations not readable: ${err.message}` };
  }
}

/** One offered rate on a fresh SKU; the proof compares answers, reservation rows and stock. */
async function step({ api, auth, db, pids, sku, shards, rate, durationS, stock, timeoutMs, connections, tag, say }) {
  const rs = await restock(api, auth, sku, stock, shards);
  if (rs.status !== 200) throw new Error(`restock ${sku}: ${rs.status} ${JSON.stringify(rs.body)}`);
  const before = (await inventory(api, auth, sku)).available;
  const prefix = `${tag}-`;
  const path = `/api/products/${sku}/reservations`;
  let soldOutWithStock = 0;
  const shedReasons = {};
  const before0 = cpuSnapshot(pids);
  const startedAt = performance.now();
  const run = await openLoop({
    url: api.url, rate, durationS, timeoutMs, connections,
    path: () => path,
    headers: () => ({ 'content-type': 'application/json', ...auth.headers('shopper') }),
    body: (i) => `{"quantity":1,"idempotencyKey":"${prefix}${i}"}`,
    parseStatuses: [409, 503],
    onAnswer: (_i, status, b) => {
      // A 409 that still saw stock (the API reports what it saw) is an undersell, whatever the end state.
      if (status === 409 && typeof b?.available === 'number' && b.available >= 1) soldOutWithStock += 1;
      // Which bound shed it (queue_full, pool_timeout, lock_timeout, statement_timeout, busy...).
      if (status === 503) {
        const reason = b?.reason ?? 'unknown';
        shedReasons[reason] = (shedReasons[reason] ?? 0) + 1;
      }
    },
  });
  const after0 = cpuSnapshot(pids);
  const cpuPercent = cpuBetween(before0, after0, run.generator.cpuPercent);
  const settled = await settledStock(api, auth, sku);
  const rows = await reservationRows(db, sku, prefix, run.outcome);
  const neg = await negativeRows(db);
  const granted = run.status['201'] ?? 0;
  const soldOut = run.status['409'] ?? 0;
  const taken = before - settled.available;
  const offered = run.scheduled;
  // Stock sufficed for every request when the step could not sell out, even if all were granted.
  const stockSufficed = stock >= offered;
  const grantedUnseen = rows.error ? 0 : rows.timedOut + rows.errored;
  const proof = {
    stockBefore: before, stockAfter: settled.available, stockSettled: settled.settled, stockTaken: taken,
    granted, soldOut, grantedAfterClientGaveUp: grantedUnseen, reservations: rows, ...neg, soldOutWithStock,
    // Oversell: more granted than taken, more rows than stock, a negative row, or a row for a refused request.
    oversell: granted > taken || taken > before || neg.negativeRows > 0 || (!rows.error && (rows.units > before || rows.refused > 0)),
    // Undersell: a 409 while the total sufficed, a 409 that saw stock, or 409s with stock left at the end.
    undersell: (stockSufficed && soldOut > 0) || soldOutWithStock > 0 || (soldOut > 0 && settled.available > 0),
    // Every unit taken is a reservation row, and every 201 (plus what the server granted after a client timeout) one of them.
    consistent: !rows.error && rows.units === taken && rows.granted === granted && granted + grantedUnseen === taken,
  };
  proof.ok = !proof.oversell && !proof.undersell && proof.consistent;
  const { outcome, ...rest } = run;
  const res = { sku, shards: shards ?? 'default', stock, restock: rs.body, ...rest, shedReasons, grantedRps: round(granted / durationS),
    // What the server sold per second, including requests whose client had given up (their answer never counted).
    // Over the schedule and the tail until the stock stopped moving.
    takenRps: round(taken / Math.max(durationS, (settled.lastChange - startedAt) / 1000)), cpuPercent,
    // Other work on the machine starves the generator and the server alike: kept with every step.
    loadAvg1m: round(os.loadavg()[0], 2), proof };
  say(`open loop ${tag} @${rate}/s: answered ${res.achievedRps}/s, p99 ${res.latencyMs.p99} ms, ${JSON.stringify(res.status)} `
    + `timeouts ${res.timeouts} errors ${res.errors}; shed ${JSON.stringify(shedReasons)}; lag p99 ${res.generator.scheduleLagMs.p99} ms; cpu ${JSON.stringify(cpuPercent)}; proof ${proof.ok ? 'ok' : JSON.stringify(proof)}`);
  return res;
}

/** A step is within capacity when (nearly) all were granted on time: no timeouts or errors, p99 <= 200 ms. */
export function withinCapacity(s, p99Ms = 200) {
  return s.timeouts === 0 && s.errors === 0 && (s.status['201'] ?? 0) >= 0.99 * s.scheduled
    && s.latencyMs.p99 !== null && s.latencyMs.p99 <= p99Ms;
}

export const OVERLOAD_GOODPUT_GOAL = 0.9;

/** Sold/s at twice the capacity step as a fraction of the capacity step's sold/s, with its verdict. */
export function overloadVerdict(capStep, overStep) {
  const fraction = capStep.takenRps > 0 ? overStep.takenRps / capStep.takenRps : null;
  return {
    capacityRps: capStep.offeredRps, capacitySoldRps: capStep.takenRps, offeredRps: overStep.offeredRps, soldRps: overStep.takenRps,
    fraction: fraction === null ? null : round(fraction, 3), goal: OVERLOAD_GOODPUT_GOAL,
    met: fraction !== null && fraction >= OVERLOAD_GOODPUT_GOAL && overStep.proof.ok,
    shed: overStep.status?.['503'] ?? 0, timeouts: overStep.timeouts, p99GrantedMs: overStep.latencyByClassMs?.granted?.p99 ?? null,
  };
}

export function overloadLine(o) {
  return `at 2x capacity (${o.offeredRps}/s offered) sold ${o.soldRps}/s = ${o.fraction === null ? '-' : `${Math.round(o.fraction * 100)} %`} `
    + `of the capacity step (${o.capacitySoldRps}/s at ${o.capacityRps}/s): ${o.met ? 'met' : 'MISSED'} (goal >= ${o.goal * 100} %)`;
}

/** Highest offered rate within capacity, or 0. */
export function capacityOf(steps) {
  return Math.max(0, ...steps.filter((s) => withinCapacity(s)).map((s) => s.offeredRps));
}

export async function openLoopSale({
  env, auth, db, pgbenchMode, rates, durationS, timeoutMs, connections, shardsList, sellOut, warmupS, pgClients, say, cpuProfDir, apiOverrides = {},
}) {
  const runId = Date.now().toString(36);
  // The API's default configuration unless --openloop-api-env says otherwise (cache tier on: CACHE_TTL_SECONDS and
  // DynamoDB as configured).
  const api = await startApi({ ...env, ...auth.env }, apiOverrides, { cpuProfDir });
  const out = { runId, durationS, rates, timeoutMs, connections, apiOverrides, variants: [] };
  try {
    const [motoPid] = childPids(/moto/);
    const pids = { api: api.pid, moto: motoPid ?? null, dbName: env.DB_NAME };
    out.motoFound = Boolean(motoPid);
    const runCpu = cpuSnapshot(pids);
    const shardInfo = await shardSupport(api, auth);
    out.shards = shardInfo;
    if (!shardInfo.supported) say(shardInfo.note);
    // Warm the process (JIT, keep-alive connections, and the pools up to their size: connections opened (SCRAM,
    // a backend fork) during the first measured step cost it ~1 s of p99) on a SKU of its own.
    await restock(api, auth, WARM_SKU, 1_000_000, null);
    if (warmupS > 0) {
      await openLoop({
        url: api.url, rate: 1000, durationS: warmupS, timeoutMs, connections: Math.min(connections, 256),
        path: () => `/api/products/${WARM_SKU}/reservations`,
        headers: () => ({ 'content-type': 'application/json', ...auth.headers('shopper') }),
        body: (i) => `{"quantity":1,"idempotencyKey":"warm-${runId}-${i}"}`,
      });
    }
    // Without shard support the API has one row per SKU: one variant, labelled so.
    const variants = shardInfo.supported ? shardsList : [null];
    let skuN = FIRST_SKU;
    for (const [vi, shards] of variants.entries()) {
      const label = !shardInfo.supported ? 'single-row (shards not supported)' : shards === null ? 'default shards' : `${shards} shard${shards === 1 ? '' : 's'}`;
      const variant = { label, shards: shards ?? 'default', steps: [], sellOut: null };
      for (const [ri, rate] of rates.entries()) {
        // Never sells out within the step: every 409 would then be an undersell.
        const stock = Math.min(1_000_000, Math.ceil(rate * durationS * 1.1) + 100);
        variant.steps.push(await step({
          api, auth, db, pids, sku: skuOf(skuN++), shards, rate, durationS, stock, timeoutMs, connections, tag: `ol-${runId}-${vi}-${ri}`, say,
        }));
      }
      if (sellOut) {
        // Sells out half-way: exactly `stock` granted, the rest 409 only once the stock is 0.
        const stock = Math.floor((sellOut.rate * sellOut.durationS) / 2);
        variant.sellOut = await step({
          api, auth, db, pids, sku: skuOf(skuN++), shards, rate: sellOut.rate, durationS: sellOut.durationS, stock, timeoutMs, connections, tag: `so-${runId}-${vi}`, say,
        });
        const p = variant.sellOut.proof;
        // Demand was twice the stock: stock left over is an undersell unless every request that did not get a
        // unit was told to come back (a shed 503/429 with Retry-After is a refusal, not a "sold out").
        const refused = (variant.sellOut.status?.['503'] ?? 0) + (variant.sellOut.status?.['429'] ?? 0);
        p.unsoldWhileShedding = p.stockAfter > 0 && refused > 0 ? p.stockAfter : 0;
        if (p.granted + p.grantedAfterClientGaveUp < stock && p.stockAfter > 0 && refused === 0) p.undersell = true;
        p.ok = !p.oversell && !p.undersell && p.consistent;
      }
      variant.capacityRps = capacityOf(variant.steps);
      // Overload must not cost goodput: offered twice the capacity step, the SKU still sells >= 90 % of it.
      const capStep = variant.steps.find((s) => s.offeredRps === variant.capacityRps);
      if (capStep) {
        let over = variant.steps.find((s) => s.offeredRps === 2 * variant.capacityRps);
        if (!over) {
          const rate = 2 * variant.capacityRps;
          const stock = Math.min(1_000_000, Math.ceil(rate * durationS * 1.1) + 100);
          over = await step({
            api, auth, db, pids, sku: skuOf(skuN++), shards, rate, durationS, stock, timeoutMs, connections, tag: `ov-${runId}-${vi}`, say,
          });
          variant.overloadStep = over;
        }
        variant.overload = overloadVerdict(capStep, over);
        say(`open loop ${label}: ${overloadLine(variant.overload)}`);
      }
      out.variants.push(variant);
    }
    // The whole case, idle gaps and proofs included: moto's share of the run.
    out.cpuPercent = cpuBetween(runCpu, cpuSnapshot(pids), null);
  } finally {
    await api.stop();
  }
  // The baseline, after the API has stopped: the single-row statement on one SKU that never sells out.
  await db.writer.query('UPDATE inventory SET available = 1000000 WHERE sku = $1', [PGBENCH_SKU]);
  const script = `\\set k random(1, 1000000000000)\nSELECT * FROM reserve_stock('${PGBENCH_SKU}', 1, 'olpg-' || :client_id::text || '-' || :k::text, 600, 'pgbench-' || :client_id::text);\n`;
  // A changed reserve_stock() signature (another API build) must not lose the API's numbers above.
  out.pgbench = await pgbench({ db: env.DB_NAME, mode: pgbenchMode, script, clients: pgClients, seconds: durationS })
    .catch((err) => ({ error: err.message.slice(0, 500), clients: pgClients, tps: null, latencyMs: {} }));
  say(`open loop baseline: pgbench reserve_stock() one SKU -c ${pgClients}: ${out.pgbench.tps} tps`);
  return out;
}

const pad = (v, n) => String(v ?? '-').padStart(n);

/** The per-rate table, for stderr. */
export function openLoopTable(res) {
  const lines = [];
  for (const v of res.variants) {
    lines.push(`open loop, 1 SKU, ${v.label} (capacity at p99 <= 200 ms: ${v.capacityRps}/s)`);
    lines.push(`${pad('offered/s', 10)} ${pad('answered/s', 10)} ${pad('sold/s', 7)} ${pad('p50 ms', 8)} ${pad('p95 ms', 8)} ${pad('p99 ms', 8)} ${pad('201', 6)} ${pad('409', 6)} ${pad('429', 5)} ${pad('503', 6)} ${pad('t/o', 6)} ${pad('err', 5)} ${pad('lag p99', 8)} ${pad('moto %', 6)} proof`);
    for (const s of [...v.steps, ...(v.overloadStep ? [v.overloadStep] : []), ...(v.sellOut ? [{ ...v.sellOut, sell: true }] : [])]) {
      const st = s.status;
      lines.push(`${pad(`${s.offeredRps}${s.sell ? '*' : ''}`, 10)} ${pad(s.achievedRps, 10)} ${pad(s.takenRps, 7)} ${pad(s.latencyMs.p50, 8)} ${pad(s.latencyMs.p95, 8)} ${pad(s.latencyMs.p99, 8)} `
        + `${pad(st['201'] ?? 0, 6)} ${pad(st['409'] ?? 0, 6)} ${pad(st['429'] ?? 0, 5)} ${pad(st['503'] ?? 0, 6)} ${pad(s.timeouts, 6)} ${pad(s.errors, 5)} `
        + `${pad(s.generator.scheduleLagMs.p99, 8)} ${pad(s.cpuPercent.moto, 6)} ${s.proof.ok ? 'ok' : 'FAILED'}`);
    }
  }
  for (const v of res.variants) {
    lines.push(`goodput under overload, ${v.label}: ${v.overload ? overloadLine(v.overload) : 'no step within capacity: not measured (MISSED)'}`);
  }
  if (res.cpuPercent) lines.push(`whole case CPU (% of one core): ${JSON.stringify(res.cpuPercent)}`);
  lines.push(`baseline: pgbench reserve_stock() one SKU -c ${res.pgbench.clients}: ${res.pgbench.tps} tps (p99 ${res.pgbench.latencyMs.p99} ms)`);
  lines.push('sold/s = stock taken per second until the stock stopped moving (incl. requests the client had given up on); '
    + 'lag = generator schedule lag; * = sell-out step');
  const limited = res.variants.flatMap((v) => v.steps).filter((s) => s.generator.limited).map((s) => s.offeredRps);
  if (limited.length) lines.push(`generator behind schedule at ${limited.join(', ')}/s (send rate < 97 % or lag p99 > 50 ms): those rows understate what the API was offered`);
  return lines.join('\n');
}
