// Local HTTP server (npm start): the same router as Lambda, on node:http.
import { pathToFileURL } from 'node:url';
import { createAdaptorServer } from '@hono/node-server';
import { ConfigError, loadConfig } from './config.mjs';
import { createRuntime } from './runtime.mjs';

// Node's default listen backlog (511) drops connection attempts when a burst of clients connects while the
// event loop is busy (bench/: 1,000 flash-sale clients at once); they retry after 1 s, 3 s, 7 s. The kernel
// caps the value at net.core.somaxconn.
const LISTEN_BACKLOG = 4096;

/** runtimeOptions: passed to createRuntime (tests send EMF lines to a sink). */
export async function startServer({ env = process.env, port, hostname, runtimeOptions } = {}) {
  const config = loadConfig(env);
  const runtime = createRuntime(config, runtimeOptions);
  try {
    await runtime.waitingRoom?.ready(); // the HMAC key (WAITING_ROOM_SECRET_ARN: from Secrets Manager) before serving
  } catch (err) {
    await runtime.close();
    throw err;
  }
  const listenPort = port ?? Number(env.PORT ?? 3000);
  const host = hostname ?? env.HOST ?? '127.0.0.1';
  return new Promise((resolve) => {
    // A client that stalls its body (or headers) past HTTP_REQUEST_TIMEOUT_MS is cut off (408) by node:http, which
    // checks its connections every quarter of the timeout (default every 30 s, far too late for a short one).
    const requestTimeout = config.httpRequestTimeoutMs;
    const serverOptions = {
      requestTimeout,
      headersTimeout: Math.min(requestTimeout, 60_000),
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(requestTimeout / 4))),
    };
    const server = createAdaptorServer({ fetch: runtime.app.fetch, hostname: host, serverOptions });
    server.listen({ port: listenPort, host, backlog: LISTEN_BACKLOG }, () => {
      const info = server.address();
      resolve({
        runtime,
        server,
        url: `http://${host}:${info.port}`,
        async close() {
          await new Promise((done) => server.close(() => done()));
          await runtime.close();
        },
      });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { url, close, runtime } = await startServer();
    runtime.logger.info(`catalog-api listening on ${url}`, { event: 'server.started', url });
    const stop = async () => {
      await close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
