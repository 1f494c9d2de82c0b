import type { Report } from '../../analysis/findings.js';

/** The report as JSON (docs/dnn-report.md, "Outputs"); numbers rounded to 4 decimals (0.1 µs in ms). */
export function formatJson(report: Report): string {
  // The per-request timelines are in the results file and the HTML; the JSON keeps the summaries.
  return `${JSON.stringify(report, (k, v: unknown) => (k === 'timelines' ? undefined : typeof v === 'number' && !Number.isInteger(v) ? round(v) : v), 2)}\n`;
}

export function round(v: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
