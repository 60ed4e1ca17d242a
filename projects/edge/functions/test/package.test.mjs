import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildZip, runtimeFiles, ROOT, SRC_DIR, VIEWER_PACKAGE_LIMIT_BYTES } from '../scripts/build-zip.mjs';
import { rsa, rawConfig, claims, signJwt, viewerEvent } from './helpers.mjs';

test('src/ is flat: only .mjs files, no subfolders, no node_modules, no config.json', () => {
  for (const name of readdirSync(SRC_DIR)) {
    assert.ok(statSync(join(SRC_DIR, name)).isFile(), `${name} is a folder`);
    assert.match(name, /\.mjs$/, `${name} would not be packaged`);
  }
  assert.ok(runtimeFiles().includes('viewer-request.mjs'));
  assert.ok(runtimeFiles().includes('origin-response.mjs'));
});

test('runtime imports are node: builtins or relative ./*.mjs files that exist (zero dependencies)', () => {
  const files = new Set(runtimeFiles());
  for (const file of files) {
    const source = readFileSync(join(SRC_DIR, file), 'utf8');
    const specifiers = [...source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);
    assert.ok(!/\bimport\s*\(|\brequire\s*\(/.test(source), `${file} uses dynamic import/require`);
    for (const spec of specifiers) {
      if (spec.startsWith('node:')) continue;
      const match = /^\.\/([\w-]+\.mjs)$/.exec(spec);
      assert.ok(match, `${file} imports ${spec}: only node:* and ./x.mjs are allowed`);
      assert.ok(files.has(match[1]), `${file} imports missing ${spec}`);
    }
  }
});

test('package.json: ESM, node >= 20, no dependencies of any kind', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.engines.node, '>=20');
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
    assert.equal(pkg[field], undefined, field);
  }
});

test('the packaged files total far under the 1 MB viewer-trigger limit', () => {
  const total = [...runtimeFiles().map((f) => join(SRC_DIR, f)), join(ROOT, 'config.sample.json')]
    .reduce((sum, path) => sum + statSync(path).size, 0);
  console.log(`packaged files (uncompressed): ${total} bytes`);
  assert.ok(total < VIEWER_PACKAGE_LIMIT_BYTES / 10, `${total} bytes`);
});

test('the built zip is flat, small, and its handler works from the extracted layout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-zip-'));
  try {
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(rawConfig(rsa)));
    const { path, bytes, entries } = buildZip({ configPath, outDir: join(dir, 'dist'), name: 'catalog-edge-test' });
    assert.ok(bytes < VIEWER_PACKAGE_LIMIT_BYTES);
    assert.deepEqual(entries, [...runtimeFiles(), 'config.json']);

    const extract = join(dir, 'unzipped');
    const py = 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print("\\n".join(z.namelist())); z.extractall(sys.argv[2])';
    const run = spawnSync('python3', ['-c', py, path, extract], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n'), entries);

    const { handler } = await import(pathToFileURL(join(extract, 'viewer-request.mjs')).href);
    const result = await handler(viewerEvent({ authorization: `Bearer ${signJwt(claims())}` }));
    assert.deepEqual(result.headers['x-catalog-user'], [{ key: 'X-Catalog-User', value: 'user-123' }]);
    const origin = await import(pathToFileURL(join(extract, 'origin-response.mjs')).href);
    assert.equal(typeof origin.handler, 'function');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the build refuses an invalid config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-zip-'));
  try {
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify({ ...rawConfig(rsa), audience: '' }));
    assert.throws(() => buildZip({ configPath, outDir: dir }), /audience/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
