// The goals, printed beside the results. A verdict is data, never an
// assertion: nothing fails when a goal is missed, the report says why.
export const GOALS = [
  { id: 'hotReadRatio', text: 'hot read >= 40 % of the bare node:http server (50 and 200 connections)', target: 0.40 },
  { id: 'hotReadP99', text: 'hot read p99 <= 25 ms at 200 connections', target: 25 },
  { id: 'dbReadRatio', text: 'database read >= 40 % of pgbench (same SELECT, same concurrency)', target: 0.40 },
  { id: 'saleRatio', text: 'flash sale >= 40 % of pgbench (same statement, same request count)', target: 0.40 },
  { id: 'sustainedRatio', text: 'sustained reservations >= 40 % of pgbench (contended, never sold out)', target: 0.40 },
  { id: 'zeroOversell', text: 'exactly <stock> reservations succeed, stock ends at 0, no negative stock', target: 0 },
  { id: 'coldStart', text: 'handler init: process start to first answered ALB event <= 300 ms (median)', target: 300 },
];

const verdict = (id, measured, met, detail) => ({ id, measured, met, detail });
const r0 = (v) => Math.round(v ?? 0).toLocaleString('en-US');
const pct = (v) => `${Math.round((v ?? 0) * 100)} %`;

export function evaluate(results) {
  const out = [];
  const { hotRead, dbRead, flashSale, coldStart } = results.cases;
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
    out.push(verdict('saleRatio', sale.ratio, sale.ratio >= 0.40, `${pct(sale.ratio)}: ${r0(sale.api.rps)} rps vs ${r0(sale.pgbench.tps)} tps`));
    out.push(verdict('sustainedRatio', sustained.ratio, sustained.ratio >= 0.40, `${pct(sustained.ratio)}: ${r0(sustained.api.rps)} rps vs ${r0(sustained.pgbench.tps)} tps`));
    const p = sale.proof.api;
    const exact = p.succeeded === stock && p.reservations === stock && p.reserved_units === stock && p.available === 0 && p.negative_rows === 0;
    out.push(verdict('zeroOversell', p.reservations - stock, exact,
      `${p.succeeded} x 201, ${p.soldOut} x 409, ${p.reservations} rows, stock ${p.available}, negative rows ${p.negative_rows}`));
  }
  if (coldStart) out.push(verdict('coldStart', coldStart.wallMs.median, coldStart.wallMs.median <= 300, `${coldStart.wallMs.median} ms`));
  return out;
}
