// Deterministic demo catalog: SKU-000001..SKU-N, eight categories, the same
// stock for each (split over its stock shards). Existing SKUs are left untouched, so seeding twice is safe.
export const CATEGORIES = ['electronics', 'books', 'home', 'toys', 'garden', 'sports', 'fashion', 'grocery'];

// shards: stock shards per SKU (1-64); default default_shard_count() of migrations/010 (16 from 1,000 units).
export async function seedProducts(writer, { count, stock = 100, shards }) {
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new Error('count must be an integer between 1 and 1000000');
  if (!Number.isInteger(stock) || stock < 0 || stock > 1_000_000) throw new Error('stock must be an integer between 0 and 1000000');
  if (shards !== undefined && (!Number.isInteger(shards) || shards < 1 || shards > 64)) throw new Error('shards must be an integer between 1 and 64');
  // One call of the owner's function (migrations/013): the app role may not insert into products or inventory.
  const { rows } = await writer.query('SELECT seed_products($1, $2, $3, $4) AS inserted', [count, stock, shards ?? null, CATEGORIES]);
  return { task: 'seed', ok: true, requested: count, inserted: rows[0].inserted };
}
