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

  /** Build the EMF document; exported for tests and for emit(). */
  document(values, dimensions) {
    return {
      _aws: { Timestamp: Date.now(), CloudWatchMetrics: this.directivesFor(Object.keys(values)) },
      [contract.serviceDimension]: this.service,
      ...dimensions,
      ...values,
    };
  }

  emit(values, dimensions) {
    if (Object.keys(values).length === 0) return;
    this.write(`${JSON.stringify(this.document(values, dimensions))}\n`);
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
  publish(route) {
    this.metrics.emit(this.values, { [contract.routeDimension]: route });
    this.values = {};
  }
}
