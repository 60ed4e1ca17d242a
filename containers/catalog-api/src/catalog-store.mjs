// Every SQL statement of the API, all parameterized. Reads take the reader
// pool, writes the writer pool.
const PRODUCT_COLUMNS = `p.sku, p.name, p.description, p.category, p.price_cents, p.currency, p.updated_at`;
const LIST_PRODUCTS = `SELECT ${PRODUCT_COLUMNS} FROM products p
  WHERE ($1::text IS NULL OR p.category = $1) AND ($2::text IS NULL OR p.sku > $2)
  ORDER BY p.sku LIMIT $3`;
const RESERVE = 'SELECT * FROM reserve_stock($1, $2, $3, $4)';
const GET_PRODUCT = `SELECT ${PRODUCT_COLUMNS}, i.available FROM products p JOIN inventory i USING (sku) WHERE p.sku = $1`;

function toProduct(row) {
  return {
    sku: row.sku,
    name: row.name,
    description: row.description,
    category: row.category,
    priceCents: row.price_cents,
    currency: row.currency.trim(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toReservation(row) {
  return {
    id: row.id,
    sku: row.sku,
    quantity: row.quantity,
    idempotencyKey: row.idempotency_key,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
  };
}

/** A read's query: with `name`, pg prepares the statement once per connection and then only binds and executes it
 *  (no parse and plan on the server per request). */
function statement(named, name, text, values) {
  return named ? { name, text, values } : { text, values };
}

export class CatalogStore {
  constructor({ reader, writer, preparedStatements = false }) {
    this.reader = reader;
    this.writer = writer;
    this.named = preparedStatements;
  }

  /** Keyset page: WHERE sku > last ORDER BY sku, one row more to know if there is a next page. */
  async listProducts({ category, limit, afterSku }) {
    const { rows } = await this.reader.query(statement(this.named, 'catalog_list_products', LIST_PRODUCTS, [category ?? null, afterSku ?? null, limit + 1]));
    const items = rows.slice(0, limit).map(toProduct);
    return { items, lastSku: rows.length > limit ? items[items.length - 1].sku : undefined };
  }

  /** Product with its stock at read time (cached: may lag by the cache TTL). */
  async getProduct(sku) {
    const { rows } = await this.reader.query(statement(this.named, 'catalog_get_product', GET_PRODUCT, [sku]));
    if (!rows.length) return undefined;
    return { ...toProduct(rows[0]), available: rows[0].available };
  }

  /** Fresh stock. Expired reservations not yet swept are counted back in, so the
   *  answer is right without a write on the read path. */
  async getInventory(sku) {
    const { rows } = await this.reader.query(
      `SELECT i.sku, i.available, i.updated_at,
              coalesce(sum(r.quantity) FILTER (WHERE r.expires_at > now()), 0)::int AS reserved,
              coalesce(sum(r.quantity) FILTER (WHERE r.expires_at <= now()), 0)::int AS expired_unreleased,
              now() AS as_of
         FROM inventory i
         LEFT JOIN reservations r ON r.sku = i.sku AND r.status = 'active'
        WHERE i.sku = $1
        GROUP BY i.sku, i.available, i.updated_at`,
      [sku],
    );
    if (!rows.length) return undefined;
    const row = rows[0];
    return {
      sku: row.sku,
      available: row.available + row.expired_unreleased,
      reserved: row.reserved,
      asOf: row.as_of.toISOString(),
    };
  }

  /** One statement on the writer; see migrations/002 for the guarantees. */
  async reserve({ sku, quantity, idempotencyKey, ttlSeconds }) {
    const { rows } = await this.writer.query(statement(this.named, 'catalog_reserve', RESERVE, [sku, quantity, idempotencyKey, ttlSeconds]));
    const row = rows[0];
    if (row.outcome === 'created' || row.outcome === 'existing') {
      return { outcome: row.outcome, reservation: toReservation(row), available: row.available };
    }
    return { outcome: row.outcome, available: row.available };
  }

  /** Restock with its audit row in one transaction: both or neither. */
  async restock({ sku, mode, value, actor, reason, requestId }) {
    const client = await this.writer.connect();
    try {
      await client.query('BEGIN');
      const current = await client.query('SELECT available FROM inventory WHERE sku = $1 FOR UPDATE', [sku]);
      if (!current.rows.length) {
        await client.query('ROLLBACK');
        return undefined;
      }
      const previous = current.rows[0].available;
      const next = mode === 'set' ? value : previous + value;
      const updated = await client.query(
        'UPDATE inventory SET available = $2, updated_at = now() WHERE sku = $1 RETURNING available, updated_at',
        [sku, next],
      );
      const audit = await client.query(
        `INSERT INTO inventory_audit (sku, previous_available, new_available, actor, reason, request_id)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [sku, previous, next, actor, reason, requestId],
      );
      await client.query('COMMIT');
      return {
        sku,
        previousAvailable: previous,
        available: updated.rows[0].available,
        updatedAt: updated.rows[0].updated_at.toISOString(),
        auditId: audit.rows[0].id,
      };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async releaseExpired(limit = 1000) {
    const { rows } = await this.writer.query('SELECT release_expired_reservations(NULL, $1) AS released', [limit]);
    return rows[0].released;
  }
}
