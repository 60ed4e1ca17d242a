#!/usr/bin/env node
// Builds the two Lambda@Edge packages, in the layout the handlers expect:
//   dist/<name>-viewer-request.zip   src/*.mjs, node_modules/jose (runtime files only), config.json
//   dist/<name>-origin-response.zip  src/*.mjs, node_modules/jose, error-pages/{403,404,5xx}.html
// Handlers are `viewer-request.handler` / `origin-response.handler` at the zip root; `import 'jose'`
// resolves node_modules/jose beside them. The Pulumi edge layer must ship the same entries
// (packageEntries() is the list); this script is for local checks and the tests. Python's zipfile
// writes the container (no zip dependency in Node), with fixed timestamps and modes so the same
// inputs give the same bytes. Needs `npm ci` first (jose comes from node_modules).
//
//   node scripts/build-zip.mjs [--config config.sample.json] [--pages ../site] [--out dist] [--name catalog-edge]
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseConfig } from '../src/config.mjs';
import { ERROR_PAGES_DIR, ERROR_PAGE_FILES } from '../src/error-pages.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SRC_DIR = join(ROOT, 'src');
export const JOSE_DIR = join(ROOT, 'node_modules', 'jose');
// The site's static pages (projects/edge/site). The deployed pages must be the ones the bucket
// serves, with /assets/ references rewritten to the hashed keys (see the README).
export const SITE_DIR = resolve(ROOT, '..', 'site');
// Lambda@Edge package limits: viewer triggers 1 MB, origin triggers 50 MB.
export const VIEWER_PACKAGE_LIMIT_BYTES = 1_048_576;
export const ORIGIN_PACKAGE_LIMIT_BYTES = 52_428_800;
export const ROLES = Object.freeze({
  viewerRequest: { file: 'viewer-request', limit: VIEWER_PACKAGE_LIMIT_BYTES },
  originResponse: { file: 'origin-response', limit: ORIGIN_PACKAGE_LIMIT_BYTES },
});

// The token rules jwt.mjs reads (a link to the API's containers/catalog-api/src/jwt-rules.json).
export const JWT_RULES_FILE = 'jwt-rules.json';

/** The runtime files, sorted: src/*.mjs and the token rules (config.json is generated, never kept in src/). */
export function runtimeFiles() {
  return readdirSync(SRC_DIR).filter((name) => name.endsWith('.mjs') || name === JWT_RULES_FILE).sort();
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : [path];
  });
}

/**
 * jose's runtime files: package.json (its "exports" map points `import 'jose'` at
 * dist/webapi/index.js), the licence, and every .js under dist/webapi. Types and docs stay out.
 * @returns {Array<[string, string]>} [zip path, source path], sorted
 */
export function joseFiles(joseDir = JOSE_DIR) {
  const pkg = join(joseDir, 'package.json');
  try {
    statSync(pkg);
  } catch {
    throw new Error(`${pkg} is missing: run npm ci in projects/edge/functions first`);
  }
  const files = [pkg, join(joseDir, 'LICENSE.md'), ...walk(join(joseDir, 'dist', 'webapi')).filter((p) => p.endsWith('.js'))];
  return files
    .map((path) => [`node_modules/jose/${relative(joseDir, path).split(sep).join('/')}`, path])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Every entry of one role's package except config.json: [zip path, source path]. */
export function packageEntries(role, { pagesDir = SITE_DIR, joseDir = JOSE_DIR } = {}) {
  if (!ROLES[role]) throw new Error(`unknown role ${role}`);
  const entries = runtimeFiles().map((file) => [file, join(SRC_DIR, file)]);
  entries.push(...joseFiles(joseDir));
  if (role === 'originResponse') {
    for (const page of ERROR_PAGE_FILES) entries.push([`${ERROR_PAGES_DIR}/${page}`, join(pagesDir, page)]);
  }
  return entries;
}

const PY_ZIP = `
import json, sys, zipfile
spec = json.load(sys.stdin)
with zipfile.ZipFile(spec["zip"], "w", zipfile.ZIP_DEFLATED) as zf:
    for name, text in spec["entries"]:
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, text)
`;

function writeZip(path, entries) {
  const run = spawnSync('python3', ['-c', PY_ZIP], { input: JSON.stringify({ zip: path, entries }), encoding: 'utf8' });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`python3 zipfile failed: ${run.stderr}`);
  return statSync(path).size;
}

/**
 * Validates the config, writes both zips. Throws on failure (invalid config, missing jose or
 * page, a package over its trigger's limit).
 * @returns {{viewerRequest: {path, bytes, entries}, originResponse: {path, bytes, entries}}}
 */
export function buildZips({
  configPath = join(ROOT, 'config.sample.json'),
  pagesDir = SITE_DIR,
  outDir = join(ROOT, 'dist'),
  name = 'catalog-edge',
} = {}) {
  const configText = readFileSync(configPath, 'utf8');
  const parsed = parseConfig(JSON.parse(configText));
  if (!parsed.ok) throw new Error(`${configPath}: ${parsed.error}`);
  mkdirSync(outDir, { recursive: true });

  const result = {};
  for (const [role, { file, limit }] of Object.entries(ROLES)) {
    const entries = packageEntries(role, { pagesDir }).map(([entry, path]) => [entry, readFileSync(path, 'utf8')]);
    // Only the auth function carries the config: rotating the JWT key republishes only it.
    if (role === 'viewerRequest') entries.push(['config.json', configText]);
    const path = join(outDir, `${name}-${file}.zip`);
    const bytes = writeZip(path, entries);
    if (bytes >= limit) throw new Error(`${path} is ${bytes} bytes, over the ${limit}-byte ${file} limit`);
    result[role] = { path, bytes, entries: entries.map(([entry]) => entry) };
  }
  return result;
}

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--config') options.configPath = resolve(value);
    else if (flag === '--pages') options.pagesDir = resolve(value);
    else if (flag === '--out') options.outDir = resolve(value);
    else if (flag === '--name') options.name = value;
    else throw new Error(`unknown option ${flag}`);
  }
  return options;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    for (const { path, bytes, entries } of Object.values(buildZips(parseArgs(process.argv.slice(2))))) {
      console.log(`${path}: ${bytes} bytes, ${entries.length} entries`);
    }
  } catch (err) {
    console.error(`build-zip: ${err.message}`);
    process.exit(1);
  }
}
