#!/usr/bin/env node
// Builds dist/<name>.zip: every src/*.mjs flat at the zip root plus config.json, which is the
// layout the handlers expect (`viewer-request.handler`, `origin-response.handler`, config.json
// read beside them). The Pulumi edge layer builds its own archive the same way; this script is
// for local checks and the tests. Python's zipfile writes the container (no zip dependency in
// Node), with fixed timestamps and modes so the same inputs give the same bytes.
//
//   node scripts/build-zip.mjs [--config config.sample.json] [--out dist] [--name catalog-edge]
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseConfig } from '../src/config.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SRC_DIR = join(ROOT, 'src');
// Viewer-trigger package limit (the stricter of the two triggers sharing this code).
export const VIEWER_PACKAGE_LIMIT_BYTES = 1_048_576;

/** The runtime files, sorted: src/*.mjs only (config.json is generated, never kept in src/). */
export function runtimeFiles() {
  return readdirSync(SRC_DIR).filter((name) => name.endsWith('.mjs')).sort();
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

/** Validates the config, writes the zip, returns {path, bytes, entries}. Throws on failure. */
export function buildZip({ configPath = join(ROOT, 'config.sample.json'), outDir = join(ROOT, 'dist'), name = 'catalog-edge' } = {}) {
  const configText = readFileSync(configPath, 'utf8');
  const parsed = parseConfig(JSON.parse(configText));
  if (!parsed.ok) throw new Error(`${configPath}: ${parsed.error}`);

  const entries = runtimeFiles().map((file) => [file, readFileSync(join(SRC_DIR, file), 'utf8')]);
  entries.push(['config.json', configText]);
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `${name}.zip`);
  const run = spawnSync('python3', ['-c', PY_ZIP], { input: JSON.stringify({ zip: path, entries }), encoding: 'utf8' });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`python3 zipfile failed: ${run.stderr}`);

  const bytes = statSync(path).size;
  if (bytes >= VIEWER_PACKAGE_LIMIT_BYTES) throw new Error(`${path} is ${bytes} bytes, over the 1 MB viewer-trigger limit`);
  return { path, bytes, entries: entries.map(([entry]) => entry) };
}

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--config') options.configPath = resolve(value);
    else if (flag === '--out') options.outDir = resolve(value);
    else if (flag === '--name') options.name = value;
    else throw new Error(`unknown option ${flag}`);
  }
  return options;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const { path, bytes, entries } = buildZip(parseArgs(process.argv.slice(2)));
    console.log(`${path}: ${bytes} bytes (${entries.join(', ')})`);
  } catch (err) {
    console.error(`build-zip: ${err.message}`);
    process.exit(1);
  }
}
