// Cold start: a fresh node process imports the Lambda handler and answers one
// ALB event, N times; and the size of the production dependencies as
// `npm ci --omit=dev` installs them (what the image's first stage copies).
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { percentile } from './load.mjs';
import { API_DIR } from './stack.mjs';

const CHILD = fileURLToPath(new URL('../cold-start-child.mjs', import.meta.url));
const exec = promisify(execFile);
const round = (v) => Number(v.toFixed(1));

function once(env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [CHILD], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let report;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr.on('data', (d) => {
      err += d;
      const line = err.split('\n').find((l) => l.startsWith('COLDSTART ') && l.endsWith('}'));
      if (line && !report) report = { ...JSON.parse(line.slice(10)), wallMs: Number(process.hrtime.bigint() - started) / 1e6 };
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0 && report) resolve(report);
      else reject(new Error(`cold start child exited ${code}:\n${err.slice(-2000)}`));
    });
  });
}

export async function coldStart({ env, runs, say }) {
  const childEnv = {
    PATH: process.env.PATH, ...env,
    AWS_LAMBDA_FUNCTION_NAME: 'catalog-api-bench', // Lambda defaults (pool of 2)
    COLD_START_SKU: 'SKU-000010',
  };
  const samples = [];
  for (let i = 0; i < runs; i += 1) samples.push(await once(childEnv));
  const stat = (key) => {
    const values = samples.map((s) => s[key]).sort((a, b) => a - b);
    return { median: round(percentile(values, 50)), min: round(values[0]), max: round(values[values.length - 1]) };
  };
  const out = {
    runs, event: 'ALB GET /api/products/{sku} (first request: config, runtime, DB connection, cache miss)',
    wallMs: stat('wallMs'), initMs: stat('initMs'), importMs: stat('importMs'), firstEventMs: stat('firstEventMs'),
    totalMs: stat('totalMs'), statuses: [...new Set(samples.map((s) => s.status))],
  };
  say(`cold start: process start to first answer ${out.wallMs.median} ms (median of ${runs}), handler import ${out.importMs.median} ms`);
  return out;
}

async function duBytes(dir) {
  const { stdout } = await exec('du', ['-sb', dir]);
  return Number(stdout.split('\t')[0]);
}

function countPackages(dir) {
  let n = 0;
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    n += name.startsWith('@') ? readdirSync(join(dir, name)).length : 1;
  }
  return n;
}

export async function dependencySize({ say }) {
  const dir = mkdtempSync(join(tmpdir(), 'catalog-deps-'));
  try {
    copyFileSync(join(API_DIR, 'package.json'), join(dir, 'package.json'));
    copyFileSync(join(API_DIR, 'package-lock.json'), join(dir, 'package-lock.json'));
    const started = Date.now();
    await exec('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
      { cwd: dir, timeout: 180_000 });
    const modules = join(dir, 'node_modules');
    const out = { bytes: await duBytes(modules), packages: countPackages(modules), installSeconds: (Date.now() - started) / 1000 };
    say(`production dependencies: ${(out.bytes / 1e6).toFixed(1)} MB, ${out.packages} top-level packages`);
    return out;
  } catch (err) {
    say(`dependency size: npm ci failed (${err.message.split('\n')[0]})`);
    return { error: err.message.split('\n')[0] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
