import { FACTORS } from '../conditions/factors.js';
import type { FactorName, Factors, NetworkReport } from './findings.js';

/**
 * Short labels of conditions and gains: the analysis names conditions in its warnings, and both the
 * report and a run's quick summary print gains the same way.
 */

/** JSON name -> tag key (edge_cpu -> ecpu): the short form in tables and condition labels. */
const SHORT = Object.fromEntries(FACTORS.map((f) => [f.field, f.key])) as Record<FactorName, string>;

export function shortFactor(f: FactorName): string {
  return SHORT[f];
}

export function levelLabel(v: number | null): string {
  return v === null ? 'none' : String(v);
}

/** Factors that take more than one value in this network's conditions, in tag order. */
export function varyingFactors(n: Pick<NetworkReport, 'conditions'>): FactorName[] {
  const names = Object.keys(n.conditions[0]?.factors ?? {}) as FactorName[];
  return names.filter((f) => new Set(n.conditions.map((c) => c.factors[f])).size > 1);
}

/** e.g. "net=10 ecpu=50": the factors that vary (all of them when none does). */
export function conditionLabel(f: Factors, varying: FactorName[]): string {
  // factors absent from f (an unset optional one: the device link of two tiers) are not shown
  const shown = varying.length ? varying : FACTORS.map((x) => x.field).filter((k) => k in f);
  return shown.map((k) => `${SHORT[k]}=${levelLabel(f[k] ?? null)}`).join(' ');
}

export function pct(v: number | null): string {
  return v === null ? '-' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
}

/** An interval of gains, e.g. "[-1.2%, +7.5%]"; null ends are unbounded. */
export function interval(low: number | null, high: number | null): string {
  return `[${low === null ? '-inf' : pct(low)}, ${high === null ? '+inf' : pct(high)}]`;
}

/** A gain with its interval when one is known, e.g. "+12.2% [-3.0%, +20.1%]". */
export function gainWithInterval(gain: number | null, c: { significance: string; gain_low: number | null; gain_high: number | null }): string {
  return c.significance === 'unknown' || gain === null || gain === 0 ? pct(gain) : `${pct(gain)} ${interval(c.gain_low, c.gain_high)}`;
}
