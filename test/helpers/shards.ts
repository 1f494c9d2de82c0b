import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Condition } from '../../src/conditions/condition.js';
import { cellText, headerText } from '../../src/results/log-lines.js';
import { planRecord } from '../../src/edge/shard.js';
import { planCellKey, cellAt } from '../../src/results/plan.js';
import { cellHistograms, sampleMeta } from './results.js';

export interface SyntheticPlan {
  network: string;
  conditions: Condition[];
  cuts: string[];
  reps: number;
  /** shard boundaries in cells (length shards+1) */
  bounds: number[];
  /** cell keys to leave out (a deleted cell) */
  skip?: Set<string>;
  /** each shard on its own pair of hosts (edge-K, cloud-K), as on a real testbed */
  ownHosts?: boolean;
}

/**
 * Writes one results file per shard of a plan, as dnn-edge --shard k/N would, with made-up but
 * plausible latencies (the total is smallest in the middle of the model). Returns the paths.
 */
export function writeShardFiles(dir: string, p: SyntheticPlan): string[] {
  const plan = planRecord({ network: p.network, fingerprint: 'test', conditions: p.conditions, cuts: p.cuts, reps: p.reps, warmup: 1 });
  const n = p.bounds.length - 1;
  const base = Date.parse('2026-01-01T00:00:00Z');
  const files: string[] = [];
  for (let k = 1; k <= n; k++) {
    const base0 = sampleMeta(p.network, p.cuts);
    const hosts = p.ownHosts ? { edge: { ...base0.edge, host: `edge-${k}` }, cloud: { ...base0.cloud, host: `cloud-${k} (10.0.0.${k}:5000)` } } : {};
    const meta = { ...base0, ...hosts, reps: p.reps, plan, shard: { index: k, count: n, bounds: p.bounds, predicted_s: 1 } };
    const parts = [headerText(meta, base)];
    for (let i = p.bounds[k - 1]!; i < p.bounds[k]!; i++) {
      if (p.skip?.has(planCellKey(plan, i))) continue;
      const { condition, cut } = cellAt(plan, i);
      const c = p.conditions[condition]!;
      const x = cut / Math.max(1, p.cuts.length - 1);
      const edge = 1 + 40 * x * (1 + c.ecpu / 100);
      const transfer = (1 - x) * (200 / (c.net ?? 1000));
      const cloud = 2 + 10 * (1 - x) * (1 + c.ccpu / 100);
      parts.push(cellText(base, c, p.cuts[cut]!, cellHistograms({ edge, transfer, cloud, total: edge + transfer + cloud }, p.reps), base + i, base + i + 1));
    }
    const file = path.join(dir, `${p.network}-s${k}-of-${n}.hdr`);
    writeFileSync(file, parts.join(''));
    files.push(file);
  }
  return files;
}
