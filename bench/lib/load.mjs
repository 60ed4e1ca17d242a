// autocannon, bounded in time AND in requests, loopback only. Percentiles are
// computed from every response (any status), because autocannon's own
// histogram keeps 2xx only and has no p95; a 409 "sold out" is a real answer.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const LOOPBACK = /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/;
// Safety cap on any duration-based run: far above what 2 cores can serve.
const DEFAULT_MAX_REQUESTS = 3_000_000;

export function assertLoopback(url) {
  if (!LOOPBACK.test(url)) throw new Error(`refusing to load ${url}: benchmarks target loopback only`);
}

export function percentile(sorted, p) {
  if (!sorted.length) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** Linux: connections the kernel refused because a listen queue was full (the client retries SYN after 1 s, 3 s...). */
function listenOverflows() {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0].split(' ');
    return Number(lines[1].split(' ')[names.indexOf('ListenOverflows')]);
  } catch {
    return null;
  }
}

/** CPU seconds a process has used (Linux /proc; USER_HZ = 100), or null. */
export function processCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, fields 14 and 15 of stat
  } catch {
    return null;
  }
}

/** Busy and total jiffies of all CPUs together (Linux /proc/stat), or null. */
export function machineTicks() {
  try {
    const values = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = values[3] + (values[4] ?? 0);
    const total = values.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

const round = (v, digits = 2) => (v === null || v === undefined ? null : Number(v.toFixed(digits)));

/**
 * One load run. options: url, connections, and either duration (s) or amount
 * (requests); method, body, headers, requests (autocannon request array),
 * idReplacement; timeoutS bounds the whole run even when `amount` is given.
 */
export async function load({
  url, connections, duration, amount, method = 'GET', body, headers, requests,
  timeoutS, maxRequests = DEFAULT_MAX_REQUESTS, serverPid,
}) {
  assertLoopback(url);
  const latencies = [];
  const opts = {
    url, connections, method, body, headers, requests,
    pipelining: 1,
    timeout: 10, // seconds per request
  };
  if (amount) opts.amount = amount;
  else {
    opts.duration = duration;
    opts.maxOverallRequests = maxRequests;
  }
  const overflowsBefore = listenOverflows();
  const serverCpuBefore = serverPid ? processCpuSeconds(serverPid) : null;
  const generatorCpuBefore = process.cpuUsage();
  const ticksBefore = machineTicks();
  const started = process.hrtime.bigint();
  const instance = autocannon(opts);
  instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  // Hard stop: whatever happens, the run ends (amount runs have no duration of their own).
  const limitS = timeoutS ?? (duration ? duration + 15 : 60);
  const guard = setTimeout(() => instance.stop(), limitS * 1000);
  const result = await new Promise((resolve, reject) => {
    instance.once('done', resolve);
    instance.once('error', reject);
  }).finally(() => clearTimeout(guard));
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  const serverCpuAfter = serverPid ? processCpuSeconds(serverPid) : null;
  const generatorCpu = process.cpuUsage(generatorCpuBefore);
  const ticksAfter = machineTicks();
  latencies.sort((a, b) => a - b);
  const status = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) status[code] = count;
  const answered = latencies.length;
  // autocannon's duration-based runs report their own elapsed time; amount runs end when the last answer arrives.
  const seconds = duration ? result.duration : elapsedS;
  return {
    connections,
    durationS: round(seconds, 3),
    requests: answered,
    rps: round(answered / seconds, 1),
    latencyMs: {
      mean: round(answered ? latencies.reduce((a, b) => a + b, 0) / answered : null),
      p50: round(percentile(latencies, 50)),
      p95: round(percentile(latencies, 95)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[answered - 1] ?? null),
    },
    status,
    errors: result.errors,
    timeouts: result.timeouts,
    stoppedByGuard: elapsedS >= limitS - 0.5,
    // Share of one core used by the server and by this load generator, and of all cores by the machine.
    cpuPercent: {
      server: serverCpuBefore === null || serverCpuAfter === null ? null : round(((serverCpuAfter - serverCpuBefore) / elapsedS) * 100, 0),
      generator: round(((generatorCpu.user + generatorCpu.system) / 1e6 / elapsedS) * 100, 0),
      machine: ticksBefore && ticksAfter ? round(((ticksAfter.busy - ticksBefore.busy) / (ticksAfter.total - ticksBefore.total)) * 100, 0) : null,
    },
    // machine-wide counter: other programs' listen queues count too
    listenOverflows: overflowsBefore === null ? null : listenOverflows() - overflowsBefore,
  };
}

/** A short unmeasured run so JIT, pools and caches are warm before the measured one. */
export async function warmUp(options, seconds = 1) {
  if (seconds <= 0) return;
  await load({ ...options, duration: seconds, amount: undefined });
}
