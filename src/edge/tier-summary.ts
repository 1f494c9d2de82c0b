import { conditionKey } from '../conditions/condition.js';
import { readResultsFile } from '../results/log-reader.js';

/**
 * The end of a three-tier run: per condition the best configuration (x, y) by median total, and the
 * best one that uses at most two tiers beside it, so whether a three-tier configuration wins is in
 * view (dnn-report has the significance and the rest).
 */
export interface TierBest {
  condition: string;
  best: { config: string; ms: number; threeTier: boolean };
  /** the best configuration where a tier computes nothing (x = y, x the input, y the output point) */
  bestTwoTier?: { config: string; ms: number };
  configs: number;
}

/** Best (x, y) per condition of a results file's three-tier cells (p50 total), in file order of conditions. */
export function bestConfigs(file: string): TierBest[] {
  const { cells, meta } = readResultsFile(file);
  const kinds = new Map((meta?.cuts ?? []).map((c, i, all) => [c.layer, i === 0 ? 'input' : i === all.length - 1 ? 'output' : 'inner']));
  const byCondition = new Map<string, { config: string; ms: number; threeTier: boolean }[]>();
  for (const c of cells) {
    if (c.tag.cut2 === undefined || c.tag.metric !== 'total' || c.tag.ref !== undefined) continue;
    const key = conditionKey(c.tag.condition);
    const { cut: x, cut2: y } = c.tag;
    const threeTier = kinds.get(x) !== 'input' && kinds.get(y) !== 'output' && x !== y;
    const list = byCondition.get(key) ?? [];
    list.push({ config: `${x}|${y}`, ms: c.histogram.getValueAtPercentile(50) / 1000, threeTier });
    byCondition.set(key, list);
  }
  return [...byCondition].map(([condition, list]) => {
    const min = <T extends { ms: number }>(xs: T[]) => xs.reduce((a, b) => (b.ms < a.ms ? b : a));
    const two = list.filter((k) => !k.threeTier);
    return { condition, best: min(list), ...(two.length ? { bestTwoTier: min(two) } : {}), configs: list.length };
  });
}

export function printBestConfigs(file: string, out: NodeJS.WritableStream = process.stdout): void {
  out.write('best configuration (x|y) per condition (p50 total; dnn-report tests significance):\n');
  for (const b of bestConfigs(file)) {
    const vs = b.best.threeTier && b.bestTwoTier ? `  three-tier, ${((b.bestTwoTier.ms / b.best.ms - 1) * 100).toFixed(1)} % faster than the best two-tier ${b.bestTwoTier.config} (${b.bestTwoTier.ms.toFixed(1)} ms)` : '';
    out.write(`  ${b.condition.padEnd(62)} ${b.best.config.padEnd(36)} ${b.best.ms.toFixed(1).padStart(9)} ms of ${b.configs}${vs}\n`);
  }
}
