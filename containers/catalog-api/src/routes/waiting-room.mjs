// The waiting room's routes (src/waiting-room.mjs) and the admission check in front of a queued SKU's
// reservation route. Identity is the verified token's subject, as everywhere else.
import { HttpError } from '../errors.mjs';
import { F } from '../observability.mjs';
import { TokenError } from '../waiting-room.mjs';
import { JOIN_DAYS } from '../waiting-room-config.mjs';
import { ROUTES, ReservationBody } from '../contract.mjs';
import { route } from './route.mjs';
import { PAGE_CSP, queuePage, wantsHtml } from './waiting-room-page.mjs';


const notQueued = (sku) => new HttpError(404, 'not_queued', `${sku} is not sold through the waiting room: reserve it directly`);
const refused = (err) => new HttpError(err.code.startsWith('admission_pass_required') ? 428 : 403, err.code, err.message,
  { field: err.code.startsWith('queue_ticket') ? 'x-queue-ticket' : 'x-admission-pass' });
const leftQueue = (sku) => new HttpError(410, 'queue_left', `you left the queue for ${sku}: leaving is final (one ticket per shopper and SKU)`);

/** The reservation body when it is one the route accepts, read before the route (Hono keeps the text for the
 *  route's own read); undefined otherwise (the route refuses it, 400, and nothing is claimed). */
