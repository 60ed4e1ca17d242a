// Two pg pools: the writer (RDS Proxy default endpoint) and the reader (the
// proxy's read-only endpoint). Locally both may point at the same server.
import pg from 'pg';
import { Signer } from '@aws-sdk/rds-signer';

// int8 (count(*), bigserial) would come back as strings; our values fit a JS number.
pg.types.setTypeParser(20, (v) => Number(v));

function passwordFor(config, host) {
  if (!config.iamAuth) return config.password;
  // A fresh token per new connection: tokens live 15 minutes, are signed
  // locally (no network call) and pools reconnect at arbitrary times.
  const signer = new Signer({ hostname: host, port: config.port, username: config.user, region: config.region });
  return () => signer.getAuthToken();
}

/** Connection options shared by the pools and the one-off migration client. */
export function clientOptions(config, host, role) {
  return {
    host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: passwordFor(config, host),
    ssl: config.caBundle ? { ca: config.caBundle, rejectUnauthorized: true } : false,
    max: config.poolMax,
    // Lambda freezes idle environments; short idle timeouts avoid handing out
    // sockets the proxy already closed while we were frozen.
    idleTimeoutMillis: 30_000,
    // Bounded wait for a pooled connection (and for a new one): overload answers 503 quickly instead of queueing.
    connectionTimeoutMillis: config.connectTimeoutMs ?? 5_000,
    // Client-side timeout: a server-side statement_timeout startup parameter
    // would pin RDS Proxy sessions and defeat its multiplexing.
    query_timeout: 10_000,
    application_name: `catalog-api-${role}`,
  };
}

function poolFor(config, host, role, onConnectionLost) {
  const pool = new pg.Pool(clientOptions(config, host, role));
  // A connection can die at any moment (failover, the server killed, a network cut). pg emits 'error' on the
  // Client, and an 'error' event nobody listens to ends the process. The pool listens on its IDLE clients and
  // re-emits on itself (handled here); a client checked out of the pool has no listener of the pool's, so one is
  // attached to every client for its whole life. The query in flight is rejected anyway (the request answers
  // 503), and a client that lost its connection is not queryable, so release() drops it and the pool opens a
  // new one on the next connect().
  const lost = (err) => onConnectionLost(err, role);
  pool.on('error', lost);
  pool.on('connect', (client) => client.on('error', lost));
  return pool;
}

/** onConnectionLost(err, role): told of every connection the pools lose (default: nothing; runtime.mjs logs). */
export function createDatabase(config, { onConnectionLost = () => {} } = {}) {
  const writer = poolFor(config, config.writerHost, 'writer', onConnectionLost);
  // Separate pools even when the hosts match, so a read burst can never take
  // the connections a reservation needs.
  const reader = poolFor(config, config.readerHost, 'reader', onConnectionLost);
  return {
    writer,
    reader,
    async close() {
      await Promise.allSettled([writer.end(), reader.end()]);
    },
  };
}
