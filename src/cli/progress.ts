/**
 * A one-line progress display for `tsquic client` when stdout is a terminal. HTTP/0.9 responses carry
 * no length, so the bar shows files completed, next to the bytes received and the current rate.
 */
import { formatBytes, formatRate } from './format.js';

/** What the progress bar writes to: a terminal stream (process.stdout) or a test double. */
export interface ProgressOutput {
  write(text: string): unknown;
  readonly columns?: number;
}

/** Redraw at most this often, so that a fast transfer is not slowed by terminal output. */
const REDRAW_INTERVAL = 100;

export class ProgressBar {
  private bytes = 0;
  private done = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private readonly start: number;
  private visible = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly files: number,
    private readonly clock: () => number,
  ) {
    this.start = clock();
  }

  /** `n` more bytes arrived. */
  add(n: number): void {
    this.bytes += n;
    this.maybeDraw();
  }

  /** One more file is complete. */
  fileDone(): void {
    this.done++;
    this.draw();
  }

  /** Erase the line, so that what follows starts on a clean line. */
  clear(): void {
    if (this.visible) this.out.write('\r\x1b[K');
    this.visible = false;
  }

  /** The current line, without control characters. */
  render(width: number): string {
    const elapsed = this.clock() - this.start;
    const text = ` ${this.done}/${this.files} files  ${formatBytes(this.bytes)}  ${formatRate(this.bytes, elapsed)}`;
    const barWidth = Math.max(10, Math.min(40, width - text.length - 3));
    const filled = this.files === 0 ? barWidth : Math.round((barWidth * this.done) / this.files);
    return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]${text}`;
  }

  private maybeDraw(): void {
    if (this.clock() - this.lastDraw >= REDRAW_INTERVAL) this.draw();
  }

  private draw(): void {
    this.lastDraw = this.clock();
    const width = this.out.columns || 80;
    this.out.write(`\r${this.render(width).slice(0, Math.max(1, width - 1))}\x1b[K`);
    this.visible = true;
  }
}
