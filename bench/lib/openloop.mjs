// Open-loop load: requests leave on a fixed schedule (request i at t0 + i/rate)
// whether or not earlier ones have answered, so a slow server cannot slow the
// offered load down (no coordinated omission). Latency runs from the SCHEDULED
// send time: time spent waiting for a free connection, in the client's queue
// or behind a late generator tick all count against the server, like a real
// shopper who clicked at that moment. Bounded: at most rate x duration
// requests, each aborted `timeoutMs` after its scheduled time.
import { Pool } from 'undici';
import { assertLoopback, percentile } from './load.mjs';

const round = (v, digits = 2) => (v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(digits)));
const nowMs = () => performance.now();

function summary(values, count = values.length) {
  const sorted = Float64Array.from(values.subarray(0, count)).sort();
  return {
    p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? null),
  };
}

/**
 * url: origin (loopback); path(i), body(i), headers(i): the i-th request; rate (requests/s), durationS;
 * connections: keep-alive connections of the undici Pool (in flight at once at most; the rest wait in the
 * client's queue, their wait counted in latency); timeoutMs from the scheduled time; onAnswer(i, status, json)
 * is called for the statuses listed in parseStatuses with the parsed body.
 */
export async function openLoop({
  url, path, body, headers, method = 'POST', rate, durationS, connections = 1024, timeoutMs = 5000,
  parseStatuses = [], onAnswer = () => {}, tickMs = 1,
}) {
  assertLoopback(url);
  const total = Math.max(1, Math.round(rate * durationS));
  const pool = new Pool(url, {
    connections, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000,
    // Backstops only: the sweep below aborts at timeoutMs from the scheduled time.
    headersTimeout: timeoutMs + 2000, bodyTimeout: timeoutMs + 2000, connect: { timeout: timeoutMs },
  });
  const latency = new Float64Array(total); // answered requests only, ms from scheduled time
  const codes = new Uint16Array(total); // status of latency[k], for per-class percentiles
  const lag = new Float64Array(total); // generator: dispatch time - scheduled time
  const outcome = new Array(total); // status code, 'timeout' or 'error'
  const status = {};
  let answered = 0;
  let timeouts = 0;
  let errors = 0;
  let sent = 0;
  let maxInFlight = 0;
  let maxQueued = 0;
  const errorSamples = new Set();
  const inFlight = new Map(); // i -> { scheduled, abort }; insertion order = schedule order
  const cpuBefore = process.cpuUsage();
  const t0 = nowMs() + 20; // a little ahead, so request 0 is not late by the set-up
  const wallStart = Date.now() + 20;
  let lastDone = t0;

  const finish = (i, result) => {
    if (!inFlight.delete(i)) return; // already counted as a timeout
    outcome[i] = result;
    lastDone = nowMs();
  };

  // undici's dispatch with a handler object, not pool.request(): no promise, stream or AbortController per
  // request, which kept this 2-core box's generator from holding 4,000/s on schedule.
  const fire = (i, scheduled) => {
    const entry = { scheduled, abort: null };
    inFlight.set(i, entry);
    if (inFlight.size > maxInFlight) maxInFlight = inFlight.size;
    lag[i] = nowMs() - scheduled;
    sent += 1;
    let code = 0;
    let chunks = null;
    pool.dispatch({ origin: url, path: path(i), method, headers: headers(i), body: body ? body(i) : undefined }, {
      onRequestStart(controller) {
        if (inFlight.has(i)) entry.abort = (reason) => controller.abort(reason);
        else controller.abort(new Error('timeout'));
      },
      onResponseStart(_controller, statusCode) {
        code = statusCode;
        if (parseStatuses.includes(statusCode)) chunks = [];
      },
      onResponseData(_controller, chunk) { chunks?.push(chunk); },
      onResponseEnd() {
        if (!inFlight.has(i)) return;
        const ms = nowMs() - scheduled;
        // Past the timeout but before a late sweep: a client with that timeout would have given up.
        if (ms > timeoutMs) {
          inFlight.delete(i);
          outcome[i] = 'timeout';
          timeouts += 1;
          return;
        }
        latency[answered] = ms;
        codes[answered] = code;
        answered += 1;
        status[code] = (status[code] ?? 0) + 1;
        finish(i, code);
        if (chunks) {
          let json;
          try { json = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { /* not JSON: passed as undefined */ }
          onAnswer(i, code, json);
        }
      },
      onResponseError(_controller, err) {
        if (!inFlight.has(i)) return; // aborted by the timeout sweep, already counted
        errors += 1;
        if (errorSamples.size < 5) errorSamples.add(err.code ?? err.message);
        finish(i, 'error');
      },
    });
  };

  // Oldest first: stop at the first one still within its time.
  const sweepTimeouts = () => {
    const cutoff = nowMs() - timeoutMs;
    for (const [i, entry] of inFlight) {
      if (entry.scheduled > cutoff) break;
      inFlight.delete(i);
      outcome[i] = 'timeout';
      timeouts += 1;
      entry.abort?.(new Error('timeout'));
    }
  };

  await new Promise((resolve) => {
    let next = 0;
    let lastSweep = 0;
    const tick = () => {
      const now = nowMs();
      // Every request whose time has come, each with its own scheduled time (a late tick shows as lag).
      while (next < total && t0 + (next * 1000) / rate <= now) {
        fire(next, t0 + (next * 1000) / rate);
        next += 1;
      }
      if (now - lastSweep >= 20) {
        sweepTimeouts();
        lastSweep = now;
        // Pool.stats sums over every connection: sampled here, not on every tick.
        const queued = pool.stats?.queued ?? 0;
        if (queued > maxQueued) maxQueued = queued;
      }
      // Sleep until the next request is due (at least tickMs): low rates need not wake every millisecond.
      if (next < total) setTimeout(tick, Math.max(tickMs, Math.floor(t0 + (next * 1000) / rate - nowMs())));
      else resolve();
    };
    setTimeout(tick, Math.max(0, t0 - nowMs()));
  });
  const scheduleEnd = t0 + (total * 1000) / rate;
  const generatorCpu = process.cpuUsage(cpuBefore);
  const sendWindowS = (nowMs() - t0) / 1000;
  // Drain: every request answers or times out (at most timeoutMs after the last scheduled one).
  while (inFlight.size) {
    await new Promise((r) => setTimeout(r, 20));
    sweepTimeouts();
  }
  await pool.destroy().catch(() => {});
  const lagSummary = summary(lag, sent);
  const byClass = (match) => {
    const picked = [];
    for (let k = 0; k < answered; k += 1) if (match(codes[k])) picked.push(latency[k]);
    return { count: picked.length, ...summary(Float64Array.from(picked)) };
  };
  const sendRate = sent / Math.max(sendWindowS, 1e-3);
  return {
    offeredRps: rate,
    durationS,
    scheduled: total,
    sent,
    answered,
    // Answers per second over the schedule plus the tail that answered after it.
    achievedRps: round(answered / Math.max((Math.max(lastDone, scheduleEnd) - t0) / 1000, 1e-3), 1),
    latencyMs: answered ? summary(latency, answered) : { p50: null, p95: null, p99: null, max: null },
    // Latency of each kind of answer: granted (2xx), sold out (409), refused for load (429/503).
    latencyByClassMs: {
      granted: byClass((c) => c >= 200 && c < 300), soldOut: byClass((c) => c === 409), refused: byClass((c) => c === 429 || c === 503),
    },
    status,
    timeouts,
    errors,
    errorSamples: [...errorSamples],
    outcome,
    generator: {
      connections,
      timeoutMs,
      sendRps: round(sendRate, 1),
      // How late requests left compared with their schedule: the generator's own limit.
      scheduleLagMs: lagSummary,
      cpuPercent: round(((generatorCpu.user + generatorCpu.system) / 1e3 / Math.max(sendWindowS * 1000, 1)) * 100, 0),
      maxInFlight,
      maxClientQueue: maxQueued,
      // The generator is the limit when it cannot send on time, not when the server is slow.
      limited: sendRate < rate * 0.97 || (lagSummary.p99 ?? 0) > 50,
    },
    startedAt: new Date(wallStart).toISOString(),
  };
}
