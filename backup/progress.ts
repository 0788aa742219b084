// Long work reports "bytes so far" on stderr at most every few seconds, so a Job's log shows
// that it is alive without flooding it.
export type LogFn = (line: string) => void;

export const silentLog: LogFn = () => undefined;

export function stderrLog(prefix: string): LogFn {
  return (line) => process.stderr.write(`${new Date().toISOString()} ${prefix}: ${line}\n`);
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export class ProgressCounter {
  private bytes = 0;
  private lastReport = Date.now();

  constructor(
    private readonly label: string,
    private readonly log: LogFn,
    private readonly intervalMs = 5000,
  ) {}

  add(bytes: number): void {
    this.bytes += bytes;
    const now = Date.now();
    if (now - this.lastReport >= this.intervalMs) {
      this.lastReport = now;
      this.log(`${this.label}: ${formatBytes(this.bytes)} so far`);
    }
  }

  get total(): number {
    return this.bytes;
  }

  finish(suffix = "done"): void {
    this.log(`${this.label}: ${formatBytes(this.bytes)} ${suffix}`);
  }
}
