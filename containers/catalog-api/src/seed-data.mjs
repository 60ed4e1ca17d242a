// Deterministic demo catalog: SKU-000001..SKU-N, eight categories, the same
// stock for each. Existing SKUs are left untouched, so seeding twice is safe.
export const CATEGORIES = ['electronics', 'books', 'home', 'toys', 'garden', 'sports', 'fashion', 'grocery'];

export async function seedProducts(writer, { count, stock = 100 }) {
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new Error('count must be an integer between 1 and 1000000');
  if (!Number.isInteger(stock) || stock < 0 || stock > 1_000_000) throw new Error('stock must be an integer between 0 and 1000000');
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
    await client.query(
      `INSERT INTO inventory (sku, available)
       SELECT format('SKU-%s', lpad(g::text, 6, '0')), $2 FROM generate_series(1, $1::int) AS g
       ON CONFLICT (sku) DO NOTHING`,
      [count, stock],
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
