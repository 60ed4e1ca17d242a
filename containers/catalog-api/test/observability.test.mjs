// The per-request log line written without Powertools' per-call machinery must be byte for byte what Powertools
// Logger writes (timestamps aside), and the EMF line what JSON.stringify(document) gives; INFO lines share one
// stdout write with their EMF line. No infrastructure needed.
import assert from 'node:assert/strict';
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
