/**
 * Progress of a sweep, kept apart from the run loop (as autocannon does): on a TTY one live line
 * (cells done/total, current point and condition, ETA); otherwise one plain line per cell.
 */
export interface ProgressSink {
  start(totalCells: number, alreadyDone: number): void;
  cellStarted(condition: string, cut: string): void;
  cellDone(condition: string, cut: string, summary: string): void;
  note(line: string): void;
  finish(): void;
}

export class ProgressTracker implements ProgressSink {
  private total = 0;
  private done = 0;
  private resumed = 0;
  private t0 = 0;
  private current = '';
  private live = false;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.live = Boolean(out.isTTY);
  }

  start(totalCells: number, alreadyDone: number): void {
    this.total = totalCells;
    this.done = alreadyDone;
    this.resumed = alreadyDone;
    this.t0 = performance.now();
    if (alreadyDone > 0) this.note(`resuming: ${alreadyDone} of ${totalCells} cells already measured`);
  }

  cellStarted(condition: string, cut: string): void {
    this.current = `${cut} @ ${condition}`;
    if (this.live) this.draw();
  }

  cellDone(condition: string, cut: string, summary: string): void {
    this.done++;
    if (this.live) this.draw();
    else this.out.write(`[${this.done}/${this.total}] ${condition} ${cut}: ${summary}\n`);
  }

  note(line: string): void {
    if (this.live) this.out.write('\r\x1b[2K');
    this.out.write(`${line}\n`);
    if (this.live && this.total > 0) this.draw();
  }

  finish(): void {
    if (this.live) this.out.write('\r\x1b[2K');
    const s = (performance.now() - this.t0) / 1000;
    this.out.write(`done: ${this.done}/${this.total} cells in ${formatDuration(s)}\n`);
  }

  /** Remaining time from the pace of the cells measured in this run. */
  eta(): number | null {
    const measured = this.done - this.resumed;
    if (measured <= 0) return null;
    return (((performance.now() - this.t0) / 1000) * (this.total - this.done)) / measured;
  }

  private draw(): void {
    const eta = this.eta();
    const cols = this.out.columns ?? 100;
    const line = `[${this.done}/${this.total}] ${eta === null ? '' : `ETA ${formatDuration(eta)} `}${this.current}`;
    this.out.write(`\r\x1b[2K${line.slice(0, cols - 1)}`);
  }
}

export function formatDuration(s: number): string {
  // rounded before it is split, so that 44 min 59.6 s reads 45m00s, not 44m60s
  const secs = Math.round(s);
  if (secs < 60) return `${secs}s`;
  if (secs < 3600) return `${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, '0')}s`;
  const mins = Math.round(s / 60);
  return `${Math.floor(mins / 60)}h${String(mins % 60).padStart(2, '0')}m`;
}
