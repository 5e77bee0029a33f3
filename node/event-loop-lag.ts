/**
 * Measures how late a repeating timer fires. A large lag means this process
 * was paused (GC, swap, a suspended VM) and anything it measured about peers
 * in that time is suspect; /health reports it, and the failure detector will
 * use it to avoid convicting peers for our own pause.
 */
export class EventLoopLagMonitor {
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private expected = 0;
  private lastLagMs = 0;
  private maxLagMs = 0;

  constructor(intervalMs = 500) {
    this.intervalMs = intervalMs;
  }

  start(): void {
    if (this.timer) return;
    this.expected = performance.now() + this.intervalMs;
    this.timer = setInterval(() => {
      const now = performance.now();
      this.lastLagMs = Math.max(0, now - this.expected);
      this.maxLagMs = Math.max(this.maxLagMs, this.lastLagMs);
      this.expected = now + this.intervalMs;
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Lag of the most recent tick, in milliseconds. */
  get lagMs(): number {
    return this.lastLagMs;
  }

  /** Largest lag seen since start, in milliseconds. */
  get maxLagSeenMs(): number {
    return this.maxLagMs;
  }
}
