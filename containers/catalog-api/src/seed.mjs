// npm run seed -- --count N [--stock S] [--shards K]: deterministic demo products, written as the owner role
// (DB_OWNER_USER / DB_OWNER_PASSWORD, or DB_OWNER_SECRET_ARN), never the app role.
import { parseArgs } from 'node:util';
import { ConfigError } from './config.mjs';
import { seedAsOwner } from './seed-data.mjs';

function intOption(name, raw, fallback) {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`--${name} must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}

try {
  const { values } = parseArgs({ options: { count: { type: 'string' }, stock: { type: 'string' }, shards: { type: 'string' } } });
  const count = intOption('count', values.count, 100);
  const stock = intOption('stock', values.stock, 100);
  const shards = intOption('shards', values.shards, undefined);
  const summary = await seedAsOwner(process.env, { count, stock, shards });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  // Listing pages cached in DynamoDB pick new products up within CACHE_TTL_SECONDS.
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `seed failed: ${err.message}`}\n`);
  process.exitCode = err instanceof ConfigError ? 2 : 1;
}
