#!/usr/bin/env node
// `invoke bench` runs this: every case next to its baseline, in one run, on
// loopback; results as JSON in bench/results/<timestamp>.json (path printed on
// the last stdout line). Progress goes to stderr.
//   node bench/run.mjs [--duration 6] [--warmup 1] [--chart] [--quick] [--cases hot,db,flash,openloop,cold,deps,faults,waitingroom]
// flash = closed loop (N clients, each waiting for its answer); openloop = a fixed arrival rate on one SKU.
// faults (only when asked for): a private PostgreSQL killed (kill -9) and frozen (SIGSTOP) under concurrent
// reservations: the API's error window, its recovery time after the database returns, and the proof.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { benchAuth } from './lib/auth.mjs';
import { dbRead, flashSale, hotRead, sweep } from './lib/cases.mjs';
import { openLoopSale, openLoopTable } from './lib/flash-openloop.mjs';
import { waitingRoomCase, waitingRoomTable } from './lib/waitingroom.mjs';
import { coldStart, dependencySize } from './lib/coldstart.mjs';
import { GOALS, evaluate } from './lib/goals.mjs';
import { pgbenchVersion } from './lib/pgbench.mjs';
import { killAll, startInfra } from './lib/stack.mjs';
import { runDbFaults } from '../containers/catalog-api/scripts/db-faults.mjs';

const ALL_CASES = ['hot', 'db', 'flash', 'openloop', 'cold', 'deps'];
// Run only when named in --cases: it kills its own database server, and its numbers are about faults, not speed.
// waitingroom: tens of thousands of shoppers and a minute or more; also only when named.
const ON_REQUEST = ['faults', 'waitingroom'];
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '1' },
    products: { type: 'string', default: '10000' },
    'db-connections': { type: 'string', default: '50' },
    'db-pool': { type: 'string', default: '' },
    clients: { type: 'string', default: '1000' },
    stock: { type: 'string', default: '500' },
    'sale-requests': { type: 'string', default: '10000' },
    'write-pool': { type: 'string', default: '20' },
    'cold-runs': { type: 'string', default: '7' },
    // The flash sale's API with the DynamoDB cache tier on: each successful reservation then deletes the
    // product's cache entry in moto (a Python emulator on the same two cores, unlike DynamoDB).
    'write-dynamo-cache': { type: 'boolean', default: false },
    cases: { type: 'string', default: ALL_CASES.join(',') },
    chart: { type: 'boolean', default: false },
    'sweep-levels': { type: 'string', default: '10,50,100,200,400' },
    'sweep-duration': { type: 'string', default: '3' },
    'cpu-prof-dir': { type: 'string', default: '' },
    out: { type: 'string', default: '' },
    // Open loop: offered reservations/s on one SKU, seconds per rate (default 8; 2 when --duration <= 2, which is
    // what `invoke bench --quick` passes), client timeout from the scheduled send time, keep-alive connections,
    // shard counts to compare ('default' = the API's own; restock body {"available": n, "shards": k}).
    'openloop-rates': { type: 'string', default: '250,500,1000,1500,2000,2500,3000,4000' },
    'openloop-duration': { type: 'string', default: '' },
    'openloop-timeout-ms': { type: 'string', default: '5000' },
    'openloop-connections': { type: 'string', default: '1024' },
    'openloop-shards': { type: 'string', default: 'default,1' },
    // A step that sells out half-way at this rate (0: none): 409s must start only at stock 0.
    'openloop-sellout-rate': { type: 'string', default: '500' },
    // Exploring a setting (e.g. DB_POOL_MAX=20,DB_POOL_MAX_WAITING=100): API env overrides of the open-loop case,
    // kept in results.cases.openLoop.apiOverrides. The goals speak of the default configuration: none.
    'openloop-api-env': { type: 'string', default: '' },
    // Waiting room: distinct shoppers, their arrival window (s), and the admission rate (/s; default half the
    // open-loop capacity of this run when it ran, else half the capacity a short probe in the case measures).
    'waitingroom-shoppers': { type: 'string', default: '20000' },
    'waitingroom-arrival-s': { type: 'string', default: '10' },
    'waitingroom-rate': { type: 'string', default: '' },
    // API processes serving the crowd (plus one that runs only the controller) and client worker threads.
    'waitingroom-api-processes': { type: 'string', default: '2' },
    'waitingroom-client-threads': { type: 'string', default: '2' },
    'fault-kills': { type: 'string', default: '10' },
    'fault-freezes': { type: 'string', default: '2' },
    // Smoke run: short steps everywhere; numbers not to publish.
    quick: { type: 'boolean', default: false },
  },
});

