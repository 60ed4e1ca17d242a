// Logs and metrics. The names that CloudWatch metric filters, alarms and
// dashboards depend on come from metrics-contract.json, never from literals here.
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';

export const contract = JSON.parse(readFileSync(new URL('./metrics-contract.json', import.meta.url), 'utf8'));
export const F = contract.logFields;
export const EVENTS = contract.logEvents;

export function createLogger({ serviceName, logLevel }) {
  // Powertools writes one JSON object per line with "level" (INFO/WARN/ERROR),
  // "message", "timestamp" and "service"; our extra keys land at the top level.
  return new Logger({ serviceName, logLevel });
}

/**
 * CloudWatch embedded metric format, written by hand rather than with
 * Powertools Metrics: Powertools puts every metric of a blob under the same
 * dimension sets, while the contract gives each metric its own (Latency per
 * route, errors per service only). EMF allows several directives per blob, so
 * one line per request carries all of them.
 */
export class Metrics {
  constructor({ namespace, service, write }) {
    this.namespace = namespace || contract.namespace;
    this.service = service;
    this.write = write ?? ((line) => process.stdout.write(line));
    // The directives depend only on which metrics a document carries (a handful of combinations): built
    // once per combination instead of once per request (bench/: saves ~2 us of a cached read's ~60 us).
    this.directives = new Map();
    this.lineParts = new Map();
    // Default stdout: the request's log line and its EMF line can then go out in one write (see RequestLog).
    this.toStdout = !write;
  }

  directivesFor(names) {
    const signature = names.join(',');
    let directives = this.directives.get(signature);
    if (!directives) {
      const groups = new Map();
      for (const name of names) {
        const spec = contract.metrics[name];
        if (!spec) throw new Error(`metric ${name} is not in metrics-contract.json`);
        const key = JSON.stringify(spec.dimensionSets);
        if (!groups.has(key)) groups.set(key, { Namespace: this.namespace, Dimensions: spec.dimensionSets, Metrics: [] });
        groups.get(key).Metrics.push({ Name: name, Unit: spec.unit });
      }
      // Shared by every document with these names: frozen so that no caller can alter the next one.
      directives = Object.freeze([...groups.values()].map((d) => Object.freeze({ ...d, Metrics: Object.freeze(d.Metrics) })));
      this.directives.set(signature, directives);
    }
    return directives;
  }

  /** A collector for one request (requests overlap on the local server). */
  begin() {
    return new MetricCollector(this);
  }

  /**
   * The EMF line (with its newline) for one request: the same bytes as JSON.stringify(document(...)), built from
   * per-combination and per-route prefixes so that only the timestamp, the route and the values are serialized
   * per request (bench/: the directives were re-serialized on every request).
   */
  line(values, dimensions, timestamp = Date.now()) {
    const names = Object.keys(values);
    if (names.length === 0) return '';
    const dimensionNames = Object.keys(dimensions);
    const signature = `${names.join(',')}|${dimensionNames.join(',')}`;
    let parts = this.lineParts.get(signature);
    if (!parts) {
      const directives = JSON.stringify(this.directivesFor(names));
      parts = {
        head: `,"CloudWatchMetrics":${directives}}${this.service === undefined ? '' : `,${JSON.stringify(contract.serviceDimension)}:${JSON.stringify(this.service)}`}`,
        dimensions: dimensionNames.map((d) => `,${JSON.stringify(d)}:`),
        values: names.map((n) => `,${JSON.stringify(n)}:`),
      };
      this.lineParts.set(signature, parts);
    }
    let out = `{"_aws":{"Timestamp":${timestamp}${parts.head}`;
    for (let i = 0; i < dimensionNames.length; i += 1) out += parts.dimensions[i] + JSON.stringify(dimensions[dimensionNames[i]]);
    for (let i = 0; i < names.length; i += 1) out += parts.values[i] + JSON.stringify(values[names[i]]);
    return `${out}}\n`;
  }

  /** Build the EMF document; exported for tests and for emit(). */
  document(values, dimensions) {
    return {
      _aws: { Timestamp: Date.now(), CloudWatchMetrics: this.directivesFor(Object.keys(values)) },
      [contract.serviceDimension]: this.service,
      ...dimensions,
      ...values,
    };
  }

