// Lambda entry point (the image CMD is "src/lambda.handler"). One function
// answers ALB events (multi-value headers or not), API Gateway REST proxy
// events, each in its own response format (hono/aws-lambda detects the source),
// and task events such as {"catalogTask":"migrate"}.
import { STATUS_CODES } from 'node:http';
import { handle } from 'hono/aws-lambda';
import { loadConfig } from './config.mjs';
import { createRuntime } from './runtime.mjs';
import { runOwnerTask, runTask } from './tasks.mjs';

let runtime; // one per execution environment
let httpHandler;

function getRuntime() {
  if (!runtime) {
    try {
      runtime = createRuntime(loadConfig());
    } catch (err) {
      // A plain JSON line so the start-up failure names the variable in the logs.
      process.stderr.write(`${JSON.stringify({ level: 'ERROR', message: err.message, event: 'startup.failed' })}\n`);
      throw err;
    }
    httpHandler = handle(runtime.app);
  }
  return runtime;
}

export const handler = async (event, context) => {
  if (event && typeof event === 'object' && 'catalogTask' in event) {
    return runTask(event, async () => getRuntime());
  }
  if (!event?.httpMethod && !event?.requestContext?.http) {
    // Anything else (a warmer, a mistyped task) must fail loudly, not as a 404 on path "undefined".
    throw new Error('unsupported event: expected an ALB or API Gateway proxy event, or {"catalogTask": "migrate" | "seed" | "release-expired"}');
  }
  const rt = getRuntime();
  if (rt.waitingRoom) {
    try {
      await rt.waitingRoom.ready(); // the HMAC key from Secrets Manager, at cold start
    } catch (err) {
      process.stderr.write(`${JSON.stringify({ level: 'ERROR', message: err.message, event: 'startup.failed' })}\n`);
      throw err;
    }
  }
  const result = await httpHandler(event, context);
  // The ALB documents statusDescription ("200 OK") as part of the response;
  // hono's adapter leaves it out.
  if (event?.requestContext?.elb) {
    result.statusDescription = `${result.statusCode} ${STATUS_CODES[result.statusCode] ?? 'Unknown'}`;
  }
  return result;
};

/**
 * The migrate function's handler (the App layer's catalog-api-migrate-<suffix>): {"catalogTask":"migrate"} (or no
 * catalogTask) applies the migrations, {"catalogTask":"seed",...} writes the demo catalog as the owner role.
 */
export const migrateHandler = async (event) => runOwnerTask(event, process.env);
