// Two cache tiers in front of the database reader for product reads:
//  1. in-process (per execution environment): a bounded LRU with a ~1 s TTL that
//     absorbs hot-SKU bursts without any network hop; LOCAL_CACHE_TTL_MS=0 turns it off;
//  2. the DynamoDB cache table: shared by all environments, short TTL
//     (CACHE_TTL_SECONDS, 0 turns it off), invalidated on writes.
// The cache is best-effort: a DynamoDB failure falls through to the database.
import { GetCommand, PutCommand, DeleteCommand, QueryCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';

export class LocalCache {
  constructor({ ttlMs, maxEntries }) {
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
    this.entries = new Map(); // insertion order = recency order (re-inserted on hit)
  }

  get(key) {
    return this.getEntry(key)?.value;
  }

  /** { value, body } (body: the value's JSON, when the setter gave it) or undefined. */
  getEntry(key) {
    if (this.ttlMs <= 0) return undefined;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  set(key, value, body) {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, body, expires: Date.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value);
    }
  }

  delete(key) {
    this.entries.delete(key);
  }

  get size() {
    return this.entries.size;
  }
}

// After a failed cache read or write, the tier is skipped for this long (reads go straight to the database):
// while DynamoDB is slow or restarting, one read per cooldown pays the timeout instead of every read.
const COOLDOWN_MS = 1000;

export class DynamoCache {
  /** timeoutMs: bound of each DynamoDB call, retries included (DYNAMODB_TIMEOUT_MS). logger: a LogLimiter. */
  constructor({ doc, table, ttlSeconds, logger, timeoutMs = 100, now = () => Date.now() }) {
    Object.assign(this, { doc, table, ttlSeconds, logger, timeoutMs, now });
    this.skipUntil = 0;
  }

  get enabled() {
    return this.ttlSeconds > 0;
  }

  /** One call, bounded: the SDK aborts the HTTP request when the signal fires. */
  send(command) {
    return this.doc.send(command, { abortSignal: AbortSignal.timeout(this.timeoutMs) });
  }

  /** Reads and fills are optional: skipped while the tier is cooling down after a failure. */
  get cooling() {
    return this.now() < this.skipUntil;
  }

  failed(message, err) {
    this.skipUntil = this.now() + COOLDOWN_MS;
    this.logger.warn(message, { event: 'cache.error', error: err, cooldownMs: COOLDOWN_MS });
  }

  async get(key) {
    return (await this.getEntry(key))?.value;
  }

  /** { value, body }: body is the stored JSON text, value its parse. */
  async getEntry(key) {
    if (!this.enabled || this.cooling) return undefined;
    try {
      const { Item } = await this.send(new GetCommand({ TableName: this.table, Key: { cacheKey: key } }));
      // DynamoDB's TTL deletes lazily (up to days later): check expiry ourselves.
      if (!Item || Item.expiresAtMs <= Date.now()) return undefined;
      return { value: JSON.parse(Item.value), body: Item.value };
    } catch (err) {
      this.failed('cache read failed', err);
      return undefined;
    }
  }

  async put(key, tag, value, body = JSON.stringify(value)) {
    if (!this.enabled || this.cooling) return;
    const expiresAtMs = Date.now() + this.ttlSeconds * 1000;
    try {
      await this.send(new PutCommand({
        TableName: this.table,
        Item: { cacheKey: key, tag, value: body, expiresAtMs, expiresAt: Math.ceil(expiresAtMs / 1000) },
      }));
    } catch (err) {
      this.failed('cache write failed', err);
    }
  }

  /** Delete known keys, and every key filed under a tag (byTag index). Never skipped (a stale entry would outlive
   *  a write); each call is bounded like the others, and a failure is the caller's to log. */
  async invalidate({ keys = [], tags = [] }) {
    const all = new Set(keys);
    for (const tag of tags) {
      let ExclusiveStartKey;
      do {
        const page = await this.send(new QueryCommand({
          TableName: this.table, IndexName: 'byTag',
          KeyConditionExpression: '#t = :t', ExpressionAttributeNames: { '#t': 'tag' },
          ExpressionAttributeValues: { ':t': tag }, ExclusiveStartKey,
        }));
        for (const item of page.Items ?? []) all.add(item.cacheKey);
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    }
    const list = [...all];
    if (list.length === 1) {
      await this.send(new DeleteCommand({ TableName: this.table, Key: { cacheKey: list[0] } }));
      return 1;
    }
    for (let i = 0; i < list.length; i += 25) {
      let request = { [this.table]: list.slice(i, i + 25).map((cacheKey) => ({ DeleteRequest: { Key: { cacheKey } } })) };
      // BatchWrite may hand back throttled items: retry them a few times.
      for (let attempt = 0; attempt < 5 && request && Object.keys(request).length; attempt += 1) {
        const out = await this.send(new BatchWriteCommand({ RequestItems: request }));
        request = out.UnprocessedItems;
      }
    }
    return list.length;
  }
}

/** Read-through across both tiers; reports where the value came from, and the value's JSON (body): serialized once
 *  when it is loaded, then served as is from either tier (the API answers with exactly that JSON). */
export class ProductCache {
  constructor({ local, dynamo, logger, invalidateIntervalMs = 0 }) {
    Object.assign(this, { local, dynamo, logger, invalidateIntervalMs });
    this.inflight = new Map(); // key -> the lookup in flight (only while the in-process tier is on)
    this.coalesced = new Map(); // key -> { last: ms of the last shared delete, timer: the trailing delete }
  }

