// Wires the dependencies once per process (per Lambda execution environment):
// pools, clients and caches outlive a single request.
import { createApp } from './app.mjs';
import { DynamoCache, LocalCache, ProductCache } from './cache.mjs';
import { CatalogStore } from './catalog-store.mjs';
import { createDatabase } from './db.mjs';
import { createDynamo } from './dynamo.mjs';
import { F, LogLimiter, Metrics, RequestLog, createLogger } from './observability.mjs';
import { SessionStore } from './sessions.mjs';
import { WaitingRoom } from './waiting-room.mjs';
import { controllerStep } from './waiting-room-controller.mjs';

/** options.metricsWrite: where EMF lines go (default stdout, which CloudWatch Logs ingests). */
export function createRuntime(config, options = {}) {
  const logger = createLogger(config);
  const metrics = new Metrics({ namespace: config.metricsNamespace, service: config.serviceName, write: options.metricsWrite });
  const warnings = new LogLimiter(logger, { intervalMs: config.warnIntervalMs });
  const db = createDatabase(config.db, {
    onConnectionLost: (error, pool) => warnings.warn('database connection lost', { [F.event]: 'db.connection_lost', pool, error }),
  });
  const doc = createDynamo(config);
  const store = new CatalogStore({
    ...db, preparedStatements: config.db.preparedStatements,
    lockTimeoutMs: config.db.lockTimeoutMs, statementTimeoutMs: config.db.statementTimeoutMs,
    poolMaxWaiting: config.db.poolMaxWaiting, queueWaitBudgetMs: config.db.queueWaitBudgetMs,
    queueTargetMs: config.db.queueTargetMs,
  });
  const cache = new ProductCache({
    local: new LocalCache({ ttlMs: config.localCacheTtlMs, maxEntries: config.localCacheMaxEntries }),
    dynamo: new DynamoCache({ doc, table: config.cacheTable, ttlSeconds: config.cacheTtlSeconds, logger: warnings, timeoutMs: config.dynamoTimeoutMs }),
    logger: warnings,
    invalidateIntervalMs: config.cacheInvalidateIntervalMs,
  });
  const sessions = new SessionStore({ doc, table: config.sessionsTable, ttlSeconds: config.sessionTtlSeconds });
  const requestLog = new RequestLog({ logger, metrics });
  const waitingRoom = config.waitingRoom ? new WaitingRoom({ config: config.waitingRoom, doc }) : undefined;
  const stopController = waitingRoom && config.waitingRoom.controllerIntervalMs > 0
    ? waitingRoom.startController(config.waitingRoom.controllerIntervalMs, () => controllerStep(waitingRoom, metrics), (error) => warnings.warn('waiting room controller failed', { [F.event]: 'waitingroom.controller_failed', error }))
    : () => {};
  const deps = { config, logger, metrics, requestLog, db, doc, store, cache, sessions, waitingRoom };
  const app = createApp(deps);
  return {
    ...deps,
    app,
    async close() {
      stopController();
      await db.close();
      doc.destroy();
    },
  };
}
