// The waiting room's settings (src/waiting-room.mjs). No WAITING_ROOM_SKUS: no room, every SKU sells directly.
import { ConfigError } from './config.mjs';

// A room takes joins for at most this many days after it opens (its tickets must outlive it: src/waiting-room.mjs).
export const JOIN_DAYS = 30;

const SKU = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/; // as the routes validate it
const TABLE = /^[a-zA-Z0-9_.-]{3,255}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

function int(env, name, fallback, min, max) {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

// An instant with its offset: "2026-12-24T18:00:00Z" or "...+01:00" (a time without one would depend on the
// machine's zone).
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

function instant(env, name) {
  const raw = env[name]?.trim();
  if (!raw) return 0;
  const ms = Date.parse(raw);
  const [y, m, d] = raw.slice(0, 10).split('-').map(Number);
  const realDay = new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d; // Date.parse rolls 02-30 over to March
  if (!INSTANT.test(raw) || !Number.isFinite(ms) || !realDay) throw new ConfigError(name, `must be an ISO-8601 instant with its offset (e.g. 2026-12-24T18:00:00Z), got "${raw}"`);
  return ms;
}

/**
 * The room's settings. options.signing: false for the controller (src/waiting-room-controller.mjs), which admits
 * but never signs nor verifies anything, so it never holds the HMAC key.
 */
export function loadWaitingRoomConfig(env = process.env, { signing = true } = {}) {
  const list = (env.WAITING_ROOM_SKUS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.length) return undefined;
  const bad = list.find((s) => !SKU.test(s));
  if (bad) throw new ConfigError('WAITING_ROOM_SKUS', `holds "${bad}", not a SKU`);
  const table = env.WAITING_ROOM_TABLE?.trim();
  if (!table) throw new ConfigError('WAITING_ROOM_TABLE', 'is required when WAITING_ROOM_SKUS is set');
  if (!TABLE.test(table)) throw new ConfigError('WAITING_ROOM_TABLE', `is not a valid DynamoDB table name: "${table}"`);
  // The HMAC key of tickets and passes (guessable means forgeable): WAITING_ROOM_SECRET locally, or on AWS the ARN of
  // the Secrets Manager secret that holds it (src/waiting-room-secret.mjs reads it at cold start).
  const secretArn = signing ? env.WAITING_ROOM_SECRET_ARN?.trim() || undefined : undefined;
  const secret = signing && !secretArn ? env.WAITING_ROOM_SECRET ?? '' : undefined;
  if (secretArn) {
    if (env.WAITING_ROOM_SECRET) throw new ConfigError('WAITING_ROOM_SECRET', 'and WAITING_ROOM_SECRET_ARN are both set: give exactly one');
    if (!SECRET_ARN.test(secretArn)) throw new ConfigError('WAITING_ROOM_SECRET_ARN', `is not a Secrets Manager secret ARN: "${secretArn}"`);
  } else if (signing && Buffer.byteLength(secret) < 32) {
    throw new ConfigError('WAITING_ROOM_SECRET', 'must be at least 32 bytes when WAITING_ROOM_SKUS is set (or give WAITING_ROOM_SECRET_ARN)');
  }
  const dynamoEndpoint = env.DYNAMODB_ENDPOINT?.trim();
  const startsAt = instant(env, 'WAITING_ROOM_STARTS_AT');
  const endsAt = instant(env, 'WAITING_ROOM_ENDS_AT');
  if (endsAt && endsAt <= startsAt) throw new ConfigError('WAITING_ROOM_ENDS_AT', 'must be after WAITING_ROOM_STARTS_AT');
  return Object.freeze({
    skus: new Set(list),
    table,
    secret,
    secretArn,
    region: env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || (dynamoEndpoint ? 'us-east-1' : undefined),
    secretsEndpoint: env.SECRETS_MANAGER_ENDPOINT?.trim() || undefined,
    // Admissions per second per SKU: from the capacity model (half the measured one-SKU rate leaves headroom).
    ratePerSecond: int(env, 'WAITING_ROOM_ADMIT_PER_SECOND', 50, 1, 100_000),
    // Shoppers holding a valid pass at once (admitted within the pass lifetime).
    maxActive: int(env, 'WAITING_ROOM_MAX_ACTIVE', 1000, 1, 1_000_000),
    passSeconds: int(env, 'WAITING_ROOM_PASS_SECONDS', 120, 5, 3600),
    // A reservation of a queued SKU answered slower than this is congestion (as a shed is): the controller lowers
    // the admission rate. 0: sheds only. Default: the 200 ms latency goal.
    slowMs: int(env, 'WAITING_ROOM_SLOW_MS', 200, 0, 60_000),
    // The sale start (ms since the epoch; 0: open now). Before it the room takes joins and admits nobody; the
    // tickets joined before it are drawn in random order at the start (src/waiting-room.mjs, "pre-queue").
    startsAt,
    // The sale's end (ms; 0: none). From it the room's SKUs sell directly, no pass asked (queued() is false).
    endsAt,
    // The controller's step in this process (ms); 0: another process or a scheduled function runs it.
    controllerIntervalMs: int(env, 'WAITING_ROOM_CONTROLLER_MS', env.AWS_LAMBDA_FUNCTION_NAME ? 0 : 200, 0, 60_000),
  });
}
