// The waiting room's controller: advance every queued SKU, step after step, and report each step as CloudWatch
// metrics (EMF). Locally the API process runs it on a timer (WAITING_ROOM_CONTROLLER_MS); on AWS a function of its
// own, invoked once a minute by EventBridge Scheduler (its finest rate), loops for most of that minute.
import { contract } from './observability.mjs';

// EMF takes at most 100 values of one metric per record.
const MAX_VALUES = 100;

/** At most `max` values, evenly spread over the list (every k-th), so a large admission keeps its distribution. */
export function sample(values, max = MAX_VALUES) {
  if (values.length <= max) return values;
  const stride = values.length / max;
  return Array.from({ length: max }, (_, i) => values[Math.floor(i * stride)]);
}

/** The EMF record of one step of one SKU (dimension sets [service] and [service, sku], from the contract). */
export function emitStep(metrics, sku, result) {
  const values = { WaitingRoomQueued: result.queued ?? 0, WaitingRoomAdmitted: result.admitted ?? 0 };
  if (result.waitSeconds?.length) values.WaitingRoomWaitSeconds = sample(result.waitSeconds);
  metrics.emit(values, { [contract.skuDimension]: sku });
}

/** One controller step: every queued SKU once. A SKU that fails does not stop the others; the first error is thrown. */
export async function controllerStep(room, metrics) {
  const results = {};
  let failure;
  for (const sku of room.skus) {
    try {
      results[sku] = await room.advance(sku);
      if (metrics) emitStep(metrics, sku, results[sku]);
    } catch (err) {
      failure ??= err;
    }
  }
  if (failure) throw failure;
  return results;
}
