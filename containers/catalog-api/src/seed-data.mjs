// Deterministic demo catalog: SKU-000001..SKU-N, eight categories, the same
// stock for each (split over its stock shards). Existing SKUs are left untouched, so seeding twice is safe.
export const CATEGORIES = ['electronics', 'books', 'home', 'toys', 'garden', 'sports', 'fashion', 'grocery'];

// shards: stock shards per SKU (1-64); default default_shard_count() of migrations/010 (16 from 1,000 units).
export async function seedProducts(writer, { count, stock = 100, shards }) {
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new Error('count must be an integer between 1 and 1000000');
  if (!Number.isInteger(stock) || stock < 0 || stock > 1_000_000) throw new Error('stock must be an integer between 0 and 1000000');
  if (shards !== undefined && (!Number.isInteger(shards) || shards < 1 || shards > 64)) throw new Error('shards must be an integer between 1 and 64');
  const client = await writer.connect();
  try {
    await client.query('BEGIN');
    // Set-based inserts: one statement each whatever N is.
    const products = await client.query(
      `INSERT INTO products (sku, name, description, category, price_cents)
       SELECT format('SKU-%s', lpad(g::text, 6, '0')), format('Product %s', g),
              format('Demo product number %s', g), ($2::text[])[1 + g % cardinality($2::text[])],
              100 + (g * 7919) % 99900
         FROM generate_series(1, $1::int) AS g
       ON CONFLICT (sku) DO NOTHING`,
      [count, CATEGORIES],
    );
    // The stock split evenly over the shards (remainder to the lowest), as restock_stock() does. SKUs that
    // already have stock rows are left alone.
    await client.query(
      `WITH k AS (SELECT coalesce($3::int, default_shard_count($2::bigint, NULL)) AS n)
       INSERT INTO inventory (sku, shard, available)
       SELECT format('SKU-%s', lpad(g::text, 6, '0')), s, $2::int / k.n + CASE WHEN s < $2::int % k.n THEN 1 ELSE 0 END
         FROM generate_series(1, $1::int) AS g CROSS JOIN k CROSS JOIN generate_series(0, k.n - 1) AS s
        WHERE NOT EXISTS (SELECT 1 FROM inventory i WHERE i.sku = format('SKU-%s', lpad(g::text, 6, '0')))`,
      [count, stock, shards ?? null],
    );
    await client.query('COMMIT');
    return { task: 'seed', ok: true, requested: count, inserted: products.rowCount };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
