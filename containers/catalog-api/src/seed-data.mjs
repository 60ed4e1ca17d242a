// Deterministic demo catalog: SKU-000001..SKU-N, eight categories, the same
// stock for each (split over its stock shards). Existing SKUs are left untouched, so seeding twice is safe.
// Demo data only, written as the owner role (seedAsOwner): the app role may not run seed_products()
// (migrations/015), so a stolen API connection cannot create products.
import pg from 'pg';
import { loadDbConfig } from './config.mjs';
import { clientOptions } from './db.mjs';
import { loadOwnerCredentials, roleDbConfig } from './db-roles.mjs';

export const CATEGORIES = ['electronics', 'books', 'home', 'toys', 'garden', 'sports', 'fashion', 'grocery'];

// shards: stock shards per SKU (1-64); default default_shard_count() of migrations/010 (16 from 1,000 units).
// db: a pg Client or Pool logged in as the owner role (seedAsOwner).
export async function seedProducts(db, { count, stock = 100, shards }) {
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new Error('count must be an integer between 1 and 1000000');
  if (!Number.isInteger(stock) || stock < 0 || stock > 1_000_000) throw new Error('stock must be an integer between 0 and 1000000');
  if (shards !== undefined && (!Number.isInteger(shards) || shards < 1 || shards > 64)) throw new Error('shards must be an integer between 1 and 64');
  const { rows } = await db.query('SELECT seed_products($1, $2, $3, $4) AS inserted', [count, stock, shards ?? null, CATEGORIES]);
  return { task: 'seed', ok: true, requested: count, inserted: rows[0].inserted };
}

/**
 * The seed task: one connection as the owner role (src/db-roles.mjs loadOwnerCredentials: DB_OWNER_SECRET_ARN on
 * AWS, the migrate function's; DB_OWNER_USER / DB_OWNER_PASSWORD locally), to the migrations' host
 * (DB_MIGRATE_HOST, else the writer), with a password, like the migrate task.
 */
export async function seedAsOwner(env, options) {
  const dbConfig = loadDbConfig(env);
  const config = roleDbConfig(dbConfig, env, await loadOwnerCredentials(env, dbConfig));
  // No client-side query timeout: a large seed may legitimately take long.
  const client = new pg.Client({ ...clientOptions(config, config.writerHost, 'seed'), query_timeout: undefined });
  await client.connect();
  try {
    return await seedProducts(client, options);
  } finally {
    await client.end().catch(() => {});
  }
}
