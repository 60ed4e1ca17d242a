// The issue's goals, printed beside the results. A verdict is data, never an
// assertion: nothing fails when a goal is missed, the report says why.
export const GOALS = [
  { id: 'hotReadRatio', text: 'hot read >= 40 % of the bare node:http server (50 and 200 connections)', target: 0.40 },
  { id: 'hotReadP99', text: 'hot read p99 <= 25 ms at 200 connections', target: 25 },
  { id: 'dbReadRatio', text: 'database read >= 40 % of pgbench (same SELECT, same concurrency)', target: 0.40 },
  { id: 'saleRatio', text: 'flash sale, closed loop >= 40 % of pgbench (same statement, same request count; decided answers 201 + 409 per second)', target: 0.40 },
  { id: 'sustainedRatio', text: 'sustained reservations, closed loop >= 40 % of pgbench (contended, never sold out; granted reservations per second)', target: 0.40 },
  { id: 'zeroOversell', text: 'closed-loop flash sale: exactly <stock> reservations succeed, stock ends at 0, no negative stock', target: 0 },
  // Open loop (fixed arrival rate on one SKU). Capacity = highest offered rate with p99 <= 200 ms, >= 99 % granted,
  // no timeouts or errors (bench/lib/flash-openloop.mjs withinCapacity).
  { id: 'openLoopVsPgbench', text: 'open loop: one-SKU capacity (p99 <= 200 ms) >= 1.0x single-row pgbench reserve_stock() of the same run', target: 1.0 },
  { id: 'openLoopVsOneShard', text: 'open loop: one-SKU capacity with default shards >= 2x the same API with one shard', target: 2.0 },
  { id: 'openLoopOverload', text: 'open loop above capacity: answered p99 <= 1 s, every refusal a fast (p99 <= 200 ms) 503/429, no client timeouts', target: 1000 },
  { id: 'openLoopGoodput', text: 'open loop at 2x the capacity step (SKU not behind the waiting room): sold/s >= 90 % of the capacity step\'s sold/s', target: 0.9 },
  { id: 'openLoopStock', text: 'open loop: zero oversell and zero undersell (201s = stock taken = rows, no negative row, 409 only at stock 0)', target: 0 },
  { id: 'coldStart', text: 'handler init: process start to first answered ALB event <= 300 ms (median)', target: 300 },
  { id: 'dbFaults', text: 'database killed / frozen under load (--cases faults): the API stays up, 503 with Retry-After while it is gone, first 201 <= 1 s after it answers again, every granted key one reservation, units conserved', target: 1000 },
  // The waiting room's crowd (--cases waitingroom; bench/lib/waitingroom.mjs): 20,000 shoppers within 10 s.
  { id: 'waitingRoomReserveP99', text: 'waiting room crowd: admitted shoppers\' reservation p99 <= 200 ms', target: 200 },
  { id: 'waitingRoomJoinStatusP99', text: 'waiting room crowd: join and status p99 <= 50 ms', target: 50 },
  { id: 'waitingRoomSoldRate', text: 'waiting room crowd: units sold per second within 5 % of the admission rate, never above it by more than 5 % (busiest 10 s)', target: 0.05 },
  { id: 'waitingRoomInversions', text: 'waiting room crowd: arrival-order inversions beyond 1 s <= 1 % of shoppers', target: 0.01 },
  { id: 'waitingRoomEstimate', text: 'waiting room crowd: estimated wait within 20 % of the actual for 90 % of shoppers', target: 0.9 },
  { id: 'waitingRoomClean', text: 'waiting room crowd: 0 timeouts, 0 5xx, 0 oversell, 0 undersell', target: 0 },
];

const verdict = (id, measured, met, detail) => ({ id, measured, met, detail });
const r0 = (v) => Math.round(v ?? 0).toLocaleString('en-US');
const pct = (v) => `${Math.round((v ?? 0) * 100)} %`;

