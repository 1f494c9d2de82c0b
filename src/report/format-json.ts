import type { Report } from './model.js';

/** The report as JSON (README: "dnn-report JSON"); numbers rounded to 4 decimals (0.1 µs in ms). */
export function formatJson(report: Report): string {
  return `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? round(v) : v), 2)}\n`;
}

export function round(v: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
