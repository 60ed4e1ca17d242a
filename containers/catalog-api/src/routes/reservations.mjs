import { cacheKeys } from '../cache.mjs';
import { HttpError, badRequest, notFound } from '../errors.mjs';
import { EVENTS, F } from '../observability.mjs';
import { ROUTES } from '../contract.mjs';
import * as v from '../validation.mjs';
import { route } from './route.mjs';

// Who may call these is declared on the route (src/routes/route.mjs) and checked against the verified bearer
// token: reservations need any signed-in user, restock the admin role. No request header grants anything.

// Every reservation route needs a token ('user'), so a reservation's owner is always its maker's token subject,
// and only that subject may cancel or confirm it. The idempotency key only makes a POST safe to retry.
const ownerOf = (c) => c.get('identity').sub;

/** 503 + Retry-After: the database said "not now" (every path to the stock was busy); nothing was written. */
export const overloaded = (what) => new HttpError(503, 'overloaded', `${what}: too many concurrent requests, retry shortly`,
  { reason: 'busy' });

// 409 bodies name the state the reservation is in; the owner may read it, so no leak to others (403 says less).
function finishConflict(result, action) {
  return new HttpError(409, `reservation_${result.state}`, `reservation is ${result.state}: it cannot be ${action === 'cancel' ? 'cancelled' : 'confirmed'}`,
    { state: result.state, reservation: result.reservation });
}

export function reservationRoutes(app, { store, cache, config, logger, waitingRoom }) {
  route(app, ROUTES.reserve, async (c) => {
    const { sku } = c.get('valid').params;
    const input = c.get('valid').body;
    const result = await store.reserve({ sku, ...input, ttlSeconds: config.reservationTtlSeconds, owner: ownerOf(c) });
    const m = c.get('metrics');

    switch (result.outcome) {
      case 'created':
        m.add('ReservationsSucceeded');
        // Product detail shows stock: the cached copy goes, coalesced per SKU (no DynamoDB hot key; see cache.mjs).
        await cache.invalidateCoalesced(cacheKeys.product(sku));
        return c.json({ reservation: result.reservation, replayed: false }, 201);
      case 'busy':
        throw overloaded('reservation');
      case 'key_taken': // another subject's key: nothing of that reservation is shown
        throw new HttpError(422, 'idempotency_key_reused',
          'idempotencyKey: already used for a different request', { field: 'idempotencyKey' });
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
        // Nothing left of a SKU behind the waiting room: the room closes (src/waiting-room.mjs, "sold out").
        if (result.available === 0) await waitingRoom?.noteSoldOut(sku, true);
        throw new HttpError(409, 'sold_out', `not enough stock for ${sku}`, { sku, requested: input.quantity, available: result.available });
      default:
        throw notFound(`product ${sku}`);
    }
  });

  // Cancel (units back to the shards) and confirm (checkout: an order line, never expires). Both are idempotent
  // for the owner: repeating the same action answers 200 with replayed: true and changes nothing.
  for (const [action, def] of [['cancel', ROUTES.cancelReservation], ['confirm', ROUTES.confirmReservation]]) {
    route(app, def, async (c) => {
      const { sku } = c.get('valid').params;
      const id = c.get('valid').params.id.toLowerCase();
      const result = await store.finish({ action, id, sku, owner: ownerOf(c) });
      const m = c.get('metrics');
      switch (result.outcome) {
        case 'cancelled':
          m.add('ReservationsCancelled');
          await waitingRoom?.noteSoldOut(sku, false); // units came back: a closed room reopens
          await cache.invalidateCoalesced(cacheKeys.product(sku));
          return c.json({ reservation: result.reservation, replayed: false });
        case 'confirmed':
          m.add('ReservationsConfirmed');
          return c.json({ reservation: result.reservation, replayed: false });
        case 'replayed':
          c.header('idempotent-replayed', 'true');
          return c.json({ reservation: result.reservation, replayed: true });
        case 'conflict':
          m.add('ReservationsConflicted');
          throw finishConflict(result, action);
        case 'forbidden':
          throw new HttpError(403, 'forbidden', 'reservation: only its owner (the token subject that made it) may change it',
            { field: 'authorization' });
        default:
          throw notFound(`reservation ${id} of product ${sku}`);
      }
    });
  }

  route(app, ROUTES.restock, async (c) => {
    const { sku } = c.get('valid').params;
    const input = v.restockInput(c.get('valid').body);
    // The audit actor is the token's subject, never a header.
    const result = await store.restock({ sku, ...input, actor: c.get('identity').sub, requestId: c.get('requestId') });
    if (!result) throw notFound(`product ${sku}`);
    if (result.outcome === 'too_large') {
      throw badRequest(input.mode === 'set' ? 'available' : 'add',
        `the total (now ${result.previousAvailable}) would exceed ${INT4_MAX} units`);
    }
    await cache.invalidate({ keys: [cacheKeys.product(sku)] });
    await waitingRoom?.noteSoldOut(sku, result.available === 0);
    return c.json(result);
  }, { rule: v.restockRule });
}

const INT4_MAX = 2_147_483_647;
