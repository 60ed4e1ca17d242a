// Local HTTP server (npm start): the same router as Lambda, on node:http.
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { ConfigError, loadConfig } from './config.mjs';
import { createRuntime } from './runtime.mjs';

/** runtimeOptions: passed to createRuntime (tests send EMF lines to a sink). */
export function startServer({ env = process.env, port, hostname, runtimeOptions } = {}) {
  const config = loadConfig(env);
  const runtime = createRuntime(config, runtimeOptions);
  const listenPort = port ?? Number(env.PORT ?? 3000);
  const host = hostname ?? env.HOST ?? '127.0.0.1';
  return new Promise((resolve) => {
    const server = serve({ fetch: runtime.app.fetch, port: listenPort, hostname: host }, (info) => {
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