  async read(key, tag, load) {
    const hot = this.local.getEntry(key);
    if (hot !== undefined) return { value: hot.value, body: hot.body, source: 'local' };
    if (!(this.local.ttlMs > 0)) return this.readThrough(key, tag, load);
    // Concurrent misses of one key share one lookup: when a hot entry expires under load, the local server
    // would otherwise send every request in flight to DynamoDB and the database at once (bench/: p99 of a
    // hot read at 200 connections). A Lambda environment serves one request at a time: nothing to share.
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.readThrough(key, tag, load).finally(() => {
        if (this.inflight.get(key) === pending) this.inflight.delete(key);
      });
      this.inflight.set(key, pending);
    }
    return pending;
  }

  async readThrough(key, tag, load) {
    const shared = await this.dynamo.getEntry(key);
    if (shared !== undefined) {
      this.local.set(key, shared.value, shared.body);
      return { value: shared.value, body: shared.body, source: 'dynamodb' };
    }
    const value = await load();
    // Unknown SKUs are not cached: a later restock/seed must be visible at once.
    if (value === undefined || value === null) return { value, source: 'database' };
    const body = JSON.stringify(value);
    await this.dynamo.put(key, tag, value, body);
    this.local.set(key, value, body);
    return { value, body, source: 'database' };
  }

  /** After a write: drop the entries here and in DynamoDB. Other execution
   *  environments keep their in-process copy for at most LOCAL_CACHE_TTL_MS. */
  async invalidate({ keys = [], tags = [] }) {
    for (const key of keys) {
      this.local.delete(key);
      this.inflight.delete(key); // requests after the write start a fresh lookup
    }
    if (tags.length) {
      this.local.entries.clear(); // tags are not tracked locally; the tier is tiny and 1 s anyway
      this.inflight.clear();
    }
    if (!this.dynamo.enabled) return;
    try {
      await this.dynamo.invalidate({ keys, tags });
    } catch (err) {
      // The write itself succeeded; a stale entry lives at most CACHE_TTL_SECONDS.
      this.logger.warn('cache invalidation failed', { event: 'cache.error', error: err });
    }
  }

  /**
   * Invalidation on the reservation path: one DynamoDB delete per reservation made a flash-sale SKU's
   * cache item a hot key (>1,000 writes/s on one partition). The in-process copy is dropped at once; the shared
   * item is deleted at most once per key per invalidateIntervalMs in this process: the first change of a window
   * deletes it (awaited, so this client's next read is fresh), later changes in the window schedule one trailing
   * delete at the window's end, so the product view lags the last change by at most the interval (a frozen Lambda
   * environment may run the trailing delete late; the item then still expires within CACHE_TTL_SECONDS).
   */
  async invalidateCoalesced(key) {
    if (!(this.invalidateIntervalMs > 0)) return this.invalidate({ keys: [key] });
    this.local.delete(key);
    this.inflight.delete(key);
    if (!this.dynamo.enabled) return undefined;
    const now = Date.now();
    const state = this.coalesced.get(key);
    if (!state || now - state.last >= this.invalidateIntervalMs) {
      if (state?.timer) clearTimeout(state.timer);
      if (this.coalesced.size >= 10_000) this.pruneCoalesced(now);
      this.coalesced.set(key, { last: now, timer: undefined });
      return this.deleteShared(key);
    }
    if (!state.timer) {
      state.timer = setTimeout(() => {
        state.timer = undefined;
        state.last = Date.now();
        this.local.delete(key);
        this.inflight.delete(key);
        this.deleteShared(key);
      }, state.last + this.invalidateIntervalMs - now);
      state.timer.unref?.();
    }
    return undefined;
  }

  async deleteShared(key) {
    try {
      await this.dynamo.invalidate({ keys: [key] });
    } catch (err) {
      this.logger.warn('cache invalidation failed', { event: 'cache.error', error: err });
    }
  }

  /** Forget windows that are over and have no trailing delete pending (bounds the map). */
  pruneCoalesced(now) {
    for (const [key, state] of this.coalesced) {
      if (!state.timer && now - state.last >= this.invalidateIntervalMs) this.coalesced.delete(key);
    }
  }
}

export const cacheKeys = {
  product: (sku) => `product:v1:${sku}`,
  productTag: (sku) => `product#${sku}`,
  list: (q) => `products:v1:list:${q.category ?? '*'}:${q.limit}:${q.afterSku ?? ''}`,
  listTag: 'products:list',
};