  emit(values, dimensions, timestamp) {
    const line = this.line(values, dimensions, timestamp);
    if (line) this.write(line);
  }
}

class MetricCollector {
  constructor(metrics) {
    this.metrics = metrics;
    this.values = {};
  }

  add(name, value = 1) {
    this.values[name] = (this.values[name] ?? 0) + value;
  }

  /** Emits once; the route is a dimension of the per-route metrics only, but EMF
   *  needs the value on the document, where it is harmless for the others. */
  publish(route, timestamp) {
    this.metrics.emit(this.values, { [contract.routeDimension]: route }, timestamp);
    this.values = {};
  }

  /** The EMF line instead of writing it (RequestLog writes it together with the log line). */
  take(route, timestamp) {
    const line = this.metrics.line(this.values, { [contract.routeDimension]: route }, timestamp);
    this.values = {};
    return line;
  }
}

const INFO = 12; // Powertools' LogLevelThreshold.INFO
const ERROR = 20; // LogLevelThreshold.ERROR
// The keys after requestId, as JSON fragments (names from the contract).
const KEY = {
  route: `,${JSON.stringify(F.route)}:`, status: `,${JSON.stringify(F.status)}:`, durationMs: `,${JSON.stringify(F.durationMs)}:`,
  method: ',"method":', path: ',"path":',
};
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The one log line and the one EMF line of every request, written together.
 *
 * The log line is the line Powertools Logger writes for logger.info/error('request completed', fields), with the
 * same keys in the same order (level, message, timestamp, service, sampling_rate, then the fields), but built from
 * precomputed pieces: Powertools merges attribute objects, formats the timestamp through its environment helpers
 * and stringifies with a replacer on every call (bench/: ~19 us of a cached read's ~87 us). The fast line is used
 * only when Powertools' own output for this logger has exactly that shape (checked once, by asking Powertools to
 * format a sample line: no persistent keys, no X-Ray trace id, UTC timestamps, compact JSON); otherwise, and
 * inside Lambda (the trace id and Lambda context change per invocation), Powertools writes the line itself.
 *
 * INFO lines and the EMF line go to stdout in one write (two lines, one system call instead of two); ERROR lines go
 * to stderr, as Powertools sends them. With a custom metrics writer (tests) the EMF line goes there instead.
 */
export class RequestLog {
  constructor({ logger, metrics, message = 'request completed', env = process.env }) {
    this.logger = logger;
    this.metrics = metrics;
    this.message = message;
    this.routes = new Map(); // route label -> its JSON string
    this.fast = metrics instanceof Metrics ? this.calibrate(env) : undefined;
    // Read once: the API never changes the level at run time, and Powertools' getter consults the environment on
    // every call (bench/: ~1 us per request). The Powertools path (Lambda) reads it on every call itself.
    this.level = logger.level;
  }

