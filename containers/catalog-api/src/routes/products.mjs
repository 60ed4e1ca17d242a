import { cacheKeys } from '../cache.mjs';
import { notFound } from '../errors.mjs';
import * as v from '../validation.mjs';
import { route, noteCache } from './route.mjs';

export function productRoutes(app, { store, cache }) {
  route(app, 'GET', '/api/products', async (c) => {
    const q = v.listQuery(c.req.query());
    const { value, source } = await cache.read(cacheKeys.list(q), cacheKeys.listTag, async () => {
      const page = await store.listProducts(q);
      return { items: page.items, nextCursor: page.lastSku ? v.encodeCursor(page.lastSku) : null };
    });
    noteCache(c, source);
    return c.json(value);
  });

  route(app, 'GET', '/api/products/:sku', async (c) => {
    const sku = v.sku(c.req.param('sku'));
    const { value, source } = await cache.read(cacheKeys.product(sku), cacheKeys.productTag(sku), () => store.getProduct(sku));
    noteCache(c, source);
    if (!value) throw notFound(`product ${sku}`);
    return c.json(value);
  });

  // Fresh stock: never cached, here or by intermediaries.
  route(app, 'GET', '/api/products/:sku/inventory', async (c) => {
    const sku = v.sku(c.req.param('sku'));
    const inventory = await store.getInventory(sku);
    if (!inventory) throw notFound(`product ${sku}`);
    c.header('cache-control', 'no-store');
    return c.json(inventory);
  });
}
