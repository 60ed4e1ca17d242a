// Every SQL statement of the API. Reads take the reader pool, writes the writer pool. All parameterized except the
// bounded reservation transaction (see bounded()), which passes validated integers and pg-escaped strings.
import pg from 'pg';
import { WriterAdmission } from './admission.mjs';

const PRODUCT_COLUMNS = `p.sku, p.name, p.description, p.category, p.price_cents, p.currency, p.updated_at`;
const LIST_PRODUCTS = `SELECT ${PRODUCT_COLUMNS} FROM products p
  WHERE ($1::text IS NULL OR p.category = $1) AND ($2::text IS NULL OR p.sku > $2)
  ORDER BY p.sku LIMIT $3`;
const RESTOCK = 'SELECT * FROM restock_stock($1, $2, $3, $4, $5, $6, $7)';
// Stock is the sum of the SKU's shards (migrations/010); a product without inventory rows is not found.
// Exported for the benchmark's pgbench baseline (bench/lib/cases.mjs): the same SELECT, not a copy that drifts.
export const GET_PRODUCT = `SELECT ${PRODUCT_COLUMNS}, i.available
  FROM products p JOIN (SELECT sku, sum(available)::int AS available FROM inventory WHERE sku = $1 GROUP BY sku) i USING (sku)
  WHERE p.sku = $1`;
const GET_INVENTORY = `SELECT i.sku, i.available, i.shards,
       (SELECT coalesce(sum(r.quantity) FILTER (WHERE r.expires_at > now()), 0)::int
          FROM reservations r WHERE r.sku = i.sku AND r.status = 'active') AS reserved,
       (SELECT coalesce(sum(r.quantity) FILTER (WHERE r.expires_at <= now()), 0)::int
          FROM reservations r WHERE r.sku = i.sku AND r.status = 'active') AS expired_unreleased,
       now() AS as_of
  FROM (SELECT sku, sum(available)::int AS available, count(*)::int AS shards FROM inventory WHERE sku = $1 GROUP BY sku) i`;

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

/** A literal for the simple protocol: integers as digits, strings escaped by pg, null as NULL. */
function literal(value) {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`not an integer: ${value}`);
    return String(value);
  }
  return pg.escapeLiteral(String(value));
}

/** A read's query: with `name`, pg prepares the statement once per connection and then only binds and executes it
 *  (no parse and plan on the server per request). */
function statement(named, name, text, values) {
  return named ? { name, text, values } : { text, values };
}

/** The writer pool's queue is too long to wait in: shed (app.mjs answers 503 overloaded, reason queue_full). */
export class PoolQueueFull extends Error {
  constructor(waiting, allowed) {
    super(`${waiting} requests already wait for a writer connection (${Number.isFinite(allowed) ? Math.floor(allowed) : 'no'} allowed now)`);
    this.code = 'POOL_QUEUE_FULL';
  }
}

export class CatalogStore {
  constructor({
    reader, writer, preparedStatements = false, lockTimeoutMs = 100, statementTimeoutMs = 2000,
    poolMaxWaiting = Infinity, queueWaitBudgetMs = Infinity, queueTargetMs = 20,
  }) {
    this.reader = reader;
    this.writer = writer;
    // Admission by the queueing delay of admitted requests and the measured completion rate (src/admission.mjs).
    this.admission = new WriterAdmission({ pool: writer, targetMs: queueTargetMs, budgetMs: queueWaitBudgetMs, maxWaiting: poolMaxWaiting });
    this.named = preparedStatements;
    // SET LOCAL ends with the transaction, so no session state is left for RDS Proxy to pin on.
    this.boundedBegin = `BEGIN; SET LOCAL lock_timeout = ${Math.trunc(lockTimeoutMs)}; SET LOCAL statement_timeout = ${Math.trunc(statementTimeoutMs)}; `;
    // The same bound on the client side, a little later than the server's own: a server that stopped answering
    // (frozen, a network cut) cannot cancel anything, and the request must still end.
    this.boundedClientTimeoutMs = Math.trunc(statementTimeoutMs) + 500;
  }