  /** Ask Powertools for one INFO and one ERROR line with sample fields, and keep their constant parts. */
  calibrate(env) {
    const { logger } = this;
    if (!(logger instanceof Logger) || env.AWS_LAMBDA_FUNCTION_NAME || env._X_AMZN_TRACE_ID) return undefined;
    const sample = { [F.event]: EVENTS.request, [F.requestId]: 'r', [F.route]: 'x', [F.status]: 200, [F.durationMs]: 1.5, method: 'GET', path: '/' };
    const printed = {};
    const original = logger.console;
    const saved = logger.level;
    try {
      const capture = (level) => (line) => { printed[level] = line; };
      logger.console = { ...original, info: capture('INFO'), error: capture('ERROR') };
      logger.setLogLevel('INFO');
      logger.info(this.message, sample);
      logger.error(this.message, sample);
    } catch {
      return undefined;
    } finally {
      logger.console = original;
      logger.setLogLevel(logger.getLogLevelNameFromNumber?.(saved) ?? 'INFO');
    }
    if (logger.level !== saved) return undefined;
    const prefixes = {};
    for (const level of ['INFO', 'ERROR']) {
      const text = printed[level];
      if (typeof text !== 'string' || text.includes('\n')) return undefined;
      let parsed;
      try { parsed = JSON.parse(text); } catch { return undefined; }
      const keys = Object.keys(parsed);
      const expected = ['level', 'message', 'timestamp', 'service', 'sampling_rate', ...Object.keys(sample)];
      if (keys.join() !== expected.join() || parsed.level !== level || parsed.message !== this.message || !ISO_UTC.test(parsed.timestamp)) {
        return undefined;
      }
      const rebuilt = `{"level":${JSON.stringify(level)},"message":${JSON.stringify(this.message)},"timestamp":${JSON.stringify(parsed.timestamp)},`
        + `"service":${JSON.stringify(parsed.service)},"sampling_rate":${JSON.stringify(parsed.sampling_rate)},${JSON.stringify(sample).slice(1)}`;
      if (rebuilt !== text) return undefined; // anything Powertools adds that we would not
      prefixes[level] = {
        head: `{"level":${JSON.stringify(level)},"message":${JSON.stringify(this.message)},"timestamp":"`,
        tail: `","service":${JSON.stringify(parsed.service)},"sampling_rate":${JSON.stringify(parsed.sampling_rate)},`
          + `${JSON.stringify(F.event)}:${JSON.stringify(EVENTS.request)},${JSON.stringify(F.requestId)}:`,
      };
    }
    return prefixes;
  }

  routeJson(route) {
    let json = this.routes.get(route);
    if (json === undefined) {
      json = JSON.stringify(route);
      if (this.routes.size < 1000) this.routes.set(route, json); // labels are route templates: a handful
    }
    return json;
  }

  /** One request: m is its MetricCollector. */
  write(m, { requestId, route, status, durationMs, method, path }) {
    const error = status >= 500;
    const { fast, logger } = this;
    const now = Date.now();
    const { level } = this;
    if (!fast || (error ? level > ERROR : level > INFO) || !Number.isFinite(durationMs)) {
      m.publish(route, now);
      const fields = {
        [F.event]: EVENTS.request, [F.requestId]: requestId, [F.route]: route,
        [F.status]: status, [F.durationMs]: durationMs, method, path,
      };
      if (error) logger.error(this.message, fields);
      else logger.info(this.message, fields);
      return;
    }
    const p = error ? fast.ERROR : fast.INFO;
    const log = `${p.head}${new Date(now).toISOString()}${p.tail}${JSON.stringify(requestId)}${KEY.route}${this.routeJson(route)}`
      + `${KEY.status}${status}${KEY.durationMs}${durationMs}${KEY.method}${JSON.stringify(method)}${KEY.path}${JSON.stringify(path)}}\n`;
    const emf = m.take(route, now);
    if (!this.metrics.toStdout) {
      (error ? process.stderr : process.stdout).write(log);
      if (emf) this.metrics.write(emf);
    } else if (error) {
      process.stderr.write(log);
      if (emf) process.stdout.write(emf);
    } else {
      process.stdout.write(log + emf);
    }
  }
}

/**
 * Warnings of one kind at most once per interval: a dependency that fails on every request (a cache tier
 * restarting, a database failing over) would otherwise write one line per request. The next line written
 * carries how many were left out since the previous one (`suppressed`).
 */
export class LogLimiter {
  constructor(logger, { intervalMs = 10_000, now = () => Date.now() } = {}) {
    Object.assign(this, { logger, intervalMs, now });
    this.kinds = new Map(); // event -> { at, suppressed }
  }

  /** Returns true when the line was written. The kind: attributes.event with the message. */
  warn(message, attributes = {}) {
    const kind = `${attributes[F.event] ?? ''}|${message}`;
    const t = this.now();
    const seen = this.kinds.get(kind);
    if (seen && t - seen.at < this.intervalMs) {
      seen.suppressed += 1;
      return false;
    }
    this.kinds.set(kind, { at: t, suppressed: 0 });
    this.logger.warn(message, seen?.suppressed ? { ...attributes, suppressed: seen.suppressed } : attributes);
    return true;
  }
}
