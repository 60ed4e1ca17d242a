// The benchmark cases. Each measures the API next to a baseline in the same
// run: a bare node:http server for the hot read, pgbench running the same SQL
// for the database read and the reservations.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { load, warmUp } from './load.mjs';
import { pgbench } from './pgbench.mjs';
import { startApi, startBare } from './stack.mjs';
// The baseline runs the API's own product read (catalog-store.mjs getProduct: the SKU's shards summed).
import { GET_PRODUCT } from '../../containers/catalog-api/src/catalog-store.mjs';

const ratio = (a, b) => (a && b ? Number((a / b).toFixed(3)) : null);
const skuOf = (n) => `SKU-${String(n).padStart(6, '0')}`;


export const HOT_SKU = skuOf(1);
export const SKUS = { apiSale: skuOf(2), pgbenchSale: skuOf(3), apiSustained: skuOf(4), pgbenchSustained: skuOf(5), bareUpdate: skuOf(6), serviceTime: skuOf(7) };
// Stock that no sustained run can exhaust: every request is a successful, contended decrement.
const ENDLESS_STOCK = 1_000_000;

async function withServer(start, fn) {
  const server = await start();
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

/** Hot read: the API's in-process cache vs node:http answering the same bytes. */
export async function hotRead({ env, levels, duration, warmup, say, cpuProfDir }) {
  return withServer(() => startApi(env, {}, { cpuProfDir }), async (api) => {
    const path = `/api/products/${HOT_SKU}`;
    const first = await fetch(`${api.url}${path}`);
    const body = await first.text();
    const second = await fetch(`${api.url}${path}`);
    await second.text();
    const cacheHeader = second.headers.get('x-cache');
    return withServer(() => startBare(body), async (bare) => {
      const out = { path, bodyBytes: Buffer.byteLength(body), apiCacheHeader: cacheHeader, levels: [] };
      for (const connections of levels) {
        const b = { url: `${bare.url}${path}`, connections, duration, serverPid: bare.pid };
        await warmUp(b, warmup);
        const bareResult = await load(b);
        const a = { url: `${api.url}${path}`, connections, duration, serverPid: api.pid };
        await warmUp(a, warmup);
        const apiResult = await load(a);
        say(`hot read @${connections}: api ${apiResult.rps} rps p99 ${apiResult.latencyMs.p99} ms, bare ${bareResult.rps} rps`);
        out.levels.push({ connections, api: apiResult, bare: bareResult, ratio: ratio(apiResult.rps, bareResult.rps) });
      }
      out.micro = await micro();
      out.serviceTime = await load({ url: `${api.url}${path}`, connections: 1, duration: Math.min(duration, 3), serverPid: api.pid });
      return out;
    });
  });
}

/** In-process cost of a cached read, with and without the log and metric lines (bench/micro-child.mjs). */
function micro() {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('../micro-child.mjs', import.meta.url))], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.on('data', (d) => { err += d; });
    child.once('exit', () => {
      clearTimeout(timer);
      const line = err.split('\n').find((l) => l.startsWith('MICRO '));
      resolve(line ? JSON.parse(line.slice(6)) : { error: err.slice(-500) });
    });
  });
}

/** Product read from PostgreSQL, both cache tiers off, vs pgbench running the same SELECT. The API is
 *  stopped before pgbench runs: its idle pool must not count against max_connections. */