  /**
   * `SELECT * FROM fn(args)` as ONE simple-protocol message: BEGIN; SET LOCAL lock_timeout, statement_timeout;
   * the call; COMMIT. One round trip, and the shard lock is held only while the server runs the message: with
   * BEGIN / SELECT / COMMIT as separate round trips it was also held while the API's event loop got to sending
   * COMMIT, which under load costs more than the reservation itself (the simple protocol takes no bound
   * parameters, hence literals: integers, and strings through pg's escapeLiteral).
   * When a bound is hit the server cancels the statement, the rest of the message is skipped and we ROLLBACK:
   * nothing the call did (a decrement, a status change) survives. If COMMIT succeeded but the answer never
   * reaches the client, a reservation stays held until it expires (RESERVATION_TTL_SECONDS) and returns then.
   */
  async bounded(fn, args) {
    const call = `SELECT * FROM ${fn}(${args.map(literal).join(', ')})`;
    // Admission (src/admission.mjs): refused at once, before it costs the database anything (503 + Retry-After),
    // when the queue is longer than what the database completes within the budget, or, once a queue stands, than
    // what keeps every connection busy (DB_QUEUE_TARGET_MS, DB_QUEUE_WAIT_BUDGET_MS, DB_POOL_MAX_WAITING).
    const admittedAt = this.admission.tryAdmit();
    if (admittedAt === undefined) throw new PoolQueueFull(this.writer.waitingCount, this.admission.allowedWaiting());
    const client = await this.writer.connect();
    const connectedAt = this.admission.connected(admittedAt);
    let broken;
    try {
      const results = await client.query({ text: `${this.boundedBegin}${call}; COMMIT`, query_timeout: this.boundedClientTimeoutMs });
      return results[3];
    } catch (err) {
      if (!client._queryable || /Query read timeout/.test(err.message)) {
        // The connection is gone or its state unknown (the answer may still come): never reused. The server
        // rolls back an open transaction whose connection closes.
        broken = err;
        throw err;
      }
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr; // unknown connection state: the pool must not hand this client out again
      }
      throw err;
    } finally {
      this.admission.finished(connectedAt);
      client.release(broken);
    }
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

  /** Fresh stock: the sum of the shards. Expired reservations not yet swept are counted back in, so the
   *  answer is right without a write on the read path. */
  async getInventory(sku) {
    const { rows } = await this.reader.query(statement(this.named, 'catalog_get_inventory', GET_INVENTORY, [sku]));
    if (!rows.length) return undefined;
    const row = rows[0];
    return {
      sku: row.sku,
      available: row.available + row.expired_unreleased,
      reserved: row.reserved,
      shards: row.shards,
      asOf: row.as_of.toISOString(),
    };
  }

  /** reserve_stock() in a bounded transaction; see migrations/010 for the guarantees. owner: the token subject
   *  (the API always passes one); a known key of another owner answers 'key_taken'. */
  async reserve({ sku, quantity, idempotencyKey, ttlSeconds, owner = null }) {
    const { rows } = await this.bounded('reserve_stock', [sku, quantity, idempotencyKey, ttlSeconds, owner]);
    const row = rows[0];
    if (row.outcome === 'created' || row.outcome === 'existing') {
      return { outcome: row.outcome, reservation: toReservation(row), available: row.available };
    }
    return { outcome: row.outcome, available: row.available };
  }

  /** Cancel or confirm (action 'cancel' | 'confirm') by its owner (token subject); the database decides races
   *  (migrations/010). */
  async finish({ action, id, sku, owner }) {
    const { rows } = await this.bounded('finish_reservation', [action, id, sku, owner ?? null]);
    const row = rows[0];
    return { outcome: row.outcome, state: row.status, reservation: row.quantity === null ? undefined : toReservation(row) };
  }

  /** Restock and/or re-shard with its audit row, one transaction (restock_stock()). mode 'set' | 'add'. */
  async restock({ sku, mode, value, shards, actor, reason, requestId }) {
    const { rows } = await this.writer.query(RESTOCK, [sku, mode, value, shards ?? null, actor, reason, requestId]);
    const row = rows[0];
    if (row.outcome === 'not_found') return undefined;
    if (row.outcome === 'too_large') return { outcome: 'too_large', previousAvailable: row.previous_available };
    return {
      sku,
      previousAvailable: row.previous_available,
      available: row.available,
      previousShards: row.previous_shards,
      shards: row.shards,
      updatedAt: row.updated_at.toISOString(),
      auditId: row.audit_id,
    };
  }

  async releaseExpired(limit = 1000) {
    const { rows } = await this.writer.query('SELECT release_expired_reservations(NULL, $1) AS released', [limit]);
    return rows[0].released;
  }
}
