import { conditionKey } from '../conditions/condition.js';
import type { ConditionData, ReferenceData, Statistic } from './cells.js';
import type { ConditionReport, DriftReport, DriftStretch } from './findings.js';
import { compareDistributions } from './significance.js';

/**
 * Drift across a run: the reference cell (the baseline's best point) measured again every few
 * conditions. Between two references, the conditions measured meanwhile share whatever the machine
 * did; when the reference moved more than the gain claimed there, that claim is not to be trusted.
 * Pure: references and conditions in, the drift report and one warning per suspect stretch out.
 */
export function analyseDrift(
  references: ReferenceData[],
  conditions: ConditionData[],
  reports: ConditionReport[],
  opts: { metric: Statistic; minGain: number; confidence: number; label: (key: string) => string },
): { drift: DriftReport | null; warnings: string[] } {
  if (references.length === 0) return { drift: null, warnings: [] };
  const first = new Map<string, ReferenceData>();
  for (const r of references) if (!first.has(r.source) || r.ref < first.get(r.source)!.ref) first.set(r.source, r);
  const points = references.map((r) => ({
    ref: r.ref,
    source: r.source,
    at: new Date(r.startMs).toISOString(),
    total_ms: r.total[opts.metric],
    samples: r.total.samples,
    change: r.total[opts.metric] / first.get(r.source)!.total[opts.metric] - 1,
  }));
  const claimed = new Map(reports.filter((c) => c.repartition && c.gain !== null).map((c) => [c.key, c.gain!]));
  const stretches: DriftStretch[] = [];
  const warnings: string[] = [];
  for (const [i, a] of references.entries()) {
    const b = references.slice(i + 1).find((r) => r.source === a.source);
    if (!b) continue;
    const inside = conditions.filter((c) => c.startMs !== undefined && c.startMs >= a.endMs && c.startMs <= b.startMs).map((c) => conditionKey(c.condition));
    const change = b.total[opts.metric] / a.total[opts.metric] - 1;
    const interval = a.total.dist && b.total.dist ? compareDistributions(b.total.dist, a.total.dist, { confidence: opts.confidence }) : null;
    const gains = inside.flatMap((k) => (claimed.has(k) ? [claimed.get(k)!] : []));
    const claimedGain = gains.length ? Math.min(...gains) : null;
    const exceeds = Math.abs(change) > (claimedGain ?? opts.minGain);
    const stretch: DriftStretch = {
      source: a.source,
      from_ref: a.ref,
      to_ref: b.ref,
      from: new Date(a.startMs).toISOString(),
      to: new Date(b.startMs).toISOString(),
      change,
      low: interval && Number.isFinite(interval.low) ? interval.low : null,
      high: interval && Number.isFinite(interval.high) ? interval.high : null,
      conditions: inside,
      claimed_gain: claimedGain,
      exceeds,
    };
    stretches.push(stretch);
    if (exceeds) warnings.push(driftWarning(stretch, a.cut, opts.label));
  }
  const r0 = references[0]!;
  return {
    drift: {
      reference: { condition: conditionKey(r0.condition), cut: r0.cut },
      points,
      max_change: Math.max(...points.map((p) => Math.abs(p.change))),
      stretches,
    },
    warnings,
  };
}

function driftWarning(s: DriftStretch, cut: string, label: (key: string) => string): string {
  const pc = (v: number) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)}%`;
  const when = `between reference ${s.from_ref} (${s.from.slice(11, 19)}) and ${s.to_ref} (${s.to.slice(11, 19)} UTC)`;
  const what = s.conditions.length ? `, while ${s.conditions.map(label).join(', ')} ${s.conditions.length === 1 ? 'was' : 'were'} measured` : '';
  const against = s.claimed_gain !== null ? `more than the ${pc(s.claimed_gain)} gain claimed there: re-measure that stretch` : 'more than --min-gain: comparisons across the conditions of that stretch (sensitivity) are suspect';
  return `drift: the reference point ${cut} moved ${pc(s.change)} ${when}${what}; ${against}`;
}
