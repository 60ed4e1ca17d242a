import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseConfig, loadConfig } from '../src/config.mjs';
import { rsa, ec, rawConfig, claims, signJwt, viewerEvent } from './helpers.mjs';

const SRC = new URL('../src/', import.meta.url);

test('RSA 2048 maps to RS256, EC P-256 to ES256, defaults applied', () => {
  const { roleClaim, clockSkewSeconds, ...minimal } = rawConfig(rsa);
  const r = parseConfig(minimal);
  assert.equal(r.ok, true);
  assert.equal(r.config.alg, 'RS256');
  assert.equal(r.config.roleClaim, 'role');
  assert.equal(r.config.clockSkewSeconds, 30);
  assert.equal(parseConfig(rawConfig(ec)).config.alg, 'ES256');
});

test('invalid configs are refused with a reason', () => {
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const ed = generateKeyPairSync('ed25519');
  const pkcs1 = rsa.publicKey.export({ type: 'pkcs1', format: 'pem' });
  const bad = [
    [null, /object/],
    [[], /object/],
    [{ ...rawConfig(rsa), issuer: '' }, /issuer/],
    [{ ...rawConfig(rsa), audience: 42 }, /audience/],
    [{ ...rawConfig(rsa), roleClaim: '' }, /roleClaim/],
    [{ ...rawConfig(rsa), clockSkewSeconds: -1 }, /clockSkewSeconds/],
    [{ ...rawConfig(rsa), clockSkewSeconds: 1.5 }, /clockSkewSeconds/],
    [{ ...rawConfig(rsa), clockSkewSeconds: 301 }, /clockSkewSeconds/],
    [{ ...rawConfig(rsa), publicKeyPem: pkcs1 }, /SPKI/],
    [{ ...rawConfig(rsa), publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }, /unusable/],
    [rawConfig(rsa1024), /2048/],
    [rawConfig(p384), /P-256/],
    [rawConfig(ed), /not RSA or EC/],
  ];
  for (const [raw, pattern] of bad) {
    const result = parseConfig(raw);
    assert.equal(result.ok, false, JSON.stringify(raw)?.slice(0, 80));
    assert.match(result.error, pattern);
  }
});

test('loadConfig never throws: missing file and bad JSON are results', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cfg-'));
  try {
    assert.deepEqual(loadConfig(pathToFileURL(join(dir, 'config.json'))), { ok: false, error: 'config.json not found' });
    writeFileSync(join(dir, 'config.json'), '{"issuer": ');
    assert.deepEqual(loadConfig(pathToFileURL(join(dir, 'config.json'))), { ok: false, error: 'config.json is not valid JSON' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Lays out src/*.mjs (+ an optional config.json) flat in a temp dir, as in the zip, and imports it. */
async function deployedHandler(configText) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-fn-'));
  for (const name of readdirSync(SRC).filter((n) => n.endsWith('.mjs'))) cpSync(new URL(name, SRC), join(dir, name));
  if (configText !== undefined) writeFileSync(join(dir, 'config.json'), configText);
  const module = await import(pathToFileURL(join(dir, 'viewer-request.mjs')).href);
  return { handler: module.handler, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function quietly(fn) {
  const original = console.error;
  const lines = [];
  console.error = (line) => lines.push(line);
  try {
    return { value: await fn(), lines };
  } finally {
    console.error = original;
  }
}

for (const [label, configText] of [['missing', undefined], ['not JSON', 'nope'], ['invalid', '{"issuer": "x"}']]) {
  test(`config.json ${label}: writes fail closed, reads pass, one log line`, async () => {
    const { value: deployed, lines } = await quietly(() => deployedHandler(configText));
    try {
      assert.equal(lines.length, 1);
      assert.match(lines[0], /writes are refused \(auth_not_configured\)/);
      const write = await quietly(() => deployed.handler(viewerEvent({ authorization: `Bearer ${signJwt(claims())}` })));
      assert.equal(write.value.status, '401');
      assert.deepEqual(JSON.parse(write.value.body), { error: 'unauthorized', reason: 'auth_not_configured' });
      const read = await deployed.handler(viewerEvent({ method: 'GET' }));
      assert.equal(read.method, 'GET');
    } finally {
      deployed.cleanup();
    }
  });
}

test('the handler reads config.json beside itself (deployed layout)', async () => {
  const deployed = await deployedHandler(JSON.stringify(rawConfig(rsa)));
  try {
    const result = await deployed.handler(viewerEvent({ authorization: `Bearer ${signJwt(claims())}` }));
    assert.deepEqual(result.headers['x-catalog-user'], [{ key: 'X-Catalog-User', value: 'user-123' }]);
  } finally {
    deployed.cleanup();
  }
});

test('the repository handler (no config.json in src/) fails closed for writes', async () => {
  const { value: module } = await quietly(() => import('../src/viewer-request.mjs'));
  const result = await quietly(() => module.handler(viewerEvent({ authorization: `Bearer ${signJwt(claims())}` })));
  assert.equal(JSON.parse(result.value.body).reason, 'auth_not_configured');
});
