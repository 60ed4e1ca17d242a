// Local stand-ins for the AWS pieces, shared by the tests and scripts/dev.mjs:
// a moto server for DynamoDB, the tables built from the shared key-schema
// contract, and a PostgreSQL database of our own on the local server (which
// scripts/local-postgres.mjs finds or starts).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand, waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import pg from 'pg';
import { clientOptions, configuredPostgres, freePort } from './local-postgres.mjs';

export { freePort };

// ../../projects/data/dynamodb-tables.json relative to the package root.
export const TABLES_CONTRACT = new URL('../../../projects/data/dynamodb-tables.json', import.meta.url);
const REPO_VENV_PYTHON = fileURLToPath(new URL('../../../.venv/bin/python', import.meta.url));

export function motoPython() {
  if (process.env.MOTO_PYTHON) return process.env.MOTO_PYTHON;
  // The repo's venv has moto; CI activates it, a developer's shell may not.
  return existsSync(REPO_VENV_PYTHON) ? REPO_VENV_PYTHON : 'python3';
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

// The line of moto's stderr that says why it stopped (Python's last line is the exception), for a one-line error.
const lastLine = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? 'no output';

// `python -m moto.server` with requests handled one at a time. moto's server is threaded and its DynamoDB has no
// lock, so two conditional writes that arrive together can both pass their condition: DynamoDB itself never allows
// that. A test of concurrent conditional writes (the waiting-room controller) needs the DynamoDB guarantee.
const SERIAL_MOTO = [
  'import sys',
  'from werkzeug.serving import run_simple',
  'from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app',
  'run_simple(sys.argv[1], int(sys.argv[2]), DomainDispatcherApplication(create_backend_app), threaded=False, request_handler=MotoRequestHandler)',
].join('\n');

/**
 * Start `python -m moto.server` on a free loopback port; resolves once it accepts connections.
 * serialized: one request at a time (atomic conditional writes, as DynamoDB's; slower under concurrency).
 */
export async function startMoto({ timeoutMs = 30_000, serialized = false } = {}) {
  const port = await freePort();
  const python = motoPython();
  const args = serialized ? ['-c', SERIAL_MOTO, '127.0.0.1', String(port)] : ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)];
  const child = spawn(python, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  let exited = null;
  child.once('exit', (code, signal) => { exited = `exited with ${signal ?? `status ${code}`}`; });
  child.once('error', (err) => { exited = err.code === 'ENOENT' ? `${python} not found` : err.message; });
  const hint = 'set MOTO_PYTHON to a Python that has moto[server] (the repo .venv has it)';
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(port))) {
    if (exited !== null) throw new Error(`moto server (${python} -m moto.server) ${exited}: ${lastLine(stderr)}; ${hint}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms: ${lastLine(stderr)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

/**
 * Create the sessions and cache tables exactly as the contract describes them. ttl false: an emulator without
 * UpdateTimeToLive (dynalite, the benchmark's crowd case); nothing there lives long enough to expire.
 */
export async function createTables({ endpoint, region = 'us-east-1', names, ttl = true }) {
  const contract = JSON.parse(readFileSync(TABLES_CONTRACT, 'utf8'));
  const client = new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    for (const [logical, tableName] of Object.entries(names)) {
      const spec = contract[logical];
      if (!spec) throw new Error(`table "${logical}" is not in ${fileURLToPath(TABLES_CONTRACT)}`);
      const attributes = new Map([[spec.hashKey.name, spec.hashKey.type]]);
      const indexes = (spec.indexes ?? []).map((ix) => {
        attributes.set(ix.hashKey.name, ix.hashKey.type);
        const schema = [{ AttributeName: ix.hashKey.name, KeyType: 'HASH' }];
        if (ix.rangeKey) {
          attributes.set(ix.rangeKey.name, ix.rangeKey.type);
          schema.push({ AttributeName: ix.rangeKey.name, KeyType: 'RANGE' });
        }
        return { IndexName: ix.name, KeySchema: schema, Projection: { ProjectionType: ix.projection } };
      });
      try {
        await client.send(new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
          KeySchema: [{ AttributeName: spec.hashKey.name, KeyType: 'HASH' }],
          ...(indexes.length ? { GlobalSecondaryIndexes: indexes } : {}),
        }));
      } catch (err) {
        if (err.name !== 'ResourceInUseException') throw err; // dev restarts reuse the table
      }
      await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
      if (!ttl) continue;
      await client.send(new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
      })).catch((err) => {
        if (!/already enabled/i.test(err.message)) throw err;
      });
    }
  } finally {
    client.destroy();
  }
}

// Default admin connection: the configured server (DB_*/PG* variables, else 127.0.0.1:5432 as postgres);
// callers that use an embedded server pass its address (scripts/local-postgres.mjs clientOptions()).
async function withAdmin(options, fn) {
  const client = new pg.Client({ ...clientOptions(configuredPostgres()), ...options, database: 'postgres' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const SAFE_DB = /^[a-z_][a-z0-9_]{0,62}$/;

/** CREATE DATABASE if missing (identifiers cannot be bound parameters, hence the strict name check). */
export async function ensureDatabase(name, options = {}) {
  if (!SAFE_DB.test(name)) throw new Error(`unsafe database name ${name}`);
  return withAdmin(options, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name}"`);
    return !rowCount;
  });
}

export async function dropDatabase(name, options = {}) {
  if (!SAFE_DB.test(name)) throw new Error(`unsafe database name ${name}`);
  await withAdmin(options, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
