import { rng } from '../random.js';
import { UserError } from '../errors.js';
import type { CutPoint } from './partition.js';

/**
 * Three tiers (device, edge, cloud): a configuration is two partition points x <= y. The device
 * computes up to x, the edge tier after x up to y (nothing when x = y: it forwards), the cloud after
 * y (nothing when y is the output point). Pure functions.
 */
export interface TierConfig {
  x: CutPoint;
  y: CutPoint;
}

/** The configurations every study keeps, whatever --max-configs samples: one tier does everything. */
export type PureConfig = 'device-only' | 'edge-only' | 'cloud-only';

/** The arm key of a configuration in tags' sense, logs and the report: `x|y` (`|` never appears in a layer name). */
export function configLabel(c: TierConfig): string {
  return `${c.x.layer}|${c.y.layer}`;
}

/** Which tier alone computes, or undefined when two or three do. */
export function pureConfig(c: TierConfig): PureConfig | undefined {
  if (c.x.kind === 'output') return 'device-only';
  if (c.x.kind === 'input' && c.y.kind === 'output') return 'edge-only';
  if (c.x.kind === 'input' && c.y.kind === 'input') return 'cloud-only';
  return undefined;
}

/** All three tiers compute: input < x < y < output. */
export function isThreeTier(c: TierConfig): boolean {
  return c.x.kind !== 'input' && c.y.kind !== 'output' && c.x.layer !== c.y.layer;
}

/**
 * Every (x, y) pair of `points` with x <= y in partition order ((x, y) order: x outer), the
 * "tier unused" ones included. `maxConfigs` samples that many uniformly (seeded by `seed`), always
 * keeping the pure configurations present among the points (device-only, edge-only, cloud-only); the
 * sample keeps the (x, y) order. Points are taken in index order whatever order they are given in.
 */
export function enumerateConfigs(points: readonly CutPoint[], o: { maxConfigs?: number; seed?: number } = {}): TierConfig[] {
  const ordered = points.map((p, i) => ({ p, i })).sort((a, b) => a.p.index - b.p.index || a.i - b.i).map((e) => e.p);
  const all: TierConfig[] = [];
  ordered.forEach((x, i) => {
    for (const y of ordered.slice(i)) all.push({ x, y });
  });
  const max = o.maxConfigs;
  if (max === undefined || max >= all.length) return all;
  const kept = new Set(all.filter((c) => pureConfig(c) !== undefined));
  const rest = all.filter((c) => !kept.has(c));
  const random = rng(o.seed ?? 0);
  // a partial Fisher-Yates: the first (max - pure) of a seeded shuffle of the others
  const want = Math.max(0, max - kept.size);
  for (let i = 0; i < want && i < rest.length; i++) {
    const j = i + Math.floor(random() * (rest.length - i));
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
    kept.add(rest[i]!);
  }
  return all.filter((c) => kept.has(c));
}

/** How many configurations `n` points give: n (n + 1) / 2. */
export function configCount(n: number): number {
  return (n * (n + 1)) / 2;
}

/**
 * The points a three-tier study builds its configurations from: the selected ones plus the input
 * and output points (so the pure configurations, one tier doing everything, are always among them).
 */
export function tierPoints(all: readonly CutPoint[], selected: readonly CutPoint[]): CutPoint[] {
  const ends = all.filter((p) => p.kind === 'input' || p.kind === 'output');
  return all.filter((p) => selected.includes(p) || ends.includes(p));
}

/**
 * `--configs x|y,...` against the network's points: each name a point (name or index, as --cuts
 * takes them), x no later than y; one-line UserErrors otherwise. In the order given, duplicates dropped.
 */
export function resolveConfigs(points: readonly CutPoint[], labels: readonly string[], networkArg: string): TierConfig[] {
  const find = (name: string) => {
    const n = name.trim();
    const p = /^-?\d+$/.test(n) ? points.find((c) => c.index === Number(n)) : points.find((c) => c.layer === n);
    if (!p) throw new UserError(`--configs: '${n}' is not a partition point of this network; \`dnn-cut ${networkArg}\` lists them (names or indices)`);
    return p;
  };
  const out: TierConfig[] = [];
  for (const label of labels) {
    const [a, b] = label.split('|') as [string, string];
    const x = find(a);
    const y = find(b);
    if (points.indexOf(x) > points.indexOf(y)) throw new UserError(`--configs: '${label}' has x after y (${x.layer} comes after ${y.layer}): the device computes up to x, the edge tier from x to y; give ${y.layer}|${x.layer}`);
    if (!out.some((c) => c.x === x && c.y === y)) out.push({ x, y });
  }
  return out;
}