export function evaluate(results) {
  const out = [];
  const { hotRead, dbRead, flashSale, coldStart, openLoop, dbFaults, waitingRoom } = results.cases;
  if (hotRead) {
    const ratios = hotRead.levels.map((l) => l.ratio);
    out.push(verdict('hotReadRatio', Math.min(...ratios), ratios.every((r) => r >= 0.40),
      hotRead.levels.map((l) => `${l.connections}: ${(l.ratio * 100).toFixed(0)} %`).join(', ')));
    const at200 = hotRead.levels.find((l) => l.connections === 200);
    if (at200) out.push(verdict('hotReadP99', at200.api.latencyMs.p99, at200.api.latencyMs.p99 <= 25, `${at200.api.latencyMs.p99} ms`));
  }
  if (dbRead) out.push(verdict('dbReadRatio', dbRead.ratio, dbRead.ratio >= 0.40, `${pct(dbRead.ratio)}: ${r0(dbRead.api.rps)} rps vs ${r0(dbRead.pgbench.tps)} tps`));
  if (flashSale) {
    const { sale, sustained, stock } = flashSale;
    out.push(verdict('saleRatio', sale.ratio, sale.ratio >= 0.40, `${pct(sale.ratio)}: ${r0(sale.api.decidedRps ?? sale.api.rps)} decided/s vs ${r0(sale.pgbench.tps)} tps`));
    out.push(verdict('sustainedRatio', sustained.ratio, sustained.ratio >= 0.40, `${pct(sustained.ratio)}: ${r0(sustained.api.grantedRps ?? sustained.api.rps)} granted/s vs ${r0(sustained.pgbench.tps)} tps`));
    const p = sale.proof.api;
    const exact = p.succeeded === stock && p.reservations === stock && p.reserved_units === stock && p.available === 0 && p.negative_rows === 0;
    out.push(verdict('zeroOversell', p.reservations - stock, exact,
      `${p.succeeded} x 201, ${p.soldOut} x 409, ${p.reservations} rows, stock ${p.available}, negative rows ${p.negative_rows}`));
  }
  if (openLoop) out.push(...openLoopVerdicts(openLoop));
  if (coldStart) out.push(verdict('coldStart', coldStart.wallMs.median, coldStart.wallMs.median <= 300, `${coldStart.wallMs.median} ms`));
  if (dbFaults) {
    const f = dbFaults;
    const met = f.processAlive && !f.unhandledError && f.maxRecoveryMs !== null && f.maxRecoveryMs <= 1000 && f.failures.not503 === 0
      && f.failures.withoutRetryAfterOrJson === 0 && f.proof.keysMatch && f.proof.grantedTwice === 0 && f.proof.conserved;
    out.push(verdict('dbFaults', f.maxRecoveryMs, met, `${f.kills} kills + ${f.freezes} freezes: process ${f.processAlive ? 'up' : 'gone'}, `
      + `error window max ${f.errorWindowMs} ms, slowest 503 ${f.slowest503Ms} ms, recovery max ${f.maxRecoveryMs} ms, ${f.proof.reservations} reservations, conserved ${f.proof.conserved}`));
  }
  if (waitingRoom?.room) out.push(...waitingRoomVerdicts(waitingRoom));
  return out;
}

/** The waiting room's crowd: results.cases.waitingRoom (bench/lib/waitingroom.mjs). */
export function waitingRoomVerdicts(wr) {
  const r = wr.room;
  const ratio = r.soldRps / wr.ratePerSecond;
  const peak = r.peakSoldRps10s === null || r.peakSoldRps10s === undefined ? ratio : r.peakSoldRps10s / wr.ratePerSecond;
  const reserveP99 = r.latencyMs.reserve.p99;
  const joinP99 = r.latencyMs.join.p99;
  const statusP99 = r.latencyMs.status.p99;
  const at = `${wr.shoppers.toLocaleString('en-US')} shoppers within ${wr.arrivalS} s, admission ${wr.ratePerSecond}/s`;
  return [
    verdict('waitingRoomReserveP99', reserveP99, reserveP99 !== null && reserveP99 <= 200, `${reserveP99} ms (${r.latencyMs.reserve.count} reservations; ${at})`),
    verdict('waitingRoomJoinStatusP99', Math.max(joinP99 ?? Infinity, statusP99 ?? 0), (joinP99 ?? Infinity) <= 50 && (statusP99 ?? 0) <= 50,
      `join ${joinP99} ms, status ${statusP99} ms`),
    verdict('waitingRoomSoldRate', ratio, Math.abs(ratio - 1) <= 0.05 && peak <= 1.05,
      `${r.soldRps}/s = ${ratio.toFixed(3)} of the rate overall, ${peak.toFixed(3)} in the busiest 10 s`),
    verdict('waitingRoomInversions', r.inversionsOver1s, r.inversionsOver1s <= 0.01 * wr.shoppers, `${r.inversionsOver1s} of ${wr.shoppers} shoppers`),
    verdict('waitingRoomEstimate', r.estimateWithin20pct, r.estimateWithin20pct >= 0.9, `${pct(r.estimateWithin20pct)} of admitted shoppers`),
    verdict('waitingRoomClean', r.timeouts + r.serverErrors + (r.socketErrors ?? 0),
      r.timeouts === 0 && r.serverErrors === 0 && !r.socketErrors && !r.proof.oversell && !r.proof.undersell,
      `${r.timeouts} timeouts, ${r.serverErrors} 5xx, ${r.socketErrors ?? 0} socket errors, oversell ${r.proof.oversell ? 'yes' : 'no'}, undersell ${r.proof.undersell ? `yes (${r.proof.granted} of ${wr.shoppers} reserved)` : 'no'}`),
  ];
}