export async function dbRead({ env, pgbenchMode, products, connections, pool, duration, warmup, say, cpuProfDir }) {
  const overrides = { LOCAL_CACHE_TTL_MS: '0', CACHE_TTL_SECONDS: '0', DB_POOL_MAX: String(pool) };
  const requests = [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/api/products/${skuOf(1 + Math.floor(Math.random() * products))}` }) }];
  const measured = await withServer(() => startApi(env, overrides, { cpuProfDir }), async (api) => {
    const probe = await fetch(`${api.url}/api/products/${skuOf(9)}`);
    await probe.text();
    const opts = { url: api.url, connections, duration, requests, serverPid: api.pid };
    await warmUp(opts, warmup);
    const apiResult = await load(opts);
    const serviceTime = await load({ url: api.url, connections: 1, duration: Math.min(duration, 3), requests, serverPid: api.pid });
    return { apiCacheHeader: probe.headers.get('x-cache'), api: apiResult, serviceTime };
  });
  const script = `\\set n random(1, ${products})\n${GET_PRODUCT.replaceAll('$1', `'SKU-' || lpad(:n::text, 6, '0')`)};\n`;
  const pg = await pgbench({ db: env.DB_NAME, mode: pgbenchMode, script, clients: connections, seconds: duration });
  const pgServiceTime = await pgbench({ db: env.DB_NAME, mode: pgbenchMode, script, clients: 1, seconds: Math.min(duration, 3) });
  say(`db read @${connections}: api ${measured.api.rps} rps (x-cache ${measured.apiCacheHeader}), pgbench ${pg.tps} tps`);
  return { connections, apiPool: pool, overrides, ...measured, pgbench: pg, pgServiceTime, ratio: ratio(measured.api.rps, pg.tps) };
}

const reserveSql = (sku, tag) => `\\set k random(1, 1000000000000)
SELECT * FROM reserve_stock('${sku}', 1, '${tag}-' || :client_id::text || '-' || :k::text, 600, 'pgbench-' || :client_id::text);
`;

async function stockProof(db, sku) {
  const { rows } = await db.writer.query(
    `SELECT i.available,
            (SELECT count(*) FROM reservations r WHERE r.sku = i.sku)::int AS reservations,
            (SELECT coalesce(sum(quantity), 0) FROM reservations r WHERE r.sku = i.sku)::int AS reserved_units,
            (SELECT count(*) FROM inventory WHERE available < 0)::int AS negative_rows
       FROM inventory i WHERE i.sku = $1`, [sku]);
  return rows[0];
}

async function setStock(db, sku, available) {
  await db.writer.query('UPDATE inventory SET available = $2 WHERE sku = $1', [sku, available]);
}

/** Flash sale, closed loop (each client waits for its answer before the next request, so the rate measured is
 *  clients / latency): 1,000 clients on one SKU with stock 500, and a sustained contended run, each vs pgbench. */
export async function flashSale({ env, pgbenchMode, db, clients, stock, requests, pool, duration, warmup, say, overrides: extra = {}, cpuProfDir, authHeaders = {} }) {
  const overrides = { DB_POOL_MAX: String(pool), ...extra };
  await setStock(db, SKUS.apiSale, stock);
  await setStock(db, SKUS.pgbenchSale, stock);
  await setStock(db, SKUS.apiSustained, ENDLESS_STOCK);
  await setStock(db, SKUS.pgbenchSustained, ENDLESS_STOCK);
  await setStock(db, SKUS.bareUpdate, ENDLESS_STOCK);
  await setStock(db, SKUS.serviceTime, ENDLESS_STOCK);
  const api = await withServer(() => startApi(env, overrides, { cpuProfDir }), async (server) => {
    // A fresh idempotency key per request (autocannon's idReplacement keeps the template's content-length).
    let n = 0;
    const post = (sku, tag) => ({
      url: `${server.url}/api/products/${sku}/reservations`, serverPid: server.pid,
      requests: [{
        method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders },
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ quantity: 1, idempotencyKey: `${tag}-${process.pid}-${(n += 1)}` }) }),
      }],
    });
    // Warm the process (JIT, pool) on a SKU of its own, so the sale starts on a warm server like a provisioned one.
    await warmUp({ ...post(SKUS.serviceTime, 'warm'), connections: 50 }, warmup);
    // One client first, on the quiet server: the service time of a reservation (no queue in front of it).
    const serviceTime = await load({ ...post(SKUS.serviceTime, 'st'), connections: 1, duration: Math.min(duration, 3) });
    const sale = await load({ ...post(SKUS.apiSale, 'sale'), connections: clients, amount: requests, timeoutS: 120 });
    const sustained = await load({ ...post(SKUS.apiSustained, 'sus'), connections: clients, duration });
    return { sale, sustained, serviceTime };
  });
  const saleProof = await stockProof(db, SKUS.apiSale);
  say(`flash sale (closed loop): api ${api.sale.rps} rps p99 ${api.sale.latencyMs.p99} ms status ${JSON.stringify(api.sale.status)}; proof ${JSON.stringify(saleProof)}`);
  // pgbench after the API has stopped (its pool closed), same statements, as many sessions as the API's pool.
  const pgSale = await pgbench({ db: env.DB_NAME, mode: pgbenchMode, script: reserveSql(SKUS.pgbenchSale, 'pgsale'), clients: pool, transactionsPerClient: Math.ceil(requests / pool) });
  const pgSaleProof = await stockProof(db, SKUS.pgbenchSale);
  const pgSustained = await pgbench({ db: env.DB_NAME, mode: pgbenchMode, script: reserveSql(SKUS.pgbenchSustained, 'pgsus'), clients: pool, seconds: duration });
  const bareUpdate = await pgbench({
    db: env.DB_NAME, mode: pgbenchMode, clients: pool, seconds: Math.min(duration, 4),
    script: `UPDATE inventory SET available = available - 1, updated_at = now() WHERE sku = '${SKUS.bareUpdate}' AND available >= 1;\n`,
  });
  const pgServiceTime = await pgbench({ db: env.DB_NAME, mode: pgbenchMode, script: reserveSql(SKUS.serviceTime, 'pgst'), clients: 1, seconds: Math.min(duration, 3) });
  say(`flash sale (closed loop) pgbench ${pgSale.tps} tps; sustained: api ${api.sustained.rps} rps p99 ${api.sustained.latencyMs.p99} ms, pgbench reserve_stock ${pgSustained.tps} tps, bare UPDATE ${bareUpdate.tps} tps`);
  // A shed request (503 + Retry-After) is not an answer pgbench ever gives: the rates compared are the decided
  // answers (201 sold, 409 sold out) for the sale and the granted reservations for the sustained run.
  const perSecond = (run, codes) => codes.reduce((n, code) => n + (run.status[code] ?? 0), 0) / run.durationS;
  api.sale.decidedRps = Number(perSecond(api.sale, ['201', '409']).toFixed(1));
  api.sustained.grantedRps = Number(perSecond(api.sustained, ['201']).toFixed(1));
  return {
    clients, stock, requests, apiPool: pool, overrides,
    sale: {
      api: api.sale, pgbench: pgSale, ratio: ratio(api.sale.decidedRps, pgSale.tps),
      proof: {
        api: { ...saleProof, succeeded: api.sale.status['201'] ?? 0, soldOut: api.sale.status['409'] ?? 0 },
        pgbench: pgSaleProof,
      },
    },
    sustained: { api: api.sustained, pgbench: pgSustained, bareUpdate, ratio: ratio(api.sustained.grantedRps, pgSustained.tps) },
    serviceTime: api.serviceTime, pgServiceTime,
  };
}

/** Latency vs load for the chart: the same cases at several connection counts, shorter runs. */
export async function sweep({ env, products, levels, pool, duration, say }) {
  const points = { hotRead: [], dbRead: [] };
  await withServer(() => startApi(env), async (api) => {
    const url = `${api.url}/api/products/${HOT_SKU}`;
    await warmUp({ url, connections: 50 }, 1);
    for (const connections of levels) {
      const r = await load({ url, connections, duration, serverPid: api.pid });
      points.hotRead.push({ connections, rps: r.rps, ...r.latencyMs, errors: r.errors, cpuPercent: r.cpuPercent, listenOverflows: r.listenOverflows });
    }
  });
  await withServer(() => startApi(env, { LOCAL_CACHE_TTL_MS: '0', CACHE_TTL_SECONDS: '0', DB_POOL_MAX: String(pool) }), async (api) => {
    const requests = [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/api/products/${skuOf(1 + Math.floor(Math.random() * products))}` }) }];
    await warmUp({ url: api.url, connections: 50, requests }, 1);
    for (const connections of levels) {
      const r = await load({ url: api.url, connections, duration, requests, serverPid: api.pid });
      points.dbRead.push({ connections, rps: r.rps, ...r.latencyMs, errors: r.errors, cpuPercent: r.cpuPercent, listenOverflows: r.listenOverflows });
    }
  });
  say(`sweep: ${levels.length} levels x 2 cases`);
  return { levels, durationS: duration, apiPool: pool, points };
}
