// The per-request log line written without Powertools' per-call machinery must be byte for byte what Powertools
// Logger writes (timestamps aside), and the EMF line what JSON.stringify(document) gives; INFO lines share one
// stdout write with their EMF line. No infrastructure needed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Metrics, RequestLog, createLogger } from '../src/observability.mjs';

function captureWrites(fn) {
  const writes = [];
  const streams = { stdout: process.stdout, stderr: process.stderr };
  const originals = Object.fromEntries(Object.entries(streams).map(([name, s]) => [name, s.write]));
  for (const [name, s] of Object.entries(streams)) s.write = (chunk) => { writes.push([name, String(chunk)]); return true; };
  try {
    fn();
  } finally {
    for (const [name, s] of Object.entries(streams)) s.write = originals[name];
  }
  return writes;
}

const normalize = (text) => text.replace(/"timestamp":"[^"]+"/g, '"timestamp":"T"').replace(/"Timestamp":\d+/g, '"Timestamp":0');

function oneRequest(requestLog, metrics, status) {
  const m = metrics.begin();
  m.add('CacheHits');
  m.add('RequestCount', 1);
  m.add('Latency', 1.25);
  m.add('ServerErrors', status >= 500 ? 1 : 0);
  m.add('ClientErrors', status >= 400 && status < 500 ? 1 : 0);
  requestLog.write(m, { requestId: 'id-"1\u2028', route: 'GET /api/products/{sku}', status, durationMs: 1.25, method: 'GET', path: '/api/products/a"b' });
}

test('the fast request line equals what Powertools writes, and INFO + EMF go out in one write', () => {
  const logger = createLogger({ serviceName: 'catalog-api-test', logLevel: 'INFO' });
  const metrics = new Metrics({ service: 'catalog-api-test' });
  const fast = new RequestLog({ logger, metrics, env: {} });
  const powertools = new RequestLog({ logger, metrics, env: { AWS_LAMBDA_FUNCTION_NAME: 'catalog-api-qa' } });
  assert.ok(fast.fast, 'fast path calibrated');
  assert.equal(powertools.fast, undefined, 'inside Lambda Powertools writes the line');
  for (const status of [200, 404, 503]) {
    const a = captureWrites(() => oneRequest(fast, metrics, status));
    const b = captureWrites(() => oneRequest(powertools, metrics, status));
    const lines = (writes, stream) => writes.filter(([s]) => s === stream).map(([, t]) => normalize(t)).join('');
    assert.equal(lines(a, 'stdout').split('\n').sort().join('\n'), lines(b, 'stdout').split('\n').sort().join('\n'), `stdout, status ${status}`);
    assert.equal(lines(a, 'stderr'), lines(b, 'stderr'), `stderr, status ${status}`);
    if (status < 500) assert.equal(a.length, 1, 'one write: the log line and the EMF line');
    else assert.deepEqual(a.map(([s]) => s).sort(), ['stderr', 'stdout'], 'ERROR line on stderr, EMF on stdout');
  }
});

test('the EMF line is JSON.stringify of the EMF document', () => {
  const metrics = new Metrics({ service: 'svc' });
  const values = { RequestCount: 1, Latency: 2.5, CacheMisses: 1, ServerErrors: 0 };
  const dimensions = { route: 'GET /x "q"' };
  assert.equal(metrics.line(values, dimensions, 123), `${JSON.stringify({ ...metrics.document(values, dimensions), _aws: { ...metrics.document(values, dimensions)._aws, Timestamp: 123 } })}\n`);
});

test('a logger with persistent keys, or a level above INFO, is left to Powertools', () => {
  const metrics = new Metrics({ service: 'svc' });
  const keyed = createLogger({ serviceName: 'svc', logLevel: 'INFO' });
  keyed.appendPersistentKeys({ team: 'catalog' });
  assert.equal(new RequestLog({ logger: keyed, metrics, env: {} }).fast, undefined);
  const quiet = createLogger({ serviceName: 'svc', logLevel: 'ERROR' });
  const writes = captureWrites(() => oneRequest(new RequestLog({ logger: quiet, metrics, env: {} }), metrics, 200));
  assert.equal(writes.length, 1, 'only the EMF line');
  assert.ok(writes[0][1].startsWith('{"_aws"'));
  assert.equal(quiet.getLevelName(), 'ERROR', 'calibration leaves the level as it was');
});

// The EMF envelope CloudWatch reads, checked per metric against the contract file itself (read here, not through
// the module): the namespace, each metric's name and unit, its dimension sets, and every dimension and value at
// the root where the directives point.
const contractFile = JSON.parse(readFileSync(new URL('../src/metrics-contract.json', import.meta.url), 'utf8'));

function assertEnvelope(doc, values, dimensions, timestamp) {
  assert.equal(doc._aws.Timestamp, timestamp);
  const directives = doc._aws.CloudWatchMetrics;
  assert.deepEqual(directives.flatMap((d) => d.Metrics.map((m) => m.Name)).sort(), Object.keys(values).sort(), 'each metric declared once');
  for (const [name, value] of Object.entries(values)) {
    const spec = contractFile.metrics[name];
    const directive = directives.find((d) => d.Metrics.some((m) => m.Name === name));
    assert.equal(directive.Namespace, contractFile.namespace, name);
    assert.deepEqual(directive.Metrics.find((m) => m.Name === name), { Name: name, Unit: spec.unit }, name);
    assert.deepEqual(directive.Dimensions, spec.dimensionSets, name);
    assert.equal(doc[name], value, name);
    for (const dimension of spec.dimensionSets.flat()) assert.equal(typeof doc[dimension], 'string', `${name}: dimension ${dimension} at the root`);
  }
  assert.equal(doc[contractFile.serviceDimension], 'svc');
  for (const [key, value] of Object.entries(dimensions)) assert.equal(doc[key], value);
}

test('every contract metric goes out with its namespace, unit and dimension sets from metrics-contract.json', () => {
  const metrics = new Metrics({ service: 'svc' });
  const dimensions = { [contractFile.routeDimension]: 'GET /api/products/{sku}', [contractFile.skuDimension]: 'SKU-000001' };
  const names = Object.keys(contractFile.metrics);
  assert.ok(names.length >= 10);
  for (const [i, name] of names.entries()) {
    assertEnvelope(JSON.parse(metrics.line({ [name]: i + 0.5 }, dimensions, 1000 + i)), { [name]: i + 0.5 }, dimensions, 1000 + i);
  }
  const all = Object.fromEntries(names.map((name, i) => [name, i]));
  assertEnvelope(JSON.parse(metrics.line(all, dimensions, 7)), all, dimensions, 7);
  assert.throws(() => metrics.line({ NotInTheContract: 1 }, dimensions, 7), /not in metrics-contract\.json/);
});

test('the EMF line a request writes carries the contract envelope', () => {
  const metrics = new Metrics({ service: 'svc' });
  const quiet = createLogger({ serviceName: 'svc', logLevel: 'ERROR' });
  const writes = captureWrites(() => oneRequest(new RequestLog({ logger: quiet, metrics, env: {} }), metrics, 503));
  const doc = JSON.parse(writes.find(([stream]) => stream === 'stdout')[1]);
  const values = { CacheHits: 1, RequestCount: 1, Latency: 1.25, ServerErrors: 1, ClientErrors: 0 };
  assertEnvelope(doc, values, { [contractFile.routeDimension]: 'GET /api/products/{sku}' }, doc._aws.Timestamp);
});
