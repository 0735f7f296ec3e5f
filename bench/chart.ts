/**
 * A horizontal bar chart as a standalone SVG: one bar per figure, its length the ratio tsquic / quic-go
 * (oriented so that more is better for tsquic), with a line at 1.0x. Used by bench/compare.ts.
 */

export interface Bar {
  label: string;
  /** tsquic relative to quic-go, > 1 = tsquic better; undefined: not measured (drawn as "n/a"). */
  ratio: number | undefined;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The chart as SVG text; `title` and `subtitle` go above the bars. */
export function barChart(title: string, subtitle: string, bars: readonly Bar[]): string {
  // About 6.5 px per character of 12 px sans-serif; enough room that no label is cut off.
  const labelWidth = Math.max(160, Math.ceil(Math.max(...bars.map((b) => b.label.length)) * 6.5) + 20);
  const plotWidth = 420;
  const rowHeight = 22;
  const top = 64;
  const height = top + bars.length * rowHeight + 40;
  const width = Math.max(labelWidth + plotWidth + 80, Math.ceil(subtitle.length * 6.5) + 20);
  const max = Math.max(1.25, ...bars.map((b) => b.ratio ?? 0));
  const x = (v: number) => labelWidth + (Math.min(v, max) / max) * plotWidth;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="42" fill="#444444">${escapeXml(subtitle)}</text>`,
  ];
  for (const [i, b] of bars.entries()) {
    const y = top + i * rowHeight;
    out.push(`<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeXml(b.label)}</text>`);
    if (b.ratio === undefined) {
      out.push(`<text class="na" x="${labelWidth + 4}" y="${y + 15}" fill="#888888">n/a</text>`);
      continue;
    }
    const w = Math.max(1, x(b.ratio) - labelWidth);
    const color = b.ratio >= 1 ? '#2e7d32' : '#c62828';
    out.push(
      `<rect class="bar" x="${labelWidth}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="${color}"/>`,
      `<text x="${(labelWidth + w + 4).toFixed(1)}" y="${y + 15}">${b.ratio.toFixed(2)}x</text>`,
    );
  }
  const one = x(1).toFixed(1);
  const bottom = top + bars.length * rowHeight;
  out.push(
    `<line x1="${one}" y1="${top - 4}" x2="${one}" y2="${bottom + 4}" stroke="#000000" stroke-dasharray="4 3"/>`,
    `<text x="${one}" y="${bottom + 20}" text-anchor="middle">1.0x = quic-go 0.29</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}
