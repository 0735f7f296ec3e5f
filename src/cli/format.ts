/**
 * Human-readable sizes, durations and rates for the CLI's output.
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB"; whole bytes below 1 KiB. */
export function formatBytes(bytes: number): string {
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${UNITS[u]}`;
}

/** 12.34 -> "12.3 ms"; 1234 -> "1.23 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Bits per second over `ms`: "123.4 Mbit/s" (or kbit/s, Gbit/s). */
export function formatRate(bytes: number, ms: number): string {
  if (ms <= 0) return 'n/a';
  const bps = (bytes * 8 * 1000) / ms;
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(2)} Gbit/s`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  return `${(bps / 1e3).toFixed(1)} kbit/s`;
}

/** The first line of an error's message, for one-line error reports. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.trim() || (err instanceof Error ? err.name : 'error');
}
