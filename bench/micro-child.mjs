// Where a cached product read spends its CPU, in-process (no HTTP): the API's router with its real cache,
// then with the EMF metrics line, the Powertools log line, and both (the API as deployed: src/observability.mjs
// RequestLog, the log line and the EMF line in one stdout write). Each variant runs
// several rounds, alternating, and keeps its fastest round: other work on the machine only slows rounds down.
// Prints one JSON line: microseconds per request for each variant.
import { openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createApp } from '../containers/catalog-api/src/app.mjs';
import { LocalCache, ProductCache } from '../containers/catalog-api/src/cache.mjs';
import { Metrics, createLogger } from '../containers/catalog-api/src/observability.mjs';

const devnull = openSync('/dev/null', 'w');
const SKU = 'SKU-000001';
const product = {
  sku: SKU, name: 'Product 1', description: 'Demo product number 1', category: 'books', priceCents: 8019,
  currency: 'USD', updatedAt: new Date().toISOString(), available: 100,
};
const silent = { info() {}, warn() {}, error() {} };

function appWith({ log, emf }) {
  // Powertools writes through console to stdout; the child's stdout is /dev/null, as in the server runs.
  const logger = log ? createLogger({ serviceName: 'catalog-api-bench', logLevel: 'INFO' }) : silent;
  // With both (the API as deployed), the default writer: the log line and the EMF line share one stdout write.
  const metrics = emf
    ? new Metrics({ service: 'catalog-api-bench', write: log ? undefined : (line) => writeSync(devnull, line) })
    : { begin: () => ({ add() {}, publish() {} }) };
  const local = new LocalCache({ ttlMs: 3_600_000, maxEntries: 1000 });
  local.set(`product:v1:${SKU}`, product, JSON.stringify(product)); // as ProductCache stores it
  const cache = new ProductCache({ local, dynamo: { enabled: false, get: async () => undefined, getEntry: async () => undefined }, logger });
  // Reads take no token: a verifier that would refuse everything keeps identity out of the measurement.
  const verifier = { async verify() { throw new Error('the micro benchmark sends no tokens'); } };
  return createApp({ logger, metrics, cache, verifier, store: {}, config: {}, db: {}, doc: {}, sessions: {} });
}

const variants = {
  router: appWith({}), withMetrics: appWith({ emf: true }), withLog: appWith({ log: true }), api: appWith({ log: true, emf: true }),
};
const n = Number(process.env.MICRO_REQUESTS ?? 20000);
const best = {};
for (let round = 0; round < 5; round += 1) {
  for (const [name, app] of Object.entries(variants)) {
    const started = performance.now();
    for (let i = 0; i < n; i += 1) await (await app.request(`/api/products/${SKU}`)).text();
    const us = ((performance.now() - started) / n) * 1000;
    if (round > 0) best[name] = Math.min(best[name] ?? Infinity, us); // round 0 warms the JIT
  }
}
for (const key of Object.keys(best)) best[key] = Number(best[key].toFixed(1));
process.stderr.write(`MICRO ${JSON.stringify({ requestsPerRound: n, usPerRequest: best })}\n`);
