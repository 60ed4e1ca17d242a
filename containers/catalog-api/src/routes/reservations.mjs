import { cacheKeys } from '../cache.mjs';
import { HttpError, notFound } from '../errors.mjs';
import { EVENTS, F } from '../observability.mjs';
import * as v from '../validation.mjs';
import { jsonBody, route } from './route.mjs';

// Who may call these is declared on the route (src/routes/route.mjs) and checked against the verified bearer
// token: reservations need any signed-in user, restock the admin role. No request header grants anything.

export function reservationRoutes(app, { store, cache, config, logger }) {
  route(app, 'POST', '/api/products/:sku/reservations', async (c) => {
    const sku = v.sku(c.req.param('sku'));
    const input = v.reservationBody(await jsonBody(c));
    const result = await store.reserve({ sku, ...input, ttlSeconds: config.reservationTtlSeconds });
    const m = c.get('metrics');

    switch (result.outcome) {
      case 'created':
        m.add('ReservationsSucceeded');
        // Product detail shows stock: drop the cached copy so readers see the decrement.
        await cache.invalidate({ keys: [cacheKeys.product(sku)] });
        return c.json({ reservation: result.reservation, replayed: false }, 201);
      case 'existing': {
        const r = result.reservation;
        if (r.sku !== sku || r.quantity !== input.quantity) {
          throw new HttpError(422, 'idempotency_key_reused',
            'idempotencyKey: already used for a different request', { field: 'idempotencyKey' });
        }
        c.header('idempotent-replayed', 'true');
        return c.json({ reservation: r, replayed: true }, 200);
      }
      case 'sold_out':
        m.add('ReservationsSoldOut');
        logger.info('reservation refused: sold out', {
          [F.event]: EVENTS.soldOut, [F.requestId]: c.get('requestId'), sku, requested: input.quantity, available: result.available,
        });
        throw new HttpError(409, 'sold_out', `not enough stock for ${sku}`, { sku, requested: input.quantity, available: result.available });
      default:
        throw notFound(`product ${sku}`);
    }
  });

  route(app, 'PUT', '/api/products/:sku/inventory', async (c) => {
    const sku = v.sku(c.req.param('sku'));
    const input = v.restockBody(await jsonBody(c));
    // The audit actor is the token's subject, never a header.
    const result = await store.restock({ sku, ...input, actor: c.get('identity').sub, requestId: c.get('requestId') });
    if (!result) throw notFound(`product ${sku}`);
    await cache.invalidate({ keys: [cacheKeys.product(sku)] });
    return c.json(result);
  }, { auth: 'admin' });
}