const int = (name, min, max) => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < min || v > max) {
    process.stderr.write(`--${name} must be an integer ${min}-${max}, got ${values[name]}\n`);
    process.exit(2);
  }
  return v;
};
if (values.quick) {
  values.duration = '2';
  values['cold-runs'] = '3';
  values['sale-requests'] = '5000';
  values['sweep-duration'] = '2';
}
const duration = int('duration', 1, 60);
const warmup = int('warmup', 0, 10);
const products = int('products', 100, 1_000_000);
const dbConnections = int('db-connections', 1, 90);
// The API's reader pool for the database read: 10 connections, not one per HTTP connection. On 2 cores, 50 backends
// only queue for the same CPUs (measured: pool 10 served 8-20 % more requests/s than pool 50, pgbench unchanged).
const dbPool = values['db-pool'] ? int('db-pool', 1, 90) : Math.min(10, dbConnections);
const writePool = int('write-pool', 1, 90);
const cases = values.cases.split(',').map((c) => c.trim()).filter(Boolean);
const unknown = cases.find((c) => !ALL_CASES.includes(c) && !ON_REQUEST.includes(c));
if (unknown) {
  process.stderr.write(`--cases: unknown case ${unknown}; known: ${[...ALL_CASES, ...ON_REQUEST].join(', ')}\n`);
  process.exit(2);
}
const cpuProfDir = values['cpu-prof-dir'] || undefined;
const intList = (name, min, max) => values[name].split(',').map((x) => x.trim()).filter(Boolean).map((x) => {
  const v = Number(x);
  if (!Number.isInteger(v) || v < min || v > max) {
    process.stderr.write(`--${name}: each must be an integer ${min}-${max}, got ${x}\n`);
    process.exit(2);
  }
  return v;
});
const openLoopRates = intList('openloop-rates', 1, 10_000);
const openLoopDuration = values['openloop-duration'] ? int('openloop-duration', 1, 60) : (duration <= 2 ? 2 : Math.max(8, duration));
const openLoopShards = values['openloop-shards'].split(',').map((x) => x.trim()).filter(Boolean)
  .map((x) => (x === 'default' ? null : Number(x)));
if (openLoopShards.some((k) => k !== null && !(Number.isInteger(k) && k >= 1 && k <= 1024)) || !openLoopShards.length) {
  process.stderr.write(`--openloop-shards: 'default' or shard counts 1-1024, got ${values['openloop-shards']}\n`);
  process.exit(2);
}
const openLoopSellOutRate = int('openloop-sellout-rate', 0, 10_000);
const openLoopApiEnv = {};
for (const pair of values['openloop-api-env'].split(',').map((x) => x.trim()).filter(Boolean)) {
  const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
  if (!m) {
    process.stderr.write(`--openloop-api-env: NAME=value pairs separated by commas, got ${pair}\n`);
    process.exit(2);
  }
  openLoopApiEnv[m[1]] = m[2];
}
// The API's statement mode, and pgbench's matching -M, so the baseline handles statements like the API does:
// DB_PREPARED_STATEMENTS (the API's setting, default true for the local server) is passed on to the API, and
// pgbench runs -M prepared (named statements) or -M extended (unnamed, parsed each time) to match.
const preparedRaw = process.env.DB_PREPARED_STATEMENTS;
if (preparedRaw !== undefined && !/^(true|1|yes|false|0|no)$/i.test(preparedRaw)) {
  process.stderr.write(`DB_PREPARED_STATEMENTS must be true or false, got ${preparedRaw}\n`);
  process.exit(2);
}
const preparedStatements = preparedRaw === undefined || /^(true|1|yes)$/i.test(preparedRaw);
const pgbenchMode = preparedStatements ? 'prepared' : 'extended';
const say = (msg) => process.stderr.write(`[bench] ${msg}\n`);

