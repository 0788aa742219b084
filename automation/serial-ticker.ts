/**
 * Runs `tick` every `intervalMs`, one at a time: a slow tick delays the next instead of
 * overlapping it. `stop` clears the interval and waits for the tick in flight. Used by the
 * heartbeats of queue workers and of uploads.
 */
export class SerialTicker {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();

  constructor(private readonly tick: () => Promise<void>, private readonly intervalMs: number) {}

  start(): void {
    this.timer = setInterval(() => {
      this.ticking = this.ticking.then(() => this.tick());
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }
}
