import { cacheKeys } from '../cache.mjs';
import { notFound } from '../errors.mjs';
import { ROUTES } from '../contract.mjs';
import * as v from '../validation.mjs';
import { route, noteCache } from './route.mjs';

// What c.json(value) sends, for a body already serialized by the cache (same bytes, same header).
const JSON_HEADERS = Object.freeze({ 'Content-Type': 'application/json' });
const send = (c, { value, body }) => (body === undefined ? c.json(value) : c.body(body, undefined, JSON_HEADERS));

export function productRoutes(app, { store, cache }) {
  route(app, ROUTES.listProducts, async (c) => {
    const { category, limit = v.LIMITS.pageDefault, cursor } = c.get('valid').query;
    const q = { category, limit, afterSku: cursor };
    const result = await cache.read(cacheKeys.list(q), cacheKeys.listTag, async () => {
      const page = await store.listProducts(q);
      return { items: page.items, nextCursor: page.lastSku ? v.encodeCursor(page.lastSku) : null };
    });
    noteCache(c, result.source);
    return send(c, result);
  });

  route(app, ROUTES.getProduct, async (c) => {
    const { sku } = c.get('valid').params;
    const result = await cache.read(cacheKeys.product(sku), cacheKeys.productTag(sku), () => store.getProduct(sku));
    noteCache(c, result.source);
    if (!result.value) throw notFound(`product ${sku}`);
    return send(c, result);
  });

  // Fresh stock: never cached, here or by intermediaries.
  route(app, ROUTES.getInventory, async (c) => {
    const { sku } = c.get('valid').params;
    const inventory = await store.getInventory(sku);
    if (!inventory) throw notFound(`product ${sku}`);
    c.header('cache-control', 'no-store');
    return c.json(inventory);
  });
}
