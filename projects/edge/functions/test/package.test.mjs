import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  buildZips, joseFiles, JWT_RULES_FILE, packageEntries, runtimeFiles, ROOT, SITE_DIR, SRC_DIR, VIEWER_PACKAGE_LIMIT_BYTES,
} from '../scripts/build-zip.mjs';
import { ERROR_PAGE_FILES } from '../src/error-pages.mjs';
import { rsa, rawConfig, claims, signJwt, viewerEvent, fixture } from './helpers.mjs';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
// The one runtime dependency, pinned exactly: what is tested is what is shipped.
const RUNTIME_DEPENDENCIES = { jose: '6.2.18' };

test('src/ is flat: only .mjs files and the token rules, no subfolders, no node_modules, no config.json', () => {
  for (const name of readdirSync(SRC_DIR)) {
    assert.ok(statSync(join(SRC_DIR, name)).isFile(), `${name} is a folder`);
    assert.match(name, /\.mjs$|^jwt-rules\.json$/, `${name} would not be packaged`);
  }
  // The token rules are the API's own file (one table for both checkers), packaged as a plain file.
  assert.equal(realpathSync(join(SRC_DIR, JWT_RULES_FILE)), realpathSync(join(ROOT, '..', '..', '..', 'containers', 'catalog-api', 'src', 'jwt-rules.json')));
  assert.ok(runtimeFiles().includes(JWT_RULES_FILE));
  assert.ok(runtimeFiles().includes('viewer-request.mjs'));
  assert.ok(runtimeFiles().includes('origin-response.mjs'));
});