const started = new Date();
const results = {
  schema: 1,
  startedAt: started.toISOString(),
  machine: {
    cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`, node: process.version, pgbench: await pgbenchVersion(),
    // Other work on the machine skews every number: the load average is kept with the results.
    loadAvgAtStart: os.loadavg().map((v) => Number(v.toFixed(2))),
  },
  settings: {
    duration, warmup, products, dbConnections, dbPool, writePool, cases, chart: values.chart, preparedStatements, pgbenchMode,
    quick: values.quick, openLoop: { rates: openLoopRates, durationS: openLoopDuration, shards: openLoopShards.map((k) => k ?? 'default') },
  },
  goals: GOALS,
  cases: {},
};

let infra;
const stopOnSignal = async () => {
  killAll();
  await infra?.stop().catch(() => {});
  process.exit(130);
};
process.once('SIGINT', stopOnSignal);
process.once('SIGTERM', stopOnSignal);

if (os.loadavg()[0] > 1) say(`warning: load average ${os.loadavg()[0].toFixed(1)} before the run: other work shares the CPUs`);
const faultKills = int('fault-kills', 1, 100);
const faultFreezes = int('fault-freezes', 0, 20);
try {
  if (cases.includes('faults')) {
    const auth = await benchAuth();
    const faults = await runDbFaults({ crashes: faultKills, freezes: faultFreezes, clients: 12, authEnv: auth.env, shopperHeaders: () => auth.headers('shopper'), say });
    results.cases.dbFaults = faults;
    say(`faults: ${faults.faults.length} faults, process ${faults.processAlive ? 'up' : 'GONE'}, error window max ${faults.errorWindowMs} ms (slowest 503 ${faults.slowest503Ms} ms), `
      + `recovery (first 201 after the database answered) max ${faults.maxRecoveryMs} ms, ${faults.proof.reservations} reservations = keys granted: ${faults.proof.keysMatch}, conserved: ${faults.proof.conserved}`);
  }
  // The shared stack (moto, the configured PostgreSQL, seeded products) only for the cases that use it.
  if (cases.some((c) => ALL_CASES.includes(c) || c === 'waitingroom')) {
    infra = await startInfra({ products, say });
    // Passed on only when set: unset, the API keeps its own default (true for the local server, false in Lambda).
    // Writes carry a bearer token; an API build that checks them gets the run's public key in AUTH_*.
    const auth = await benchAuth();
    const baseEnv = { ...infra.env, ...auth.env };
    const env = preparedRaw === undefined ? baseEnv : { ...baseEnv, DB_PREPARED_STATEMENTS: preparedRaw };
    const { rows } = await infra.db.writer.query('SELECT version() AS v');
    results.machine.postgres = rows[0].v.split(' on ')[0];
    if (cases.includes('hot')) {
      results.cases.hotRead = await hotRead({ env, levels: [50, 200], duration, warmup, say, cpuProfDir });
    }
    if (cases.includes('db')) {
      results.cases.dbRead = await dbRead({ env, pgbenchMode, products, connections: dbConnections, pool: dbPool, duration, warmup, say, cpuProfDir });
    }
    if (cases.includes('flash')) {
      results.cases.flashSale = await flashSale({
        env, pgbenchMode, db: infra.db, clients: int('clients', 1, 5000), stock: int('stock', 1, 1_000_000),
        requests: int('sale-requests', 1, 200_000), pool: writePool, duration, warmup, say, cpuProfDir,
        overrides: values['write-dynamo-cache'] ? {} : { CACHE_TTL_SECONDS: '0' }, authHeaders: auth.headers('shopper'),
      });
    }
    if (cases.includes('openloop')) {
      results.cases.openLoop = await openLoopSale({
        env, auth, db: infra.db, pgbenchMode, rates: openLoopRates, durationS: openLoopDuration,
        timeoutMs: int('openloop-timeout-ms', 100, 60_000), connections: int('openloop-connections', 1, 4096),
        shardsList: openLoopShards, warmupS: warmup, say, cpuProfDir, apiOverrides: openLoopApiEnv,
        sellOut: openLoopSellOutRate ? { rate: openLoopSellOutRate, durationS: Math.min(openLoopDuration, 4) } : null,
        // pgbench as many sessions as the API's default pool (10 on the local server): the same lanes to the row.
        pgClients: 10,
      });
      say(`\n${openLoopTable(results.cases.openLoop)}`);
    }
    if (cases.includes('waitingroom')) {
      const measured = results.cases.openLoop?.variants?.[0]?.capacityRps;
      // No rate given and no open-loop case in this run: the case probes the one-SKU capacity itself (rate null).
      const rate = values['waitingroom-rate'] ? int('waitingroom-rate', 1, 100_000) : measured ? Math.max(1, Math.floor(measured / 2)) : null;
      const rateSource = values['waitingroom-rate'] ? 'set by --waitingroom-rate' : measured ? `half the open-loop capacity ${measured}/s of this run` : null;
      results.cases.waitingRoom = await waitingRoomCase({
        env, auth, db: infra.db, shoppers: int('waitingroom-shoppers', 1, 100_000), arrivalS: int('waitingroom-arrival-s', 1, 600),
        ratePerSecond: rate, rateSource, say,
        apiProcesses: int('waitingroom-api-processes', 1, 16), clientThreads: int('waitingroom-client-threads', 1, 16),
      });
      say(`\n${waitingRoomTable(results.cases.waitingRoom)}`);
    }
    if (cases.includes('cold')) results.cases.coldStart = await coldStart({ env, runs: int('cold-runs', 1, 50), say });
    if (cases.includes('deps')) results.cases.dependencies = await dependencySize({ say });
    if (values.chart) {
      const levels = values['sweep-levels'].split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0 && n <= 2000);
      results.sweep = await sweep({ env, products, levels, pool: dbPool, duration: int('sweep-duration', 1, 30), say });
    }
  }
} finally {
  await infra?.stop().catch((err) => say(`teardown: ${err.message}`));
  killAll();
}

results.machine.loadAvgAtEnd = os.loadavg().map((v) => Number(v.toFixed(2)));
results.finishedAt = new Date().toISOString();
results.durationS = Math.round((Date.now() - started.getTime()) / 100) / 10;
results.verdicts = evaluate(results);
const outPath = values.out || new URL(`./results/${started.toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url).pathname;
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(outPath, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${outPath}\n`);
process.exit(0);
