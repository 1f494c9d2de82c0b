import { ESTIMATE } from './shard.js';
import type { PreparedPlan } from './run-edge.js';
import { formatDuration } from './progress.js';
import type { ShardSpec } from './shard.js';

/** What --dry-run prints: the plan, its shards and the estimated time of each. Nothing is measured. */
export function formatDryRun(p: PreparedPlan, shard: ShardSpec | undefined): string {
  const { plan, partition } = p.sharded;
  const cells = plan.conditions.length * plan.cuts.length;
  // with codecs a point's cell holds its arms (point, codec): each is a results cell of its own
  const arms = p.arms.length > plan.cuts.length ? ` (${p.arms.length} arms (point, codec): ${plan.conditions.length * p.arms.length} results cells)` : '';
  const lines = [
    `plan ${plan.hash}: ${plan.network}, ${plan.conditions.length} conditions x ${plan.cuts.length} points = ${cells} cells${arms}, ${plan.reps} samples + ${plan.warmup} warm-up each`,
    `estimated at a nominal ${ESTIMATE.macsPerSecond / 1e9} GMAC/s per end and ${ESTIMATE.settleMs / 1000} s to settle each condition: use the times to compare shards, not as a promise`,
  ];
  const n = partition.bounds.length - 1;
  for (let k = 1; k <= n; k++) {
    const from = partition.bounds[k - 1]!;
    const to = partition.bounds[k]!;
    const mark = shard?.index === k ? '  <- this run' : '';
    lines.push(
      `  shard ${k}/${n}: cells ${from + 1}-${to} (${to - from}), ${partition.conditionChanges[k - 1]} condition${partition.conditionChanges[k - 1] === 1 ? '' : 's'}, ~${formatDuration(partition.predictedMs[k - 1]! / 1000)}${mark}`,
    );
  }
  const total = partition.predictedMs.reduce((a, b) => a + b, 0);
  lines.push(`total ~${formatDuration(total / 1000)}${n > 1 ? `, longest shard ~${formatDuration(Math.max(...partition.predictedMs) / 1000)}` : ''}`);
  return `${lines.join('\n')}\n`;
}
