// One cold start, in a fresh process: import the Lambda handler, answer one ALB
// event (a product read: config, runtime, first database connection, cache
// miss), and report the timings on one marker line. performance.now() counts
// from the start of this process (performance.timeOrigin).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const atScriptStart = performance.now();
const apiSrc = new URL('../containers/catalog-api/src/', import.meta.url);
const { handler } = await import(new URL('lambda.mjs', apiSrc));
const imported = performance.now();
const event = JSON.parse(readFileSync(new URL('../containers/catalog-api/test/fixtures/alb-event.json', import.meta.url), 'utf8'));
Object.assign(event, { httpMethod: 'GET', path: `/api/products/${process.env.COLD_START_SKU ?? 'SKU-000001'}` });
const result = await handler(event, { awsRequestId: `cold-${process.pid}`, functionName: 'catalog-api-bench' });
const answered = performance.now();
process.stderr.write(`COLDSTART ${JSON.stringify({
  bootMs: atScriptStart, importMs: imported - atScriptStart, initMs: imported, firstEventMs: answered - imported,
  totalMs: answered, status: result.statusCode, statusDescription: result.statusDescription,
})}\n`);
process.exit(0); // the pools would keep the process alive
