// The waiting room of a sale SKU: shoppers queue in arrival order and are admitted at the rate the SKU can serve,
// with a cap on shoppers admitted at once. Joining and polling never touch PostgreSQL.
//
// Where the state lives (DynamoDB, one table):
//   ticket    pk "T#<sku>#<sub>"   { arrival, qpk: "Q#<sku>#<shard>" }   one per shopper and SKU (conditional put)
//   state     pk "W#<sku>"         { watermark, milestones, queued, admissions, version, updatedAt }
//   sold out  pk "X#<sku>"         { soldOutAt }   written by the API when the SKU sells out (a reservation's
//             409 with nothing left, a restock to 0), deleted when units come back (restock, a cancel); the controller
//             reads it each step (no PostgreSQL) and closes the room: nobody admitted, polls answer 410 sold_out.
//   load      pk "S#<sku>#<n>"     { congested }   n = 0..15: the API adds the SKU's reservation sheds (503) and
//             answers slower than WAITING_ROOM_SLOW_MS here (one UpdateItem ADD on a random shard per flush: no hot
//             key); the controller sums the 16 each step and adjusts the admission rate (AIMD, see advance()).
//   returned  pk "R#<sku>#<n>"     { b<bucket>: slots }   n = 0..15: passes given back early (src/waiting-room-slots.mjs)
// A shopper who leaves (DELETE .../queue) keeps the ticket item, marked `left` and without `qpk` (out of the queue
// index: a sparse index), so joining again answers the same ticket: the pre-queue draw cannot be re-rolled.
// A shopper who left after admission, or whose reservation succeeded (a pass buys one reservation), gives the slot
// back early: the API adds it to a returned shard (never to the state item), the controller counts it out of the
// active shoppers and drops buckets past the pass lifetime; `admissions` holds one entry per bucket of time.
// The queue order is the tickets' arrival timestamps (ms x 1000 + a random tiebreak: unique in practice), read
// through the GSI "queue" (hash qpk, range arrival): tickets are spread over QUEUE_SHARDS partitions by the
// shopper, so a spike of joins never writes one hot partition, and there is no counter item that every join
// increments. A ticket is admitted when its arrival is at or below the serving watermark: the admitted set is
// always a prefix of the arrival order (FIFO by construction; nothing is admitted twice, a ticket is one item).
// Only the controller writes the state item (a few times a second at most, optimistic version check), and the
// shoppers' polls only read it (cached per process for STATE_CACHE_MS): 50,000 pollers cost one read a second.
//
// Tickets and passes are HMAC-SHA256 tokens (the same primitive a CloudFront Function can check):
//   v1.<base64url(JSON payload)>.<base64url(HMAC(secret, "v1." + payload))>
//   ticket: { k: 't', sku, sub, arr }              pass: { k: 'p', sku, sub, arr, exp }
import { randomInt, randomUUID } from 'node:crypto';
import { JOIN_DAYS } from './waiting-room-config.mjs';
import { REFRESH_MS, loadSigningKeys } from './waiting-room-secret.mjs';
import { Signer, TokenError } from './waiting-room-tokens.mjs';
import { RETURN_SHARDS, activeOf, admissionOf, bucketMsFor, bucketOf, dropStale, readReturned, recordAdmission, returnSlotUpdate } from './waiting-room-slots.mjs';

export { Signer, TokenError };
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

export const QUEUE_SHARDS = 16;
export const QUEUE_INDEX = 'queue';
const STATE_CACHE_MS = 1000;
// Milestones: the arrival of every k-th waiting ticket, so a poll computes its position from the state item alone.
const MAX_MILESTONES = 2000;
const MAX_QUEUE_READ = 100_000;
const MILESTONE_REFRESH_MS = 2000;
// Live signals (requirement: the rate adjusts to the API's sheds and latency). AIMD, as TCP's congestion control:
// on congestion the rate is halved (at most once a second: one episode is one decrease), otherwise it grows by
// 5 % of the configured rate per second back to the configured rate (from the floor, full speed in ~20 s).
export const LOAD_SHARDS = 16;
const DECREASE_FACTOR = 0.5;
const DECREASE_EVERY_MS = 1000;
const INCREASE_PER_SECOND = 0.05;
const MIN_RATE = 1;
const LOAD_FLUSH_MS = 200;
// Tickets expire (DynamoDB TTL) but must outlive the room: an expired ticket would let its shopper join again and be
// admitted twice. A room takes joins for at most JOIN_DAYS after it opens (the sale start; without one, its first
// join or open controller step, whichever comes first: a later join is 410 queue_closed), and a ticket lives
// JOIN_DAYS + a week's margin + the pass lifetime after its join (or the start): longer than any join and any pass of
// its room, since no ticket is joined before its room opened.
const TICKET_MARGIN_SECONDS = 7 * 86400;
// Pre-queue: a ticket joined before the sale start gets an arrival key drawn uniformly at random from the block
// just below the start's own key ([start x 1000 - PREQUEUE_SPAN, start x 1000)). Drawing each key independently
// at join is the same as shuffling all pre-queue tickets once at the start: their order is a uniformly random
// permutation, independent of when or how fast each one joined, and every one of them is ahead of every ticket
// joined after the start (whose key is its join time, at or above start x 1000). 10^12 keys: two of 100,000
// tickets share a key with probability ~0.5%, and then both are admitted in the same step.
const PREQUEUE_SPAN = 1e12;