/** Open-loop verdicts: the first variant is the API's default (shards on when supported). */
export function openLoopVerdicts(ol) {
  const out = [];
  const [main, ...others] = ol.variants;
  if (!main) return out;
  const cap = main.capacityRps;
  const pg = ol.pgbench?.tps;
  const vsPg = pg ? cap / pg : null;
  out.push(verdict('openLoopVsPgbench', vsPg, vsPg !== null && vsPg >= 1.0,
    pg ? `${r0(cap)}/s (${main.label}) vs pgbench ${r0(pg)} tps = ${(vsPg).toFixed(2)}x` : `pgbench baseline failed: ${ol.pgbench?.error ?? '?'}`));
  const one = others.find((v) => v.shards === 1);
  if (!one || main.shards === 1) {
    out.push(verdict('openLoopVsOneShard', null, false, `not measured: ${ol.shards?.note ?? 'no one-shard variant in --openloop-shards'}`));
  } else {
    const x = one.capacityRps ? cap / one.capacityRps : null;
    out.push(verdict('openLoopVsOneShard', x, x !== null && x >= 2.0,
      `${r0(cap)}/s vs one shard ${r0(one.capacityRps)}/s${x === null ? '' : ` = ${x.toFixed(2)}x`}`));
  }
  const above = main.steps.filter((s) => s.offeredRps > cap);
  if (!above.length) {
    out.push(verdict('openLoopOverload', null, false, 'not exercised: every offered rate was within capacity'));
  } else {
    const bad = above.map((s) => {
      const problems = [];
      if (s.latencyMs.p99 === null || s.latencyMs.p99 > 1000) problems.push(`p99 ${s.latencyMs.p99} ms`);
      if (s.timeouts) problems.push(`${s.timeouts} timeouts`);
      if (s.errors) problems.push(`${s.errors} errors`);
      const other = Object.entries(s.status).filter(([c]) => !['201', '429', '503'].includes(c)).map(([c, n]) => `${n} x ${c}`);
      problems.push(...other);
      const refused = s.latencyByClassMs?.refused;
      if (refused?.count && refused.p99 > 200) problems.push(`refusal p99 ${refused.p99} ms`);
      if (!refused?.count && (s.status['201'] ?? 0) < s.scheduled) problems.push('no 503/429 refusals');
      return problems.length ? `${s.offeredRps}/s: ${problems.join(', ')}` : null;
    }).filter(Boolean);
    out.push(verdict('openLoopOverload', Math.max(...above.map((s) => s.latencyMs.p99 ?? Infinity)), bad.length === 0,
      bad.length ? bad.join('; ') : `${above.map((s) => s.offeredRps).join(', ')}/s: all refusals fast, no timeouts`));
  }
  const g = main.overload;
  out.push(verdict('openLoopGoodput', g?.fraction ?? null, Boolean(g?.met),
    g ? `${main.label}: ${r0(g.soldRps)}/s sold at ${r0(g.offeredRps)}/s offered vs ${r0(g.capacitySoldRps)}/s at the capacity step (${r0(g.capacityRps)}/s) = ${pct(g.fraction)}`
      : 'not measured: no step within capacity'));
  const steps = ol.variants.flatMap((v) => [...v.steps, ...(v.overloadStep ? [v.overloadStep] : []), ...(v.sellOut ? [v.sellOut] : [])]);
  const failed = steps.filter((s) => !s.proof.ok);
  const over = steps.filter((s) => s.proof.oversell).length;
  const under = steps.filter((s) => s.proof.undersell).length;
  out.push(verdict('openLoopStock', over + under, failed.length === 0,
    failed.length ? `${failed.length} of ${steps.length} steps failed (${over} oversold, ${under} undersold, `
      + `${failed.filter((s) => !s.proof.oversell && !s.proof.undersell).length} answers inconsistent with rows/stock): `
      + failed.map((s) => `${s.shards} shards @${s.offeredRps}/s`).join(', ') : `${steps.length} steps proved`));
  return out;
}
