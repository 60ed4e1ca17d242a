// Start-up configuration: a missing or malformed variable is named, both by
// the loader and by the real entry points (server process, Lambda handler).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, loadDbConfig } from '../src/config.mjs';
import { clientOptions } from '../src/db.mjs';
import { authEnv } from './identity.mjs';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const BASE = {
  DB_WRITER_HOST: '127.0.0.1', DB_NAME: 'catalog',
  SESSIONS_TABLE: 'catalog-sessions-qa', CACHE_TABLE: 'catalog-cache-qa', AWS_REGION: 'us-east-1',
  AUTH_ISSUER: 'https://issuer.example/', AUTH_AUDIENCE: 'catalog-api', AUTH_PUBLIC_KEY_PEM: authEnv().AUTH_PUBLIC_KEY_PEM,
};
const without = (name) => Object.fromEntries(Object.entries(BASE).filter(([k]) => k !== name));

function expectConfigError(env, variable) {
  assert.throws(() => loadConfig(env), (err) => {
    assert.ok(err instanceof ConfigError, err.message);
    assert.equal(err.variable, variable);
    assert.match(err.message, new RegExp(variable));
    return true;
  });
}

test('every required variable is named when missing', () => {
  for (const name of Object.keys(BASE)) expectConfigError(without(name), name);
});

test('the API connects as the app role unless DB_USER says otherwise', () => {
  assert.equal(loadConfig(BASE).db.user, 'catalog_app');
  assert.equal(loadConfig({ ...BASE, DB_USER: 'catalog_app_qa' }).db.user, 'catalog_app_qa');
});

test('malformed values are named with the problem', () => {
  expectConfigError({ ...BASE, DB_PORT: 'abc' }, 'DB_PORT');
  expectConfigError({ ...BASE, DB_PORT: '70000' }, 'DB_PORT');
  expectConfigError({ ...BASE, DB_POOL_MAX: '0' }, 'DB_POOL_MAX');
  expectConfigError({ ...BASE, DB_IAM_AUTH: 'maybe' }, 'DB_IAM_AUTH');
  expectConfigError({ ...BASE, SESSIONS_TABLE: 'a b' }, 'SESSIONS_TABLE');
  expectConfigError({ ...BASE, LOCAL_CACHE_TTL_MS: '-5' }, 'LOCAL_CACHE_TTL_MS');
  expectConfigError({ ...BASE, LOG_LEVEL: 'LOUD' }, 'LOG_LEVEL');
  expectConfigError({ ...BASE, DB_IAM_AUTH: 'true' }, 'DB_CA_BUNDLE');
  expectConfigError({ ...BASE, DB_CA_BUNDLE: '/nonexistent/bundle.pem' }, 'DB_CA_BUNDLE');
});

test('defaults: reader falls back to the writer, small pool inside Lambda', () => {
  const local = loadConfig(BASE);
  assert.equal(local.db.readerHost, '127.0.0.1');
  assert.equal(local.db.poolMax, 10);
  assert.equal(local.localCacheTtlMs, 1000);
  const lambda = loadConfig({ ...BASE, AWS_LAMBDA_FUNCTION_NAME: 'catalog-api-qa', DB_READER_HOST: 'ro.example' });
  assert.equal(lambda.db.poolMax, 2);
  assert.equal(lambda.db.readerHost, 'ro.example');
  assert.equal(loadConfig({ ...BASE, LOCAL_CACHE_TTL_MS: '0' }).localCacheTtlMs, 0);
});

test('IAM auth: TLS with the CA bundle and a signed token per connection, no password', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'catalog-ca-'));
  const bundle = join(dir, 'bundle.pem');
  writeFileSync(bundle, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
  try {
    const config = loadDbConfig({ ...BASE, DB_IAM_AUTH: 'true', DB_CA_BUNDLE: bundle, DB_PASSWORD: 'ignored', DB_WRITER_HOST: 'proxy.example.com' });
    const options = clientOptions(config, config.writerHost, 'writer');
    assert.equal(options.ssl.rejectUnauthorized, true);
    assert.match(options.ssl.ca, /BEGIN CERTIFICATE/);
    assert.equal(typeof options.password, 'function');
    const token = await options.password();
    assert.match(token, /^proxy\.example\.com:5432\/\?Action=connect&DBUser=catalog_app&/);
    assert.match(token, /X-Amz-Signature=/);
  } finally {
    process.env = saved;
  }
});

test('the local server refuses to start and names the missing variable', () => {
  const env = { PATH: process.env.PATH, ...without('DB_NAME') };
  const run = spawnSync(process.execPath, ['src/server.mjs'], { cwd: PKG, env, encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /Configuration error: DB_NAME is required/);
});

test('the Lambda handler fails its first invocation naming the missing variable', () => {
  const script = `
    const { handler } = await import('./src/lambda.mjs');
    try { await handler({ httpMethod: 'GET', path: '/health', headers: {}, requestContext: { elb: { targetGroupArn: 'arn' } } }, {}); console.log('NO ERROR'); }
    catch (err) { console.log('ERR ' + err.message); }`;
  const env = { PATH: process.env.PATH, ...without('CACHE_TABLE') };
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: PKG, env, encoding: 'utf8', timeout: 20_000 });
  assert.match(run.stdout, /ERR Configuration error: CACHE_TABLE is required/);
  assert.match(run.stderr, /"event":"startup.failed"/);
});
