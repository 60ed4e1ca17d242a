// Lambda events in the documented AWS shapes, built from test/fixtures: ALB (single- and multi-value) and
// API Gateway REST proxy (v1). query values may be arrays: a repeated parameter, as those services send it.
import { readFileSync } from 'node:fs';

const fixture = (name) => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8'));
export const context = { awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678', functionName: 'catalog-api-qa' };

export function alb({ multi = false, method = 'GET', path, query = {}, headers = {}, body = '' }) {
  const event = fixture(multi ? 'alb-multivalue-event' : 'alb-event');
  Object.assign(event, { httpMethod: method, path, body });
  if (multi) {
    event.multiValueQueryStringParameters = Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [].concat(v)]));
    for (const [k, v] of Object.entries(headers)) event.multiValueHeaders[k] = [].concat(v);
  } else {
    event.queryStringParameters = query;
    Object.assign(event.headers, headers);
  }
  return event;
}

export function apigw({ method = 'GET', path, query = null, headers = {}, body = null, base64 = false }) {
  const event = fixture('apigw-rest-event');
  Object.assign(event, { httpMethod: method, path, body, isBase64Encoded: base64 });
  // API Gateway gives the last value of a repeated name in queryStringParameters, all of them in the multi-value map.
  event.queryStringParameters = query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [].concat(v).at(-1)]));
  event.multiValueQueryStringParameters = query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [].concat(v)]));
  for (const [k, v] of Object.entries(headers)) {
    event.headers[k] = v;
    event.multiValueHeaders[k] = [v];
  }
  Object.assign(event.requestContext, { httpMethod: method, path: `/prod${path}` });
  event.pathParameters = { proxy: path.slice(1) };
  return event;
}

/** Status, lower-cased single-value headers and parsed body of a Lambda proxy response. */
export function unwrap(res) {
  const headers = res.headers ?? Object.fromEntries(Object.entries(res.multiValueHeaders ?? {}).map(([k, v]) => [k.toLowerCase(), v.join(', ')]));
  let body;
  try { body = JSON.parse(res.body); } catch { body = res.body; }
  return { status: res.statusCode, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), body };
}
