import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ROUTES } from '../contract.mjs';
import { route } from './route.mjs';

const CHECK_TIMEOUT_MS = 2000; // below the ALB health check timeout budget

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function healthRoutes(app, { db, doc, config }) {
  // Liveness: no I/O, so a slow database never gets healthy instances replaced.
  route(app, ROUTES.health, (c) => c.json({ status: 'ok' }));

  // Readiness: every dependency answers. GetItem (data plane) rather than
  // DescribeTable: it also proves the role may read the table.
  route(app, ROUTES.ready, async (c) => {
    const checks = {
      writer: () => db.writer.query('SELECT 1'),
      reader: () => db.reader.query('SELECT 1'),
      sessionsTable: () => doc.send(new GetCommand({ TableName: config.sessionsTable, Key: { sessionId: '__health__' } })),
      cacheTable: () => doc.send(new GetCommand({ TableName: config.cacheTable, Key: { cacheKey: '__health__' } })),
    };
    const names = Object.keys(checks);
    const results = await Promise.allSettled(names.map((n) => withTimeout(checks[n](), CHECK_TIMEOUT_MS)));
    const report = {};
    names.forEach((n, i) => {
      report[n] = results[i].status === 'fulfilled' ? 'ok' : `error: ${results[i].reason?.message ?? results[i].reason}`;
    });
    const ready = results.every((r) => r.status === 'fulfilled');
    c.header('cache-control', 'no-store');
    return c.json({ status: ready ? 'ready' : 'not_ready', checks: report }, ready ? 200 : 503);
  });
}
