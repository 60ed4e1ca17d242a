// The waiting room's controller: advance every queued SKU, step after step, and report each step as CloudWatch
// metrics (EMF). Locally the API process runs it on a timer (WAITING_ROOM_CONTROLLER_MS); on AWS a function of its
// own, invoked once a minute by EventBridge Scheduler (its finest rate), loops for most of that minute.
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from './config.mjs';
import { createDynamo } from './dynamo.mjs';
import { Metrics, contract, createLogger } from './observability.mjs';
import { WaitingRoom } from './waiting-room.mjs';
import { loadWaitingRoomConfig } from './waiting-room-config.mjs';

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

// --- the Lambda function (image command "src/waiting-room-controller.handler") --------------------------------

// EventBridge Scheduler invokes at most once a minute: one invocation steps for about that minute, and stops early
// when the function's own timeout comes within STOP_BEFORE_TIMEOUT_MS.
export const RUN_MS = 55_000;
export const STOP_BEFORE_TIMEOUT_MS = 5_000;
const DEFAULT_STEP_MS = 250;

/**
 * What the function needs, from its environment: the room's settings without the HMAC key, the table, the region;
 * never PostgreSQL. options.metricsWrite: where EMF lines go (default stdout).
 */
export function createController(env = process.env, { metricsWrite } = {}) {
  const config = loadWaitingRoomConfig(env, { signing: false });
  if (!config) throw new ConfigError('WAITING_ROOM_SKUS', 'is required: the controller advances the rooms of these SKUs');
  const raw = env.WAITING_ROOM_CONTROLLER_MS?.trim() || undefined;
  const stepMs = raw ? Number(raw) : DEFAULT_STEP_MS;
  if (!/^\d+$/.test(raw ?? String(DEFAULT_STEP_MS)) || stepMs < 50 || stepMs > 10_000) throw new ConfigError('WAITING_ROOM_CONTROLLER_MS', `must be an integer between 50 and 10000 on the controller, got "${raw}"`);
  const dynamoEndpoint = env.DYNAMODB_ENDPOINT?.trim() || undefined;
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || (dynamoEndpoint ? 'us-east-1' : undefined);
  if (!region) throw new ConfigError('AWS_REGION', 'is required (Lambda sets it; locally set it or DYNAMODB_ENDPOINT)');
  const doc = createDynamo({ region, dynamoEndpoint });
  const room = new WaitingRoom({ config, doc });
  const metrics = new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE, service: env.POWERTOOLS_SERVICE_NAME || 'catalog-api', write: metricsWrite });
  const logger = createLogger({ serviceName: env.POWERTOOLS_SERVICE_NAME || 'catalog-api', logLevel: env.LOG_LEVEL || 'INFO' });
  return { room, metrics, logger, stepMs, close: () => doc.destroy() };
}

/**
 * Step every queued SKU every stepMs for about a minute (RUN_MS), or until the invocation's remaining time is
 * below STOP_BEFORE_TIMEOUT_MS. Two invocations at once are safe: a step writes the room state only if its version
 * is the one it read (the loser's step admits nothing). Returns what it did; throws when every step failed.
 */
export async function runController(controller, context, { runMs = RUN_MS } = {}) {
  const { room, metrics, logger, stepMs } = controller;
  const started = Date.now();
  const summary = { steps: 0, admitted: 0, raced: 0, failed: 0 };
  let lastError;
  for (;;) {
    const stepStarted = Date.now();
    try {
      const results = await controllerStep(room, metrics);
      for (const r of Object.values(results)) {
        summary.admitted += r.admitted;
        if (r.raced) summary.raced += 1;
      }
    } catch (err) {
      summary.failed += 1;
      lastError = err;
    }
    summary.steps += 1;
    const remaining = context?.getRemainingTimeInMillis?.() ?? Infinity;
    if (Date.now() + stepMs - started >= runMs || remaining - stepMs < STOP_BEFORE_TIMEOUT_MS) break;
    await sleep(Math.max(0, stepMs - (Date.now() - stepStarted)));
  }
  summary.durationMs = Date.now() - started;
  if (summary.failed === summary.steps) throw lastError; // a function error: Lambda's Errors metric and its alarm
  if (summary.failed) logger.warn('waiting room controller: some steps failed', { event: 'waitingroom.controller_failed', ...summary, error: lastError });
  return summary;
}

let controller; // one per execution environment

export const handler = async (_event, context) => {
  if (!controller) {
    try {
      controller = createController();
    } catch (err) {
      process.stderr.write(`${JSON.stringify({ level: 'ERROR', message: err.message, event: 'startup.failed' })}\n`);
      throw err;
    }
  }
  return runController(controller, context);
};
