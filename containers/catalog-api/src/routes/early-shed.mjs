// A refusal must cost far less than a sale: when the writer admission (src/admission.mjs) would refuse a
// reservation anyway, it is refused here, before the token is verified and the body read. Nothing is granted and
// nothing is learned by an unauthenticated caller from a 503 (every caller gets it while the queue stands).
import { HttpError } from '../errors.mjs';

const LABEL = 'POST /api/products/{sku}/reservations';

export function earlyShed(app, { store, waitingRoom }) {
  if (!store?.admission) return;
  app.post('/api/products/:sku/reservations', (c, next) => {
    if (!store.admission.wouldRefuse()) return next();
    c.set('route', LABEL);
    store.admission.refused += 1;
    // A shopper with a running pass shed here is congestion the waiting room must see (it would never reach the
    // gate); a request without one is not counted (nobody without a pass can slow the room).
    const sku = c.req.param('sku');
    if (waitingRoom?.queued(sku) && waitingRoom.passLooksValid(c.req.header('x-admission-pass'), sku)) waitingRoom.noteLoad(sku, { status: 503, durationMs: 0 });
    throw new HttpError(503, 'overloaded', 'reservation: the database is saturated, retry shortly', { reason: 'queue_full' });
  });
}
