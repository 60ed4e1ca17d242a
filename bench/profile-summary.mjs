#!/usr/bin/env node
// Summarise a V8 .cpuprofile (from `node --cpu-prof`): where the API's time goes by category (socket writes split
// by who wrote: the pg driver, the HTTP response, the log line), then self time by package and by function.
//   node bench/profile-summary.mjs <file.cpuprofile> [--top 25]
// The profiler samples wall time on the JS thread: a write to a loopback socket includes the kernel's delivery
// to the reader, and, on a saturated machine, time the thread was preempted by the woken reader (PostgreSQL).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
process.stdout.on('error', () => process.exit(0)); // e.g. piped into head
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const top = Number(values.top);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i += 1) {
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const whereOf = (f) => f.url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'node_modules/').replace(/.*\/catalog-api\//, 'api/');
const packageOf = (where) => where.split('/').slice(1, where.split('/')[1]?.startsWith('@') ? 3 : 2).join('/');

const SYSCALL_WRITES = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString']);
/** The nearest caller in a package or in the API: who issued this native call. */
function issuer(id) {
  for (let cur = parentOf.get(id); cur !== undefined; cur = parentOf.get(cur)) {
    const where = whereOf(byId.get(cur).callFrame);
    if (where.startsWith('node_modules/')) return packageOf(where);
    if (where.startsWith('api/')) return where;
  }
  return 'node core';
}
const PG = /^(pg|pg-pool|pg-protocol|pg-types|postgres-date|postgres-array|postgres-bytea|postgres-interval)$/;
const HTTP = /^(hono|@hono\/node-server)$/;
function category(id) {
  const f = byId.get(id).callFrame;
  const where = whereOf(f);
  if (f.functionName === '(idle)') return 'idle (waiting for I/O)';
  if (f.functionName === '(garbage collector)') return 'garbage collector';
  if (SYSCALL_WRITES.has(f.functionName)) {
    const who = issuer(id);
    if (PG.test(who)) return 'socket write: query to PostgreSQL';
    if (/observability\.mjs|powertools/.test(who)) return 'stdout write: log/EMF line';
    return 'socket write: HTTP response';
  }
  if (where.startsWith('node_modules/')) {
    const pkg = packageOf(where);
    if (PG.test(pkg)) return 'pg driver (JS: protocol, parsing, pool)';
    if (HTTP.test(pkg)) return 'HTTP framework (hono, node-server)';
    if (pkg === 'jose') return 'token verification (jose)';
    return `other package: ${pkg}`;
  }
  if (where.startsWith('api/src/observability')) return 'logging and metrics (ours)';
  if (where.startsWith('api/')) return 'API code (ours)';
  if (where.startsWith('node:internal/crypto') || where.startsWith('node:crypto')) return 'crypto (node core)';
  if (where.startsWith('node:')) return 'node core (HTTP parser, streams, timers)';
  return `native: ${f.functionName || '(native)'}`;
}

const cat = new Map();
const fn = new Map();
const pkg = new Map();
for (const [id, us] of self) {
  const { callFrame: f } = byId.get(id);
  const where = whereOf(f);
  const c = category(id);
  cat.set(c, (cat.get(c) ?? 0) + us);
  const key = `${f.functionName || '(anonymous)'}  ${where}:${f.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const p = f.url === '' ? `(${f.functionName || 'native'})` : where.startsWith('node_modules/')
    ? packageOf(where) : where.startsWith('node:') ? 'node core' : where.split('/').slice(0, 2).join('/');
  pkg.set(p, (pkg.get(p) ?? 0) + us);
}
const idle = cat.get('idle (waiting for I/O)') ?? 0;
const print = (title, map, n = top, busyShare = false) => {
  process.stdout.write(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled${busyShare ? `, ${((total - idle) / 1000).toFixed(0)} ms busy` : ''})\n`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    const busy = busyShare && k !== 'idle (waiting for I/O)' ? `  ${((us / (total - idle)) * 100).toFixed(1).padStart(5)} % of busy` : '';
    process.stdout.write(`${((us / total) * 100).toFixed(1).padStart(5)} %${busy}  ${k}\n`);
  }
};
print('where the time goes', cat, 30, true);
print('self time by package/file', pkg);
print('self time by function', fn);
