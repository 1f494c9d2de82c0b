import type { ConditionReport, CrossTestbedRow, NetworkReport } from './findings.js';

/**
 * Is partitioning sensitive to the hardware? For every network measured on more than one testbed,
 * per condition the best point on each testbed, and whether one point serves them all.
 */
export function crossTestbed(networks: NetworkReport[]): CrossTestbedRow[] {
  // a scenario run (frames in flight) is compared with the same scenario and number of edges on other testbeds only
  const byNetwork = new Map<string, NetworkReport[]>();
  for (const n of networks) {
    // a three-tier run names configurations, not points: not compared here (yet)
    if (n.tiers) continue;
    const key = `${n.network}\0${n.scenario ?? ''}\0${n.edge_count ?? 1}`;
    byNetwork.set(key, [...(byNetwork.get(key) ?? []), n]);
  }
  const rows: CrossTestbedRow[] = [];
  for (const entries of byNetwork.values()) {
    if (entries.length < 2) continue;
    const { network, scenario } = entries[0]!;
    const keys = [...new Set(entries.flatMap((e) => e.conditions.map((c) => c.key)))];
    for (const key of keys) {
      const here = entries.map((e) => ({ id: e.testbed_id, c: e.conditions.find((c) => c.key === key) }));
      const best: CrossTestbedRow['best'] = {};
      for (const { id, c } of here) best[id] = c ? { ...c.best } : null;
      const measured = here.flatMap(({ c }) => (c ? [c] : []));
      rows.push({ network, ...(scenario === undefined ? {} : { scenario }), condition: key, best, same_best: measured.every((a) => measured.every((b) => servesBoth(a, b))) });
    }
  }
  return rows;
}

/** a's best point also serves b: it is b's best, or in b's tie set (when b's significance is known). */
function servesBoth(a: ConditionReport, b: ConditionReport): boolean {
  return a.best.cut === b.best.cut || (b.tie_set?.includes(a.best.cut) ?? false);
}
