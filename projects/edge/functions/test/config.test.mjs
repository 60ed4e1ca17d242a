import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseConfig, loadConfig } from '../src/config.mjs';
import { rsa, ec, rawConfig, claims, signJwt, viewerEvent } from './helpers.mjs';

const SRC = new URL('../src/', import.meta.url);

test('RSA 2048 maps to RS256, EC P-256 to ES256, defaults applied', () => {
  const { roleClaim, clockSkewSeconds, ...minimal } = rawConfig(rsa);
  const r = parseConfig(minimal);
  assert.equal(r.ok, true);
  assert.deepEqual(r.config.algs, ['RS256']);
  assert.equal(r.config.roleClaim, 'role');
  assert.equal(r.config.clockSkewSeconds, 30);
  assert.deepEqual(parseConfig(rawConfig(ec)).config.algs, ['ES256']);
});

test('jwksUrl instead of a static key: https only, RS256 and ES256 allowed, the key set is lazy', () => {
  const { publicKeyPem, ...rest } = rawConfig(rsa);
  const r = parseConfig({ ...rest, jwksUrl: 'https://auth.catalog.example/.well-known/jwks.json' });
  assert.equal(r.ok, true, r.error);
  assert.deepEqual([...r.config.algs], ['RS256', 'ES256']);
  assert.equal(typeof r.config.key, 'function', 'a jose remote key set (fetched on first use)');
  assert.equal(r.config.jwksUrl, 'https://auth.catalog.example/.well-known/jwks.json');
  // Plain http only for a loopback test server, and only when the caller asks for it.
  assert.match(parseConfig({ ...rest, jwksUrl: 'http://127.0.0.1:1/jwks' }).error, /https/);
  assert.equal(parseConfig({ ...rest, jwksUrl: 'http://127.0.0.1:1/jwks' }, { allowInsecureLoopback: true }).ok, true);
  assert.match(parseConfig({ ...rest, jwksUrl: 'http://auth.example/jwks' }, { allowInsecureLoopback: true }).error, /https/);
  // The unused source may be written as null by a generator.
  assert.equal(parseConfig({ ...rest, publicKeyPem: null, jwksUrl: 'https://auth.example/jwks' }).ok, true);
  assert.equal(parseConfig({ ...rawConfig(rsa), jwksUrl: null }).ok, true);
  assert.match(parseConfig({ ...rest, publicKeyPem: null, jwksUrl: null }).error, /exactly one/);
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
    [{ ...rawConfig(rsa), jwksUrl: 'https://auth.example/jwks' }, /exactly one of publicKeyPem or jwksUrl/],
    [{ ...rawConfig(rsa), publicKeyPem: undefined }, /exactly one of publicKeyPem or jwksUrl/],
    [{ ...rawConfig(rsa), publicKeyPem: undefined, jwksUrl: 'not a url' }, /absolute URL/],
    [{ ...rawConfig(rsa), publicKeyPem: undefined, jwksUrl: 'ftp://auth.example/jwks' }, /https/],
    [{ ...rawConfig(rsa), publicKeyPem: undefined, jwksUrl: 'https://u:p@auth.example/jwks' }, /credentials/],
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

/**
 * Lays out src/*.mjs and jwt-rules.json (+ an optional config.json) flat in a temp dir, as in the zip, with jose
 * reachable as node_modules/jose beside them, and imports it.
 */
async function deployedHandler(configText) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-fn-'));
  // The token rules are a link in src/ and a plain file in the zip.
  for (const name of readdirSync(SRC).filter((n) => n.endsWith('.mjs') || n === 'jwt-rules.json')) {
    copyFileSync(new URL(name, SRC), join(dir, name));
  }
  symlinkSync(fileURLToPath(new URL('../node_modules', import.meta.url)), join(dir, 'node_modules'), 'dir');
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
    assert.equal(result.method, 'POST', 'a valid write is forwarded');
    const denied = await deployed.handler(viewerEvent({ authorization: `Bearer ${signJwt(claims({ aud: 'x' }))}` }));
    assert.equal(denied.status, '401');
  } finally {
    deployed.cleanup();
  }
});

test('the repository handler (no config.json in src/) fails closed for writes', async () => {
  const { value: module } = await quietly(() => import('../src/viewer-request.mjs'));
  const result = await quietly(() => module.handler(viewerEvent({ authorization: `Bearer ${signJwt(claims())}` })));
  assert.equal(JSON.parse(result.value.body).reason, 'auth_not_configured');
});
