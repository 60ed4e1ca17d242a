// The waiting room of a sale SKU: shoppers queue in arrival order and are admitted at the rate the SKU can serve,
// with a cap on shoppers admitted at once. Joining and polling never touch PostgreSQL.
//
// Where the state lives (DynamoDB, one table):
//   ticket    pk "T#<sku>#<sub>"   { arrival, qpk: "Q#<sku>#<shard>" }   one per shopper and SKU (conditional put)
//   state     pk "W#<sku>"         { watermark, milestones, queued, admissions, version, updatedAt }
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
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';

export const QUEUE_SHARDS = 16;
export const QUEUE_INDEX = 'queue';
const STATE_CACHE_MS = 1000;
// Milestones: the arrival of every k-th waiting ticket, so a poll computes its position from the state item alone.
const MAX_MILESTONES = 2000;
const MAX_QUEUE_READ = 100_000;
const MILESTONE_REFRESH_MS = 2000;
const TICKET_TTL_SECONDS = 2 * 86400;

const b64 = (buf) => Buffer.from(buf).toString('base64url');

/** Which of the 16 partitions a shopper's ticket goes to (stable per shopper: joining twice lands on the same). */
export function shardOf(sub) {
  let h = 2166136261;
  for (let i = 0; i < sub.length; i += 1) h = Math.imul(h ^ sub.charCodeAt(i), 16777619);
  return (h >>> 0) % QUEUE_SHARDS;
}

export class TokenError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class Signer {
  constructor(secret) {
    if (typeof secret !== 'string' || Buffer.byteLength(secret) < 32) throw new Error('waiting room secret: at least 32 bytes');
    this.key = Buffer.from(secret);
  }

  mac(body) {
    return createHmac('sha256', this.key).update(`v1.${body}`).digest();
  }

  sign(payload) {
    const body = b64(JSON.stringify(payload));
    return `v1.${body}.${b64(this.mac(body))}`;
  }

  /** The payload of a token this key signed, or TokenError('invalid'). */
  open(token) {
    if (typeof token !== 'string' || token.length > 1024) throw new TokenError('invalid', 'not a token of this waiting room');
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== 'v1') throw new TokenError('invalid', 'not a token of this waiting room');
    const given = Buffer.from(parts[2], 'base64url');
    const want = this.mac(parts[1]);
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new TokenError('invalid', 'signature does not match');
    try {
      return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      throw new TokenError('invalid', 'unreadable payload');
    }
  }
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
    this.signer = new Signer(config.secret);
    this.doc = doc;
    this.now = now;
    this.stateCache = new Map(); // sku -> { at, state }
    this.stateReads = new Map(); // sku -> the cached read in flight
  }

  queued(sku) {
    return this.skus.has(sku);
  }

  ticketToken(t) {
    return this.signer.sign({ k: 't', sku: t.sku, sub: t.sub, arr: t.arrival });
  }

  /** One ticket per shopper and SKU: the first join writes it, every later one answers the same ticket. */
  async join(sku, sub) {
    const nowMs = this.now();
    const arrival = nowMs * 1000 + randomInt(1000);
    const item = {
      pk: `T#${sku}#${sub}`, sku, sub, arrival, qpk: `Q#${sku}#${shardOf(sub)}`, joinedAt: nowMs,
      expiresAt: Math.floor(nowMs / 1000) + TICKET_TTL_SECONDS,
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
    const state = Item ?? { pk: `W#${sku}`, watermark: 0, milestones: [], step: 1, queued: 0, admissions: [], admittedTotal: 0, version: 0, updatedAt: 0 };
    this.stateCache.set(sku, { at: t, state });
    return state;
  }

  /** Where a ticket stands: admitted (with a pass) or its position and the estimated wait. */
  status(state, ticket) {
    if (ticket.arrival <= state.watermark) {
      // The pass runs from the shopper's admission, whenever it is polled: a shopper admitted long ago does not
      // get a new pass (the cap on active shoppers counts each admission for one pass lifetime).
      const admittedAt = (state.admissions ?? []).find(([, , wm]) => wm >= ticket.arrival)?.[0];
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
    const state = await this.state(sku, { fresh: true });
    const windowStart = nowMs - this.passSeconds * 1000;
    const admissions = (state.admissions ?? []).filter(([t]) => t > windowStart);
    const active = admissions.reduce((n, [, k]) => n + k, 0);
    const elapsedMs = state.updatedAt ? Math.min(nowMs - state.updatedAt, 5000) : 1000;
    const credit = (state.credit ?? 0) + (this.ratePerSecond * elapsedMs) / 1000;
    const budget = Math.max(0, Math.min(Math.floor(credit), this.maxActive - active));
    const full = !state.milestonesAt || nowMs - state.milestonesAt >= MILESTONE_REFRESH_MS || (state.queued ?? 0) === 0;
    const arrivals = await this.waiting(sku, state.watermark, full ? budget + MAX_QUEUE_READ : budget);
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
      if (state.milestonesAt) joinRate = Math.max(0, (rest.length + admit.length - (state.queued ?? 0)) / ((nowMs - state.milestonesAt) / 1000));
      else if (arrivals.length) joinRate = arrivals.length / Math.max(0.5, (nowMs - arrivals[0] / 1000) / 1000);
      // Admissions per second since the last full read, when shoppers waited all along (else the queue, not the
      // rate, bounded them): what estimates divide by.
      admitRate = state.milestonesAt && (state.queued ?? 0) > 0 && rest.length > 0
        ? (admittedTotal - (state.milestoneBase ?? 0)) / ((nowMs - state.milestonesAt) / 1000) : 0;
      queued = rest.length;
      milestoneBase = admittedTotal;
      milestonesAt = nowMs;
    }
    // [when, how many, watermark after]: which admission a ticket belongs to (its pass lifetime runs from there).
    if (admit.length) admissions.push([nowMs, admit.length, admit[admit.length - 1]]);
    const next = {
      pk: `W#${sku}`,
      watermark: admit.length ? admit[admit.length - 1] : state.watermark,
      milestones, step, milestoneBase, milestonesAt, joinRate, admitRate, queued, admissions,
      // Unused credit carries over only while shoppers wait, and at most a second's worth (no saved-up burst).
      credit: queued ? Math.min(this.ratePerSecond, credit - admit.length) : 0,
      ratePerSecond: this.ratePerSecond,
      admittedTotal,
      version: (state.version ?? 0) + 1,
      updatedAt: nowMs,
    };
    try {
      await this.doc.send(new PutCommand({
        TableName: this.table, Item: next,
        ConditionExpression: 'attribute_not_exists(pk) OR version = :v', ExpressionAttributeValues: { ':v': state.version ?? 0 },
      }));
    } catch (err) {
      if (err.name === 'ConditionalCheckFailedException') return { admitted: 0, queued, raced: true };
      throw err;
    }
    this.stateCache.set(sku, { at: nowMs, state: next });
    return { admitted: admit.length, queued, active: active + admit.length, watermark: next.watermark };
  }

  /** Run the controller for every queued SKU every intervalMs (the local server; on AWS a scheduled function). */
  startController(intervalMs, onError = () => {}) {
    let running = false;
    const timer = setInterval(async () => {
      if (running) return;
      running = true;
      try {
        for (const sku of this.skus) await this.advance(sku);
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
