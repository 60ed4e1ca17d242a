#!/usr/bin/env node
// Summarise a V8 .cpuprofile (from `node --cpu-prof`): self time by function
// and by package, the top N lines. Used to find where the API spends CPU under load.
//   node bench/profile-summary.mjs <file.cpuprofile> [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
process.stdout.on('error', () => process.exit(0)); // e.g. piped into head
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const top = Number(values.top);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i += 1) {
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map();
const pkg = new Map();
for (const [id, us] of self) {
  const { callFrame: f } = byId.get(id);
  const where = f.url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'node_modules/').replace(/.*\/catalog-api\//, 'api/');
  const key = `${f.functionName || '(anonymous)'}  ${where}:${f.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const p = f.url === '' ? `(${f.functionName || 'native'})` : where.startsWith('node_modules/')
    ? where.split('/').slice(1, where.split('/')[1].startsWith('@') ? 3 : 2).join('/') : where.startsWith('node:') ? 'node core' : where.split('/').slice(0, 2).join('/');
  pkg.set(p, (pkg.get(p) ?? 0) + us);
}
const print = (title, map) => {
  process.stdout.write(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled)\n`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${k}\n`);
  }
};
print('self time by package/file', pkg);
print('self time by function', fn);
