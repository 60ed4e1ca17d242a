// pgbench with a custom script (-f), no vacuum of its own tables (-n) and the
// statement mode the API uses in the same run (`mode`, pgbench -M):
// 'prepared' = named statements parsed once per connection, what the API sends
// with DB_PREPARED_STATEMENTS=true (the local server's default); 'extended' =
// parse/bind/execute of an unnamed statement each time, what node-pg sends for
// a parameterized query without a name (DB_PREPARED_STATEMENTS=false).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from './load.mjs';

export const PGBENCH = process.env.PGBENCH ?? '/usr/bin/pgbench';

function run(cmd, args, { timeoutMs, env, cwd }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err = (err + d).slice(-8000); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}:\n${err}\n${out}`));
    });
  });
}

export async function pgbenchVersion() {
  return (await run(PGBENCH, ['--version'], { timeoutMs: 10_000 })).trim();
}

/**
 * script: pgbench script text. clients/threads; seconds (-T) or transactionsPerClient (-t);
 * mode: 'prepared' or 'extended' (-M). Returns { tps, latencyAvgMs, transactions, failed, mode }.
 */
export const PGBENCH_MODES = ['prepared', 'extended'];

export async function pgbench({ db, script, clients, mode, threads = 2, seconds, transactionsPerClient, host = process.env.PGHOST ?? '127.0.0.1', port = process.env.PGPORT ?? 5432, user = 'postgres' }) {
  if (!PGBENCH_MODES.includes(mode)) throw new Error(`pgbench mode must be one of ${PGBENCH_MODES.join(', ')}, got ${mode}`);
  const dir = mkdtempSync(join(tmpdir(), 'catalog-pgbench-'));
  try {
    const file = join(dir, 'script.sql');
    writeFileSync(file, script);
    // -l: one line per transaction (its latency in µs is the 3rd field), for percentiles.
    const args = ['-l', '-h', host, '-p', String(port), '-U', user, '-n', '-M', mode, '-f', file,
      '-c', String(clients), '-j', String(Math.min(threads, clients))];
    if (seconds) args.push('-T', String(seconds));
    else args.push('-t', String(transactionsPerClient));
    args.push(db);
    const timeoutMs = ((seconds ?? 60) + 60) * 1000;
    const out = await run(PGBENCH, args, { timeoutMs, cwd: dir, env: { PGCONNECT_TIMEOUT: '10' } });
    const latencies = [];
    for (const name of readdirSync(dir).filter((f) => f.startsWith('pgbench_log.'))) {
      for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
        const us = Number(line.split(' ')[2]);
        if (Number.isFinite(us) && line) latencies.push(us / 1000);
      }
    }
    latencies.sort((a, b) => a - b);
    const pct = (p) => (latencies.length ? Number(percentile(latencies, p).toFixed(2)) : null);
    const num = (re) => {
      const m = out.match(re);
      return m ? Number(m[1]) : null;
    };
    return {
      mode,
      clients,
      threads: Math.min(threads, clients),
      seconds: seconds ?? null,
      transactionsPerClient: transactionsPerClient ?? null,
      transactions: num(/number of transactions actually processed: (\d+)/),
      failed: num(/number of failed transactions: (\d+)/) ?? 0,
      latencyAvgMs: num(/latency average = ([\d.]+) ms/),
      latencyMs: { p50: pct(50), p95: pct(95), p99: pct(99), max: pct(100) },
      // pgbench 15 prints one tps line, "without initial connection time".
      tps: num(/tps = ([\d.]+) \(without initial connection time\)/),
      script: script.trim(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