/** Which of the 16 partitions a shopper's ticket goes to (stable per shopper: joining twice lands on the same). */
export function shardOf(sub) {
  let h = 2166136261;
  for (let i = 0; i < sub.length; i += 1) h = Math.imul(h ^ sub.charCodeAt(i), 16777619);
  return (h >>> 0) % QUEUE_SHARDS;
}

/**
 * config: { skus: Set, table, secret, ratePerSecond, maxActive, passSeconds }; doc: a DynamoDB document client.
 */
export class WaitingRoom {
  constructor({ config, doc, now = () => Date.now() }) {
    this.skus = config.skus;
    this.table = config.table;
    this.ratePerSecond = config.ratePerSecond;
    this.maxActive = config.maxActive;
    this.passSeconds = config.passSeconds;
    this.bucketMs = bucketMsFor(config.passSeconds);
    this.slowMs = config.slowMs ?? 200;
    this.pendingLoad = new Map(); // sku -> { count, at }: congestion seen here, not yet added to the table
    this.startsAt = config.startsAt ?? 0;
    this.endsAt = config.endsAt ?? 0; // WAITING_ROOM_ENDS_AT: from it no SKU is queued
    // The controller has no key (it never signs): only the API's room signs and verifies.
    this.signer = config.secret === undefined ? undefined : new Signer(config.secret);
    this.secretSource = config.secretArn ? config : undefined; // the key is in Secrets Manager: ready() reads it
    this.doc = doc;
    this.now = now;
    this.stateCache = new Map(); // sku -> { at, state }
    this.soldOutNoted = new Map(); // sku -> { at, soldOut }: the mark is written once per second per process at most
    this.stateReads = new Map(); // sku -> the cached read in flight
    this.openedNoted = new Set(); // SKUs whose state item has openedAt (written or seen by this process)
  }