test('runtime imports are node: builtins, jose, or relative ./*.mjs files that exist', () => {
  const files = new Set(runtimeFiles());
  for (const file of files) {
    const source = readFileSync(join(SRC_DIR, file), 'utf8');
    const specifiers = [...source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);
    assert.ok(!/\bimport\s*\(|\brequire\s*\(/.test(source), `${file} uses dynamic import/require`);
    for (const spec of specifiers) {
      if (spec.startsWith('node:') || Object.hasOwn(RUNTIME_DEPENDENCIES, spec)) continue;
      const match = /^\.\/([\w-]+\.mjs)$/.exec(spec);
      assert.ok(match, `${file} imports ${spec}: only node:*, jose and ./x.mjs are allowed`);
      assert.ok(files.has(match[1]), `${file} imports missing ${spec}`);
    }
  }
});

test('no file references the repository shared folder or a machine path', () => {
  const files = [
    ...runtimeFiles().map((f) => join(SRC_DIR, f)),
    ...readdirSync(join(ROOT, 'test')).filter((f) => f.endsWith('.mjs')).map((f) => join(ROOT, 'test', f)),
    join(ROOT, 'scripts', 'build-zip.mjs'), join(ROOT, 'README.md'), join(ROOT, 'package.json'),
  ];
  const shared = ['..', 'shared'].join('/'); // spelled apart so this file does not match itself
  for (const path of files) {
    const text = readFileSync(path, 'utf8');
    assert.ok(!text.includes(shared), `${path} references ${shared}`);
    assert.ok(!/\/work\/|\/home\/|\/Users\//.test(text), `${path} holds a machine path`);
  }
});

test('package.json: ESM, Node.js 24 (the nodejs24.x edge runtime), exactly the pinned runtime dependency', () => {
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.engines.node, '24.x');
  assert.deepEqual(pkg.dependencies, RUNTIME_DEPENDENCIES);
  for (const field of ['devDependencies', 'optionalDependencies', 'peerDependencies']) {
    assert.equal(pkg[field], undefined, field);
  }
  // npm ci refuses another Node.js major (.npmrc engine-strict), so the suite runs where it ships.
  assert.match(readFileSync(join(ROOT, '.npmrc'), 'utf8'), /^engine-strict=true$/m);
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  assert.equal(lock.packages['node_modules/jose'].version, RUNTIME_DEPENDENCIES.jose);
});

test('the suite runs on the runtime major (nodejs24.x)', () => {
  const major = Number(process.versions.node.split('.')[0]);
  console.log(`node ${process.versions.node}`);
  assert.equal(major, Number(pkg.engines.node.split('.')[0]), `tests must run on Node.js ${pkg.engines.node}`);
});

test('handlers are async functions (nodejs24.x has no callback-style handlers)', async () => {
  const viewer = await import('../src/viewer-request.mjs');
  const origin = await import('../src/origin-response.mjs');
  for (const handler of [viewer.handler, origin.handler]) {
    assert.equal(handler.constructor.name, 'AsyncFunction');
    assert.ok(handler.length <= 1, 'no callback parameter');
  }
});

test('jose is shipped as its runtime files only (package.json, licence, dist/webapi/*.js)', () => {
  const entries = joseFiles().map(([entry]) => entry);
  assert.ok(entries.includes('node_modules/jose/package.json'));
  assert.ok(entries.includes('node_modules/jose/LICENSE.md'));
  assert.ok(entries.includes('node_modules/jose/dist/webapi/index.js'));
  for (const entry of entries.slice(2)) assert.match(entry, /^node_modules\/jose\/(?:dist\/webapi\/.+\.js|package\.json|LICENSE\.md)$/);
  const origin = packageEntries('originResponse').map(([entry]) => entry);
  for (const page of ERROR_PAGE_FILES) assert.ok(origin.includes(`error-pages/${page}`), page);
  assert.ok(!packageEntries('viewerRequest').some(([entry]) => entry.startsWith('error-pages/')));
});

test('both zips build, fit their limits, and their handlers work from the extracted layout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-zip-'));
  try {
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(rawConfig(rsa)));
    const built = buildZips({ configPath, outDir: join(dir, 'dist'), name: 'catalog-edge-test' });
    const { viewerRequest, originResponse } = built;
    console.log(`viewer-request zip: ${viewerRequest.bytes} bytes; origin-response zip: ${originResponse.bytes} bytes`);
    assert.ok(viewerRequest.bytes < VIEWER_PACKAGE_LIMIT_BYTES, 'the viewer trigger allows under 1 MB');
    assert.ok(viewerRequest.bytes < VIEWER_PACKAGE_LIMIT_BYTES / 4, 'and jose leaves a wide margin');
    assert.ok(viewerRequest.entries.includes('config.json'));
    assert.ok(!originResponse.entries.includes('config.json'), 'key rotation republishes only viewer-request');

    const extract = (zip, name) => {
      const to = join(dir, name);
      const py = 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print("\\n".join(z.namelist())); z.extractall(sys.argv[2])';
      const run = spawnSync('python3', ['-c', py, zip.path, to], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(run.stdout.trim().split('\n'), zip.entries);
      return to;
    };

    const viewerDir = extract(viewerRequest, 'viewer');
    const { handler } = await import(pathToFileURL(join(viewerDir, 'viewer-request.mjs')).href);
    const allowed = await handler(viewerEvent({ authorization: `Bearer ${signJwt(claims())}` }));
    assert.equal(allowed.method, 'POST', 'jose resolved from the zip, token verified');
    assert.equal((await handler(viewerEvent({ authorization: 'Bearer a.b.c' }))).status, '401');

    const originDir = extract(originResponse, 'origin');
    const origin = await import(pathToFileURL(join(originDir, 'origin-response.mjs')).href);
    const event = fixture('origin-response');
    Object.assign(event.Records[0].cf.response, { status: '404', statusDescription: 'Not Found' });
    const page = await origin.handler(event);
    assert.equal(page.body, readFileSync(join(SITE_DIR, '404.html'), 'utf8'), 'the bundled site page, not a fallback');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the build refuses an invalid config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-zip-'));
  try {
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify({ ...rawConfig(rsa), audience: '' }));
    assert.throws(() => buildZips({ configPath, outDir: dir }), /audience/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
