// The waiting room's active-shopper bookkeeping (src/waiting-room.mjs), kept bounded whatever the pass lifetime and
// the admission rate:
// - admissions: the state item's list of [lastAt, count, watermark after, bucket, watermark before], one entry per
//   bucket of bucketMs (the pass lifetime over MAX_BUCKETS, at least a second): a step admitting in the bucket of the last
//   entry adds to it. At most MAX_BUCKETS + 1 entries stay in the window (the item stays far below DynamoDB's
//   400 KB; test/waiting-room-state-size.test.mjs computes it at the configuration's bounds). An entry holds the
//   tickets with watermark before < arrival <= watermark after: once it leaves the window its tickets match no
//   entry (their turn is over), never the next, later one.
// - returned: slots given back early (a shopper who left after admission, a spent pass) are counted in RETURN_SHARDS
//   items "R#<sku>#<n>", one numeric attribute "b<bucket>" per bucket, added to (UpdateItem ADD) on a random one:
//   a leave or a spent pass never writes the state item (hot, and written whole by every step), and no one counter
//   is hot. The controller sums them each step (one BatchGetItem) and removes the buckets past the pass lifetime.
// An entry's pass lifetime runs from its lastAt: a ticket admitted early in a bucket may get a pass up to bucketMs
// longer than WAITING_ROOM_PASS_SECONDS (30 s at 3600 s), and the cap counts the bucket as long as any of its
// passes can run (it errs on the safe side).
import { randomInt } from 'node:crypto';
import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

export const MAX_BUCKETS = 120;
export const RETURN_SHARDS = 16;

/** The width of an admission bucket (ms) for a pass lifetime (s). */
export function bucketMsFor(passSeconds) {
  return Math.max(1, Math.ceil(passSeconds / MAX_BUCKETS)) * 1000;
}

/** The bucket an admission entry counts its returned slots under (an entry written before buckets: its time). */
export const bucketOf = (entry) => entry[3] ?? entry[0];

/**
 * The admission entry a ticket (an arrival at or below the watermark) belongs to, or undefined when its entry has
 * left the window. An entry written before lower bounds were kept takes the previous entry's watermark; the first
 * such entry of a list has none (those entries leave within one pass lifetime).
 */
export function admissionOf(admissions, arrival) {
  const i = admissions.findIndex(([, , wm]) => wm >= arrival);
  if (i < 0) return undefined;
  const lower = admissions[i][4] ?? admissions[i - 1]?.[2];
  return lower === undefined || arrival > lower ? admissions[i] : undefined;
}

/**
 * The admissions in the window after a step at nowMs that admitted `count` from above `before` up to `watermark`:
 * entries past the window dropped, the new ones added to the last entry when it is of the same bucket (which keeps
 * its own lower bound).
 */
export function recordAdmission(admissions, { nowMs, count, watermark, before, windowStart, bucketMs }) {
  const kept = admissions.filter(([t]) => t > windowStart);
  if (!count) return kept;
  const bucket = Math.floor(nowMs / bucketMs) * bucketMs;
  const last = kept.at(-1);
  if (last && last[3] === bucket) kept[kept.length - 1] = [nowMs, last[1] + count, watermark, bucket, last.length > 4 ? last[4] : (kept.at(-2)?.[2] ?? null)];
  else kept.push([nowMs, count, watermark, bucket, before]);
  return kept;
}

/** Shoppers holding a slot: admitted in the window, less the slots given back, per bucket. */
export function activeOf(admissions, returned) {
  const admitted = new Map();
  for (const e of admissions) admitted.set(bucketOf(e), (admitted.get(bucketOf(e)) ?? 0) + e[1]);
  let active = 0;
  for (const [bucket, n] of admitted) active += Math.max(0, n - (returned.get(bucket) ?? 0));
  return active;
}

/** The UpdateItem (as a transaction item's Update) that gives one slot of this bucket back (on `shard`, by
 *  default a random one). */
export function returnSlotUpdate(table, sku, bucket, shard = randomInt(RETURN_SHARDS)) {
  return {
    TableName: table, Key: { pk: `R#${sku}#${shard}` },
    UpdateExpression: 'ADD #b :one', ExpressionAttributeNames: { '#b': `b${bucket}` }, ExpressionAttributeValues: { ':one': 1 },
  };
}

/** The returned slots of a SKU per bucket (every shard summed), and each shard's bucket attributes. */
export async function readReturned(doc, table, sku) {
  const Keys = Array.from({ length: RETURN_SHARDS }, (_, n) => ({ pk: `R#${sku}#${n}` }));
  const { Responses } = await doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys, ConsistentRead: true } } }));
  const counts = new Map();
  const shards = [];
  for (const item of Responses?.[table] ?? []) {
    const buckets = Object.keys(item).filter((k) => /^b\d+$/.test(k));
    for (const b of buckets) counts.set(Number(b.slice(1)), (counts.get(Number(b.slice(1))) ?? 0) + item[b]);
    shards.push({ pk: item.pk, buckets: buckets.map((b) => Number(b.slice(1))) });
  }
  return { counts, shards };
}

/** Remove the buckets no admission in the window has (their passes have all run out). Best effort: the next step
 *  tries again. */
export async function dropStale(doc, table, shards, live) {
  await Promise.all(shards.map(({ pk, buckets }) => {
    const stale = buckets.filter((b) => !live.has(b));
    if (!stale.length) return undefined;
    const names = Object.fromEntries(stale.map((b, i) => [`#s${i}`, `b${b}`]));
    return doc.send(new UpdateCommand({
      TableName: table, Key: { pk }, UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`, ExpressionAttributeNames: names,
    })).catch(() => {});
  }));
}