async function reservationBodyOf(c) {
  try {
    const parsed = ReservationBody.safeParse(JSON.parse(await c.req.text()));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const soldOut = (sku) => new HttpError(410, 'sold_out', `${sku} is sold out: the queue is closed (a restock reopens it, and a ticket keeps its place)`, { sku });

function answer(c, room, ticket, status, httpStatus = 200) {
  if (status.soldOut) throw soldOut(ticket.sku);
  if (status.expired) {
    throw new HttpError(410, 'queue_turn_expired', `your turn for ${ticket.sku} came and its admission pass has run out: the room does not admit a ticket twice`);
  }
  const body = { sku: ticket.sku, ticket: room.ticketToken(ticket), ...status };
  if (!status.admitted) c.header('retry-after', String(status.retryAfterSeconds));
  // Personal (the pass, the position): never in a shared cache; the shared part is /queue/state.
  c.header('cache-control', 'private, no-store');
  c.header('vary', 'Accept');
  if (c.req.method === 'GET' && wantsHtml(c.req.header('accept'))) {
    c.header('content-security-policy', PAGE_CSP);
    c.header('x-content-type-options', 'nosniff');
    return c.html(queuePage(body), httpStatus);
  }
  return c.json(body, httpStatus);
}

export function waitingRoomRoutes(app, { waitingRoom, logger }) {
  // The routes are the contract's whether or not a room is configured: without one every SKU is not_queued.
  const room = waitingRoom ?? { queued: () => false, ready: async () => {} };

  // Queued SKU: no reservation without a valid pass for this shopper and SKU. Runs before the reservation route;
  // the token is verified here first (cached per token), so a missing token is still 401.
  if (waitingRoom) app.post('/api/products/:sku/reservations', async (c, next) => {
    const sku = c.req.param('sku');
    if (!room.queued(sku)) return next();
    c.set('route', 'POST /api/products/{sku}/reservations');
    await room.ready();
    const identity = await c.get('verifier').verify(c.req.header('authorization'));
    const who = { sku, sub: identity.sub };
    let pass;
    try {
      pass = room.verifyPass(c.req.header('x-admission-pass'), who);
      const body = await reservationBodyOf(c);
      if (!body) return next(); // refused by the route (400): it reserves nothing, so it claims nothing
      who.idempotencyKey = body.idempotencyKey;
      await room.claimPass(pass, who); // revoked (left) or claimed by another reservation
    } catch (err) {
      if (err instanceof TokenError) {
        c.get('metrics')?.add('WaitingRoomPassRefused');
        throw refused(err);
      }
      throw err;
    }
    const started = performance.now();
    await next();
    // The live signal (AIMD): this attempt's own answer, the reservation alone (not the gate's reads).
    room.noteLoad(sku, { status: c.res.status, durationMs: performance.now() - started });
    // One reservation per admission: the pass was claimed above; a 201 (the claimed key's first success) returns
    // its slot to the cap at once. The reservation stands whatever happens here: a failure is logged, not answered.
    if (c.res.status === 201) {
      try {
        await room.passSpent(pass, who);
      } catch (error) {
        logger?.warn('waiting room: a spent pass did not return its slot (it counts until the pass runs out)', { [F.event]: 'waitingroom.slot_return_failed', [F.requestId]: c.get('requestId'), sku, error });
      }
    }
  });

  route(app, ROUTES.joinQueue, async (c) => {
    await room.ready();
    const { sku } = c.get('valid').params;
    if (!room.queued(sku)) throw notQueued(sku);
    const sub = c.get('identity').sub;
    const state = await room.state(sku);
    if (state.soldOut) throw soldOut(sku); // no ticket for a closed room
    let created = false;
    let ticket;
    if (room.joinsClosed(state)) {
      // Past its days of joins the room answers the tickets it has, and makes none (a ticket must outlive its room).
      ticket = await room.ticketOf(sku, sub);
      if (!ticket) throw new HttpError(410, 'queue_closed', `the queue for ${sku} has taken joins for ${JOIN_DAYS} days: it takes no new shoppers`, { sku });
    } else {
      ({ created, ticket } = await room.join(sku, sub));
    }
    if (ticket.left) throw leftQueue(sku);
    return answer(c, room, ticket, room.status(await room.state(sku), ticket), created ? 201 : 200);
  });

  // The shopper's standing. With x-queue-ticket (what POST answered) nothing but the shared state is read.
  route(app, ROUTES.queueStanding, async (c) => {
    await room.ready();
    const { sku } = c.get('valid').params;
    if (!room.queued(sku)) throw notQueued(sku);
    const sub = c.get('identity').sub;
    const given = c.req.header('x-queue-ticket');
    let ticket;
    if (given) {
      try {
        ticket = room.verifyTicket(given, { sku, sub });
      } catch (err) {
        if (err instanceof TokenError) throw refused(err);
        throw err;
      }
    } else {
      ticket = await room.ticketOf(sku, sub);
      if (!ticket) throw new HttpError(404, 'not_in_queue', `no ticket for ${sku}: join with POST /api/products/${sku}/queue`);
      if (ticket.left) throw leftQueue(sku);
    }
    return answer(c, room, ticket, room.status(await room.state(sku), ticket));
  });

  // The shopper leaves: a waiting ticket leaves the queue; an admitted one's pass is revoked and its slot returned.
  route(app, ROUTES.leaveQueue, async (c) => {
    await room.ready();
    const { sku } = c.get('valid').params;
    if (!room.queued(sku)) throw notQueued(sku);
    const result = await room.leave(sku, c.get('identity').sub);
    if (result.outcome === 'not_in_queue') throw new HttpError(404, 'not_in_queue', `no ticket for ${sku}: nothing to leave`);
    c.header('cache-control', 'private, no-store');
    return c.json({ sku, left: true, admitted: result.admitted, slotReturned: result.slotReturned, replayed: result.outcome === 'replayed' });
  });

  // The shared part, the same for every shopper: cacheable at the edge for a second.
  route(app, ROUTES.queueState, async (c) => {
    const { sku } = c.get('valid').params;
    if (!room.queued(sku)) throw notQueued(sku);
    const s = await room.state(sku);
    c.header('cache-control', 'public, max-age=1');
    return c.json({ sku, queued: s.queued ?? 0, admittedTotal: s.admittedTotal ?? 0, ratePerSecond: s.ratePerSecond ?? room.ratePerSecond,
      soldOut: Boolean(s.soldOut), opensAt: room.startsAt ? new Date(room.startsAt).toISOString() : null,
      updatedAt: s.updatedAt ? new Date(s.updatedAt).toISOString() : null });
  });
}
