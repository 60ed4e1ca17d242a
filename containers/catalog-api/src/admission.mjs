// Writer admission that tracks what the database actually completes, CoDel-style (Nichols & Jacobson; the same
// idea as Facebook's "adaptive LIFO + CoDel" server queues): the signal is the queueing delay of ADMITTED requests
// (time from admission to a writer connection), not the queue's length or a hold-time estimate.
//
// - The queue may absorb a burst: while the smallest delay seen in an interval stays under the target, a request
//   is refused only if the queue, drained at the measured completion rate, would keep it longer than the budget.
// - A queue that never empties (the minimum delay over a whole interval above the target) is a standing queue:
//   the origin is offered more than it completes. Then only a short queue is kept (target x completion rate):
//   enough to keep every connection busy, no more. Everything else is refused at once.
// A refusal costs a comparison; the caller refuses before it verifies a token or reads a body (app.mjs), so that
// under overload the CPU goes to the requests that sell, and goodput stays at capacity.
import { performance } from 'node:perf_hooks';

export class WriterAdmission {
  /**
   * pool: the writer pg.Pool (its waitingCount, idleCount, totalCount, options.max).
   * targetMs: acceptable standing delay; intervalMs: how long a delay must persist to count as standing;
   * budgetMs: the most a request may be expected to wait at all; maxWaiting: a hard cap on the queue.
   */
  constructor({ pool, targetMs = 20, intervalMs = 100, budgetMs = 100, maxWaiting = Infinity, now = () => performance.now() }) {
    this.pool = pool;
    this.targetMs = targetMs;
    this.intervalMs = intervalMs;
    this.budgetMs = budgetMs;
    this.maxWaiting = maxWaiting;
    this.now = now;
    this.intervalStart = now();
    this.minDelay = Infinity; // smallest admitted delay in the current interval
    this.completed = 0; // transactions finished in the current interval
    this.ratePerMs = 0; // completions per ms, smoothed over intervals in which the pool was saturated
    this.saturated = false; // some request of the current interval found every connection busy
    this.holdMs = 1; // running average of a transaction's connection hold time: the estimate before a rate is measured
    this.standing = false; // the last whole interval had a standing queue
    this.refused = 0;
  }

  /** Close the interval once it is over: standing queue or not, and the completion rate. */
  roll(t) {
    const elapsed = t - this.intervalStart;
    if (elapsed < this.intervalMs) return;
    // Only a saturated interval says what the database can complete (an idle one says how little was asked).
    if (this.saturated && this.completed > 0) {
      const rate = this.completed / elapsed;
      this.ratePerMs = this.ratePerMs === 0 ? rate : this.ratePerMs + 0.5 * (rate - this.ratePerMs);
    }
    this.saturated = false;
    // No admitted request in the interval (minDelay Infinity) with waiters still queued is standing too.
    this.standing = this.minDelay > this.targetMs && (this.minDelay !== Infinity || this.pool.waitingCount > 0);
    this.intervalStart = t;
    this.minDelay = Infinity;
    this.completed = 0;
  }

  /** How many may wait for a connection right now. */
  allowedWaiting() {
    const p = this.pool;
    // A free connection: no queue to speak of.
    if (p.idleCount > 0 || p.totalCount < p.options.max) return Infinity;
    this.saturated = true;
    // Until a saturated interval measured the rate: pool size over the average hold time.
    const rate = this.ratePerMs > 0 ? this.ratePerMs : p.options.max / this.holdMs;
    const keep = this.standing ? Math.max(p.options.max, rate * this.targetMs) : rate * this.budgetMs;
    return Math.min(this.maxWaiting, keep);
  }

  /** Admit (returns the admission time, for admitted()) or refuse (returns undefined): O(1), no I/O. */
  tryAdmit() {
    const t = this.now();
    this.roll(t);
    if (this.pool.waitingCount + 1 > this.allowedWaiting()) {
      this.refused += 1;
      return undefined;
    }
    return t;
  }

  /** Would a request be refused now? (the early check before a token is verified; admits nothing). */
  wouldRefuse() {
    this.roll(this.now());
    return this.pool.waitingCount + 1 > this.allowedWaiting();
  }

  /** An admitted request got its connection: its queueing delay is the signal. Returns the time, for finished(). */
  connected(admittedAt) {
    const t = this.now();
    const delay = t - admittedAt;
    if (delay < this.minDelay) this.minDelay = delay;
    return t;
  }

  /** A transaction released its connection (connectedAt: what connected() returned). */
  finished(connectedAt) {
    this.completed += 1;
    if (connectedAt !== undefined) this.holdMs += 0.05 * (this.now() - connectedAt - this.holdMs);
  }

  snapshot() {
    return { standing: this.standing, completionsPerSecond: Math.round(this.ratePerMs * 1000), allowedWaiting: this.allowedWaiting(), refused: this.refused };
  }
}