  /**
   * The SKU sold out (true) or has units again (false): the mark the controller reads. Many shoppers meet the
   * sell-out at once; each process writes the same mark at most once a second.
   */
  async noteSoldOut(sku, soldOut) {
    if (!this.queued(sku)) return;
    const t = this.now();
    const noted = this.soldOutNoted.get(sku);
    if (noted && noted.soldOut === soldOut && t - noted.at < STATE_CACHE_MS) return;
    const Key = { pk: `X#${sku}` };
    if (soldOut) await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...Key, soldOutAt: t } }));
    else await this.doc.send(new DeleteCommand({ TableName: this.table, Key }));
    this.soldOutNoted.set(sku, { at: t, soldOut });
  }

  queued(sku) {
    return this.skus.has(sku) && !(this.endsAt && this.now() >= this.endsAt);
  }

  /**
   * Resolves once the signing key is known (at once with WAITING_ROOM_SECRET; with WAITING_ROOM_SECRET_ARN after the
   * first read, a ConfigError when the value is unusable). Later calls re-read the secret in the background every
   * REFRESH_MS (a failed re-read keeps the keys in hand).
   */
  ready() {
    if (!this.secretSource) return Promise.resolve();
    const t = Date.now();
    if (this.signer && this.keysAt !== undefined && t - this.keysAt > REFRESH_MS && !this.refreshing) {
      this.refreshing = loadSigningKeys(this.secretSource)
        .then(({ current, previous }) => { this.signer = new Signer(current, previous ? [previous] : []); this.keysAt = Date.now(); })
        .catch(() => { this.keysAt = Date.now(); })
        .finally(() => { this.refreshing = undefined; });
    }
    this.loading ??= loadSigningKeys(this.secretSource).then(({ current, previous }) => {
      this.signer = new Signer(current, previous ? [previous] : []);
      this.keysAt = Date.now();
    }).catch((err) => {
      this.loading = undefined; // the next request tries again
      throw err;
    });
    return this.loading;
  }

  /** Whether the sale has started (the room admits); before WAITING_ROOM_STARTS_AT it only takes joins. */
  open(nowMs = this.now()) {
    return nowMs >= this.startsAt;
  }

  ticketToken(t) {
    return this.signer.sign({ k: 't', sku: t.sku, sub: t.sub, arr: t.arrival });
  }

  /**
   * Without a sale start the room opens at its first join (or open controller step): openedAt is written before
   * the first ticket, only if not set yet, so the JOIN_DAYS of joins never start after a ticket's join (whose
   * lifetime runs from it). Once per SKU per process; it bumps the version, so a controller step that read the
   * state before cannot write over it (that step is raced, the next one reads it).
   */
  async noteOpened(sku, nowMs) {
    if (this.startsAt || this.openedNoted.has(sku)) return;
    if (this.stateCache.get(sku)?.state.openedAt) {
      this.openedNoted.add(sku);
      return;
    }
    try {
      await this.doc.send(new UpdateCommand({
        TableName: this.table, Key: { pk: `W#${sku}` }, UpdateExpression: 'SET openedAt = :now ADD version :one',
        ConditionExpression: 'attribute_not_exists(openedAt) OR openedAt = :zero',
        ExpressionAttributeValues: { ':now': nowMs, ':one': 1, ':zero': 0 },
      }));
    } catch (err) {
      if (err.name !== 'ConditionalCheckFailedException') throw err; // set already (another join, the controller)
    }
    this.openedNoted.add(sku);
  }

  /** One ticket per shopper and SKU: the first join writes it, every later one answers the same ticket. */
  async join(sku, sub) {
    const nowMs = this.now();
    await this.noteOpened(sku, nowMs);
    const arrival = this.open(nowMs) ? nowMs * 1000 + randomInt(1000) : this.startsAt * 1000 - 1 - randomInt(PREQUEUE_SPAN);
    const item = {
      pk: `T#${sku}#${sub}`, sku, sub, arrival, qpk: `Q#${sku}#${shardOf(sub)}`, joinedAt: nowMs,
      expiresAt: Math.floor(Math.max(nowMs, this.startsAt) / 1000) + JOIN_DAYS * 86400 + TICKET_MARGIN_SECONDS + this.passSeconds,
    };
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return { created: true, ticket: item };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException) && err.name !== 'ConditionalCheckFailedException') throw err;
    }
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: item.pk }, ConsistentRead: true }));
    return { created: false, ticket: Item };
  }

  /** Whether the room has taken joins for JOIN_DAYS already (state: the cached state item). */
  joinsClosed(state, nowMs = this.now()) {
    const openedAt = this.startsAt || state.openedAt;
    return Boolean(openedAt) && nowMs >= openedAt + JOIN_DAYS * 86400_000;
  }

  async ticketOf(sku, sub) {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: `T#${sku}#${sub}` } }));
    return Item;
  }

  /** The state item, read at most once per STATE_CACHE_MS per process (what every poll reads). */
  async state(sku, { fresh = false } = {}) {
    const cached = this.stateCache.get(sku);
    const t = this.now();
    if (!fresh && cached && t - cached.at < STATE_CACHE_MS) return cached.state;
    // One read in flight per SKU for the polls: the polls that arrive while it is on its way share it (hundreds a
    // second on one local server would otherwise each read the state item once the cache ran out).
    if (!fresh) {
      const pending = this.stateReads.get(sku);
      if (pending) return pending;
      const read = this.readState(sku, false, cached, t).finally(() => this.stateReads.delete(sku));
      this.stateReads.set(sku, read);
      return read;
    }
    return this.readState(sku, true, cached, t);
  }

  async readState(sku, fresh, cached, t) {
    let Item;
    try {
      ({ Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: `W#${sku}` }, ConsistentRead: fresh })));
    } catch (err) {
      // A poll answered from a state a few seconds old is still right about order; an error would send every
      // waiting shopper back at once. The controller (fresh) must not act on a stale state.
      if (cached && !fresh) return cached.state;
      throw err;
    }
    // Defaults under what is there: a first join may have written openedAt before any controller step.
    const state = { pk: `W#${sku}`, watermark: 0, milestones: [], step: 1, queued: 0, admissions: [], admittedTotal: 0, version: 0, updatedAt: 0, ...Item };
    this.stateCache.set(sku, { at: t, state });
    return state;
  }

  /**
   * A gated reservation attempt's answer (its pass verified and claimed; src/routes/waiting-room.mjs), or an early
   * shed of a request carrying a running pass: a shed (503) or one slower than WAITING_ROOM_SLOW_MS is congestion.
   * Nothing else counts (a request without a pass, a cancel, a confirm): nobody without a pass can slow the room.
   * Counted in memory and added to a random load shard at most every LOAD_FLUSH_MS per SKU per process (a shed must
   * stay cheap: the write is not awaited, and a failed one is dropped).
   */
  noteLoad(sku, { status, durationMs }) {
    if (!this.queued(sku)) return;
    const congested = status === 503 || (this.slowMs > 0 && durationMs > this.slowMs);
    if (!congested) return;
    const t = this.now();
    const pending = this.pendingLoad.get(sku) ?? { count: 0, at: 0 };
    pending.count += 1;
    this.pendingLoad.set(sku, pending);
    if (t - pending.at < LOAD_FLUSH_MS) return undefined;
    const count = pending.count;
    pending.count = 0;
    pending.at = t;
    return this.doc.send(new UpdateCommand({
      TableName: this.table, Key: { pk: `S#${sku}#${randomInt(LOAD_SHARDS)}` },
      UpdateExpression: 'ADD congested :n', ExpressionAttributeValues: { ':n': count },
    })).catch(() => {});
  }

  /** The SKU's congestion count so far (every load shard). */
  async load(sku) {
    const Keys = Array.from({ length: LOAD_SHARDS }, (_, n) => ({ pk: `S#${sku}#${n}` }));
    const { Responses } = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys, ProjectionExpression: 'congested' } } }));
    return (Responses?.[this.table] ?? []).reduce((n, it) => n + (it.congested ?? 0), 0);
  }

  /** The admission a ticket belongs to: [when, how many, watermark after, bucket, watermark before], or undefined
   *  when it has left the window (the ticket's turn is over). */
  admissionOf(state, arrival) {
    return admissionOf(state.admissions ?? [], arrival);
  }

  /**
   * The shopper leaves the queue. Waiting: the ticket leaves the queue index (nobody will admit it). Admitted with
   * a pass still running: the pass is revoked (refused at the reservation) and its slot in the active cap given
   * back. Either way the ticket stays, marked `left`: joining again answers it. Repeating is a replay.
   * Returns { outcome: 'left' | 'replayed' | 'not_in_queue', admitted, slotReturned }.
   */
  async leave(sku, sub) {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const ticket = (await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: `T#${sku}#${sub}` }, ConsistentRead: true }))).Item;
      if (!ticket) return { outcome: 'not_in_queue' };
      if (ticket.left) return { outcome: 'replayed', admitted: Boolean(ticket.leftAdmitted), slotReturned: Boolean(ticket.slotReturned) };
      const nowMs = this.now();
      const state = await this.state(sku, { fresh: true });
      const admitted = ticket.arrival <= state.watermark;
      const entry = admitted ? this.admissionOf(state, ticket.arrival) : undefined;
      const when = entry?.[0];
      // The slot counts as active until its admission leaves the window; a used pass gave its slot back already.
      const giveBack = when !== undefined && when > nowMs - this.passSeconds * 1000 && !ticket.usedKey;
      const items = [{
        Update: {
          TableName: this.table, Key: { pk: ticket.pk },
          UpdateExpression: 'SET #left = :now, leftAdmitted = :adm, slotReturned = :ret REMOVE qpk',
          // Giving the slot back only while no reservation claimed the pass (a claimed pass returns its slot after
          // the reservation's 201): a reservation racing this leave makes the condition fail, and the ticket is read
          // again.
          ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(#left) AND arrival = :arr${giveBack ? ' AND attribute_not_exists(usedKey)' : ''}`,
          ExpressionAttributeNames: { '#left': 'left' },
          ExpressionAttributeValues: { ':now': nowMs, ':adm': admitted, ':ret': giveBack, ':arr': ticket.arrival },
        },
      }];
      if (giveBack) items.push({ Update: returnSlotUpdate(this.table, sku, bucketOf(entry)) });
      // Still waiting: only if the controller has not admitted it meanwhile (else its slot would be lost).
      else if (!admitted) items.push({ ConditionCheck: { TableName: this.table, Key: { pk: `W#${sku}` }, ConditionExpression: 'attribute_not_exists(pk) OR watermark < :arr', ExpressionAttributeValues: { ':arr': ticket.arrival } } });
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
        return { outcome: 'left', admitted, slotReturned: giveBack };
      } catch (err) {
        if (err.name !== 'TransactionCanceledException') throw err; // raced (another leave, an admission, a claim): read again
      }
    }
    throw Object.assign(new Error('leaving the queue raced three times'), { code: '40001' });
  }

  /**
   * The reservation gate's second half (after verifyPass): the pass is claimed for this reservation BEFORE it runs,
   * by one conditional write on the shopper's ticket (usedKey = the reservation's idempotencyKey, only if the ticket
   * has not left and its pass is unclaimed or claimed by this same key). N concurrent requests with one pass and N
   * keys: one claim wins, the others are refused; a retry with the winning key passes again (and the database
   * replays it). A claim is never undone: a reservation the claim let through that then failed (409 sold_out, 503
   * shed, a lost connection) is retried with the same key; another key would be a second reservation of one
   * admission, which a failure that may still have committed cannot rule out. Throws TokenError; any other error
   * (throttling, DynamoDB unreachable) propagates: nothing is reserved without a claim.
   */
  async claimPass(pass, { sku, sub, idempotencyKey }) {
    const Key = { pk: `T#${sku}#${sub}` };
    try {
      await this.doc.send(new UpdateCommand({
        TableName: this.table, Key,
        UpdateExpression: 'SET usedKey = :k, usedAt = if_not_exists(usedAt, :now)',
        ConditionExpression: 'attribute_exists(pk) AND arrival = :arr AND attribute_not_exists(#left) AND (attribute_not_exists(usedKey) OR usedKey = :k)',
        ExpressionAttributeNames: { '#left': 'left' },
        ExpressionAttributeValues: { ':k': idempotencyKey, ':now': this.now(), ':arr': pass.arr },
      }));
      return;
    } catch (err) {
      if (err.name !== 'ConditionalCheckFailedException') throw err;
    }
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key, ConsistentRead: true }));
    if (!Item || Item.arrival !== pass.arr || Item.left) {
      throw new TokenError('admission_pass_revoked', 'x-admission-pass: revoked (the shopper left the queue)');
    }
    throw new TokenError('admission_pass_used', 'x-admission-pass: already claimed by another reservation (one per admission); retry that one with its idempotencyKey');
  }

  /**
   * The reservation the pass was claimed for succeeded (201): its slot goes back to the cap at once, so the next
   * shopper is admitted without waiting for the pass to run out. Once per ticket: the slot goes back in one
   * transaction with `passReturned` set on the ticket, only if not set yet, so a retry (here, the SDK's, a caller's)
   * never returns it twice; within this call the retries share one ClientRequestToken (a timed-out write that was
   * applied answers success). Returns whether this call returned the slot; the caller logs a final failure (the
   * slot then counts until the pass runs out: the cap errs on the safe side).
   */
  async passSpent(pass, { sku, sub }) {
    const nowMs = this.now();
    // The cached state (a second old at most) may predate the admission: then the state item itself.
    const entry = this.admissionOf(await this.state(sku), pass.arr) ?? this.admissionOf(await this.state(sku, { fresh: true }), pass.arr);
    if (entry === undefined || entry[0] <= nowMs - this.passSeconds * 1000) return false;
    const TransactItems = [{
      Update: {
        TableName: this.table, Key: { pk: `T#${sku}#${sub ?? pass.sub}` },
        UpdateExpression: 'SET passReturned = :now',
        ConditionExpression: 'attribute_exists(pk) AND arrival = :arr AND attribute_not_exists(passReturned)',
        ExpressionAttributeValues: { ':now': nowMs, ':arr': pass.arr },
      },
    }, { Update: returnSlotUpdate(this.table, sku, bucketOf(entry), randomInt(RETURN_SHARDS)) }];
    const ClientRequestToken = randomUUID();
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems, ClientRequestToken }));
        return true;
      } catch (err) {
        if (err.name === 'TransactionCanceledException' && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
        // Again only what may pass next time (a conflict, a token still in flight, throttling, a 5xx, no answer);
        // a refused request (4xx) fails at once.
        const transient = ['TransactionCanceledException', 'TransactionInProgressException', 'ProvisionedThroughputExceededException',
          'ThrottlingException', 'RequestLimitExceeded'].includes(err.name)
          || err.$retryable || (err.$metadata?.httpStatusCode ?? 500) >= 500;
        if (attempt >= 3 || !transient) throw err;
        await new Promise((r) => { setTimeout(r, 50 * attempt); });
      }
    }
  }

  /** Where a ticket stands: admitted (with a pass) or its position and the estimated wait. */
  status(state, ticket) {
    const nowMs = this.now();
    if (state.soldOut) return { soldOut: true };
    if (!this.open(nowMs)) {
      // No position before the start: the places are drawn then, so any number now would be made up.
      const opensIn = Math.ceil((this.startsAt - nowMs) / 1000);
      return {
        admitted: false, opensAt: new Date(this.startsAt).toISOString(), position: null, estimatedWaitSeconds: null,
        retryAfterSeconds: Math.min(30, Math.max(1, opensIn)),
        message: `the queue opens at ${new Date(this.startsAt).toISOString()}; places in line are drawn at random then`,
      };
    }
    if (ticket.arrival <= state.watermark) {
      // The pass runs from the shopper's admission, whenever it is polled: a shopper admitted long ago does not
      // get a new pass (the cap on active shoppers counts each admission for one pass lifetime).
      const admittedAt = this.admissionOf(state, ticket.arrival)?.[0];
      const exp = admittedAt === undefined ? 0 : Math.floor(admittedAt / 1000) + this.passSeconds;
      if (exp * 1000 <= this.now()) return { admitted: true, expired: true };
      return { admitted: true, pass: this.signer.sign({ k: 'p', sku: ticket.sku, sub: ticket.sub, arr: ticket.arrival, exp }), passExpiresAt: new Date(exp * 1000).toISOString() };
    }
    // Waiting tickets ahead of this one: milestones[i] is the arrival of the (i+1)*step-th waiting ticket.
    const m = state.milestones ?? [];
    let lo = 0;
    let hi = m.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (m[mid] < ticket.arrival) lo = mid + 1; else hi = mid;
    }
    const step = state.step ?? 1;
    // Milestones count from the controller's last full read; admissions since then moved everyone up.
    const moved = (state.admittedTotal ?? 0) - (state.milestoneBase ?? 0);
    // Not yet seen by the controller (a ticket newer than its last full read): behind everyone it knows of, and
    // behind those who joined since at the rate they were joining then.
    const unseen = lo >= m.length
      ? Math.max(state.queued ?? 0, lo * step - moved) + Math.max(0, (state.joinRate ?? 0) * ((ticket.arrival / 1000 - (state.milestonesAt ?? 0)) / 1000))
      : 0;
    const ahead = lo >= m.length ? Math.round(unseen) : lo * step - moved;
    const position = Math.max(1, ahead + 1);
    // The rate the controller actually achieved while shoppers waited (a late or starved controller admits less
    // than configured), else the configured one.
    const rate = state.admitRate > 0 ? state.admitRate : (state.ratePerSecond ?? this.ratePerSecond);
    const estimatedWaitSeconds = Math.ceil(position / rate);
    // Poll about twice before the estimated turn, never more than once a second nor less than twice a minute.
    const retryAfterSeconds = Math.min(30, Math.max(1, Math.floor(estimatedWaitSeconds / 2)));
    return { admitted: false, position, estimatedWaitSeconds, retryAfterSeconds };
  }

  /** A pass for this shopper and SKU, or TokenError naming what is wrong with it. */
  verifyPass(token, { sku, sub }) {
    if (!token) throw new TokenError('admission_pass_required', `${sku} is sold through the waiting room: join its queue and send the admission pass (x-admission-pass)`);
    let p;
    try {
      p = this.signer.open(token);
    } catch (err) {
      throw new TokenError('admission_pass_invalid', `x-admission-pass: ${err.message}`);
    }
    if (p.k !== 'p') throw new TokenError('admission_pass_invalid', 'x-admission-pass: not an admission pass (a queue ticket is not one)');
    if (p.sub !== sub) throw new TokenError('admission_pass_other_shopper', 'x-admission-pass: issued to another shopper');
    if (p.sku !== sku) throw new TokenError('admission_pass_other_sku', `x-admission-pass: issued for ${p.sku}, not ${sku}`);
    if (!Number.isInteger(p.exp) || p.exp * 1000 <= this.now()) throw new TokenError('admission_pass_expired', 'x-admission-pass: expired; poll the queue for a new one');
    return p;
  }

  /** Whether a request carries a pass of this SKU still running (signature, kind, SKU, expiry; not the shopper):
   *  the early shed's test of a gated reservation attempt, before the caller's token is verified. */
  passLooksValid(token, sku) {
    if (!token || !this.signer) return false;
    try {
      const p = this.signer.open(token);
      return p.k === 'p' && p.sku === sku && Number.isInteger(p.exp) && p.exp * 1000 > this.now();
    } catch {
      return false;
    }
  }

  /** A ticket token of this shopper and SKU, or TokenError. */
  verifyTicket(token, { sku, sub }) {
    let p;
    try {
      p = this.signer.open(token);
    } catch (err) {
      throw new TokenError('queue_ticket_invalid', `x-queue-ticket: ${err.message}`);
    }
    if (p.k !== 't') throw new TokenError('queue_ticket_invalid', 'x-queue-ticket: not a queue ticket');
    if (p.sub !== sub) throw new TokenError('queue_ticket_other_shopper', 'x-queue-ticket: issued to another shopper');
    if (p.sku !== sku) throw new TokenError('queue_ticket_other_sku', `x-queue-ticket: issued for ${p.sku}, not ${sku}`);
    return { sku, sub, arrival: p.arr };
  }

  /** Waiting tickets' arrivals after `after`, in order (every shard, merged), at most `limit` (each shard reads at
   *  most `limit`: the first `limit` overall are among them). */
  async waiting(sku, after, limit) {
    if (limit <= 0) return [];
    const perShard = await Promise.all(Array.from({ length: QUEUE_SHARDS }, async (_, shard) => {
      const out = [];
      let ExclusiveStartKey;
      do {
        const page = await this.doc.send(new QueryCommand({
          TableName: this.table, IndexName: QUEUE_INDEX, KeyConditionExpression: 'qpk = :q AND arrival > :w',
          ExpressionAttributeValues: { ':q': `Q#${sku}#${shard}`, ':w': after }, ProjectionExpression: 'arrival', ExclusiveStartKey,
          Limit: Math.min(limit - out.length, 10_000),
        }));
        for (const it of page.Items) out.push(it.arrival);
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey && out.length < limit);
      return out;
    }));
    return perShard.flat().sort((a, b) => a - b).slice(0, limit);
  }

  /**
   * One controller step for a SKU: admit the next tickets in arrival order, as many as the rate allows since the
   * last step and the cap on active shoppers leaves room for (active = admitted within the pass lifetime).
   * The whole queue (for the milestones the polls compute positions from) is read at most every
   * MILESTONE_REFRESH_MS; in between a step reads only the tickets it admits.
   * Safe to run from several places at once: the state write is conditional on the version it read.
   */
  async advance(sku) {
    const nowMs = this.now();
    const [state, mark, load, returned] = await Promise.all([
      this.state(sku, { fresh: true }),
      this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: `X#${sku}` }, ConsistentRead: true })),
      this.load(sku),
      readReturned(this.doc, this.table, sku),
    ]);
    // AIMD on the live signal: new congestion since the last step halves the rate (once per DECREASE_EVERY_MS),
    // none lets it grow back additively to the configured rate.
    const congestion = Math.max(0, load - (state.loadSeen ?? load));
    let rate = state.ratePerSecond ?? this.ratePerSecond;
    let { lastDecreaseAt = 0 } = state;
    const stepSeconds = state.updatedAt ? Math.min(nowMs - state.updatedAt, 5000) / 1000 : 0;
    if (congestion > 0) {
      if (nowMs - lastDecreaseAt >= DECREASE_EVERY_MS) {
        rate = Math.max(MIN_RATE, rate * DECREASE_FACTOR);
        lastDecreaseAt = nowMs;
      }
    } else {
      rate = Math.min(this.ratePerSecond, rate + this.ratePerSecond * INCREASE_PER_SECOND * stepSeconds);
    }
    // Sold out: the room is closed (nobody admitted, the queue not read, Queued 0) until the mark goes.
    const soldOut = Boolean(mark.Item);
    const open = this.open(nowMs) && !soldOut;
    const windowStart = nowMs - this.passSeconds * 1000;
    // Passes given back early (left, or spent on a reservation) no longer count as active.
    const active = activeOf((state.admissions ?? []).filter(([t]) => t > windowStart), returned.counts);
    // Before the start nothing is admitted and no credit is saved up: the rate runs from the start.
    const since = Math.max(state.updatedAt ?? 0, this.startsAt);
    const elapsedMs = state.updatedAt ? Math.min(Math.max(0, nowMs - since), 5000) : 1000;
    const credit = open ? (state.credit ?? 0) + (rate * elapsedMs) / 1000 : 0;
    const budget = open ? Math.max(0, Math.min(Math.floor(credit), this.maxActive - active)) : 0;
    const full = soldOut || !state.milestonesAt || nowMs - state.milestonesAt >= MILESTONE_REFRESH_MS || (state.queued ?? 0) === 0;
    const arrivals = soldOut ? [] : await this.waiting(sku, state.watermark, full ? budget + MAX_QUEUE_READ : budget);
    const admit = arrivals.slice(0, budget);
    const admittedTotal = (state.admittedTotal ?? 0) + admit.length;
    let { milestones = [], step = 1, milestoneBase = 0, milestonesAt = 0, joinRate = 0, admitRate = 0 } = state;
    let queued = Math.max(0, (state.queued ?? 0) - admit.length);
    if (full) {
      const rest = arrivals.slice(admit.length);
      step = Math.max(1, Math.ceil(rest.length / MAX_MILESTONES));
      milestones = [];
      for (let i = step - 1; i < rest.length; i += step) milestones.push(rest[i]);
      // Joins per second since the last full read: how far behind the known queue an unseen ticket stands. The
      // first read has no previous one: the tickets it sees over the time since the first of them arrived.
      if (state.milestonesAt) joinRate = Math.max(0, (rest.length + admit.length - (state.queued ?? 0)) / (Math.max(1, nowMs - state.milestonesAt) / 1000));
      else if (arrivals.length) joinRate = arrivals.length / Math.max(0.5, (nowMs - arrivals[0] / 1000) / 1000);
      // Admissions per second since the last full read, when shoppers waited all along (else the queue, not the
      // rate, bounded them): what estimates divide by.
      admitRate = state.milestonesAt && (state.queued ?? 0) > 0 && rest.length > 0
        ? (admittedTotal - (state.milestoneBase ?? 0)) / (Math.max(1, nowMs - state.milestonesAt) / 1000) : 0;
      queued = rest.length;
      milestoneBase = admittedTotal;
      milestonesAt = nowMs;
    }
    // [when, how many, watermark after, bucket, watermark before]: which admission a ticket belongs to (its pass
    // lifetime runs from there); one entry per bucket (src/waiting-room-slots.mjs), so the list stays bounded.
    const admissions = recordAdmission(state.admissions ?? [], {
      nowMs, count: admit.length, watermark: admit.at(-1), before: state.watermark ?? 0, windowStart, bucketMs: this.bucketMs,
    });
    const next = {
      pk: `W#${sku}`,
      watermark: admit.length ? admit[admit.length - 1] : state.watermark,
      milestones, step, milestoneBase, milestonesAt, joinRate, admitRate, queued, admissions,
      // Unused credit carries over only while shoppers wait, and at most a second's worth (no saved-up burst).
      credit: queued ? Math.min(rate, credit - admit.length) : 0,
      ratePerSecond: rate, loadSeen: load, lastDecreaseAt,
      soldOut,
      admittedTotal,
      // When the room first stepped open (0: not yet): the JOIN_DAYS of joins run from here without a sale start.
      openedAt: state.openedAt || (this.open(nowMs) ? nowMs : 0),
      version: (state.version ?? 0) + 1,
      updatedAt: nowMs,
    };
    // An UpdateItem of the controller's own attributes; the `returned` map of earlier versions (slots given back
    // were once counted on this item) is removed.
    const names = {};
    const values = { ':v': state.version ?? 0 };
    const sets = Object.keys(next).filter((k) => k !== 'pk').map((k, i) => {
      names[`#a${i}`] = k;
      values[`:a${i}`] = next[k];
      return `#a${i} = :a${i}`;
    });
    const expression = `SET ${sets.join(', ')}${state.returned === undefined ? '' : ' REMOVE returned'}`;
    try {
      await this.doc.send(new UpdateCommand({
        TableName: this.table, Key: { pk: next.pk }, UpdateExpression: expression,
        ConditionExpression: 'attribute_not_exists(pk) OR version = :v', ExpressionAttributeNames: names, ExpressionAttributeValues: values,
      }));
    } catch (err) {
      if (err.name === 'ConditionalCheckFailedException') return { admitted: 0, queued, raced: true };
      throw err;
    }
    this.stateCache.set(sku, { at: nowMs, state: next });
    await dropStale(this.doc, this.table, returned.shards, new Set(admissions.map(bucketOf)));
    // Seconds each admitted ticket waited: from its arrival, or from the start for a pre-queue ticket (its key is a
    // draw, not a time).
    const waitSeconds = admit.map((a) => Math.max(0, nowMs - Math.max(Math.floor(a / 1000), this.startsAt)) / 1000);
    return { admitted: admit.length, queued, active: active + admit.length, watermark: next.watermark, waitSeconds, soldOut, ratePerSecond: rate };
  }

  /** Run `step` (every queued SKU once) every intervalMs, never two at once (the local server; on AWS a
   *  scheduled function: src/waiting-room-controller.mjs). */
  startController(intervalMs, step, onError = () => {}) {
    let running = false;
    const timer = setInterval(async () => {
      if (running) return;
      running = true;
      try {
        await step();
      } catch (err) {
        onError(err);
      } finally {
        running = false;
      }
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}

/** The table as CreateTable takes it (local runs, tests, the benchmark; the data layer declares the same). */
export function tableDefinition(name) {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'qpk', AttributeType: 'S' },
      { AttributeName: 'arrival', AttributeType: 'N' },
    ],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [{
      IndexName: QUEUE_INDEX,
      KeySchema: [{ AttributeName: 'qpk', KeyType: 'HASH' }, { AttributeName: 'arrival', KeyType: 'RANGE' }],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    }],
  };
}
