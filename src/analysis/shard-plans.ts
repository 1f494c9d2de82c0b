import { UserError } from '../errors.js';
import type { RunMetadata } from '../results/metadata.js';
import { ownerOf, planCellKey, type PlanRecord } from '../results/plan.js';
import { METRICS, THREE_TIER_METRICS, type AnyMetric } from '../results/tags.js';

/**
 * Plans across results files: shards of one sweep are merged, shards of different sweeps never
 * are, and `dnn-report --check` says which cells of each plan are there, missing or measured twice
 * (report/format/checks.ts prints it).
 */

export interface PlanFile {
  path: string;
  meta?: RunMetadata;
}

function describe(f: PlanFile): string {
  const m = f.meta;
  if (!m?.plan) return `${f.path} (not a shard: ${m ? 'a run without --shard' : 'no metadata'})`;
  return `${f.path} (${m.plan.network} plan ${m.plan.hash}${m.shard ? `, shard ${m.shard.index}/${m.shard.count}` : ', whole plan'})`;
}

/**
 * Files merged into one report (one network) must not mix shards of different plans, nor shards
 * with files that are not shards of the same plan: their cells would overlap or leave gaps that
 * look like data. Throws a one-line UserError naming two files that disagree.
 */
export function assertOnePlan(files: readonly PlanFile[]): void {
  const first = files.find((f) => f.meta?.shard);
  if (!first) return;
  const { plan, shard } = first.meta!;
  for (const f of files) {
    const m = f.meta;
    const same = m?.plan?.hash === plan!.hash;
    if (!same || !m?.shard) {
      throw new UserError(`${describe(first)} and ${describe(f)} are not shards of one plan: report them separately (dnn-report --check lists the plans)`);
    }
    if (m.shard.count !== shard!.count) {
      throw new UserError(`${describe(first)} and ${describe(f)} split the same plan into different numbers of shards, so their cells overlap: report shards of one split together`);
    }
  }
}

/** The cells a results file holds: cell key -> metrics present. */
export type FileCells = Map<string, Set<AnyMetric>>;

export interface PlanCheck {
  plan: PlanRecord;
  /** shard count, or 1 for runs of the whole plan */
  shards: number;
  bounds: number[];
  files: string[];
  cells: number;
  present: number;
  /** of the present cells, how many a raced sweep stopped early (complete with their `#dnn-raced` line and fewer samples than --reps) */
  raced: number;
  /** per missing cell: its key, the shard that owes it, and whether some metrics of it are there */
  missing: { key: string; shard: number; partial: boolean }[];
  duplicated: { key: string; files: string[] }[];
  /** cells in the files that the plan does not have */
  outside: number;
  /** shards of which no file was given */
  absentShards: number[];
}

export interface ChecksResult {
  plans: PlanCheck[];
  /** one line per problem that is not a cell: files without a plan, networks with several plans */
  notes: string[];
  complete: boolean;
}

/** Per plan: present, missing (with the shard that owes it) and duplicated cells. */
/** A file's cells for --check; `raced`: the keys of its raced cells (dnn-edge --race). */
export type CheckedFile = PlanFile & { cells: FileCells; raced?: ReadonlySet<string> };

export function checkPlans(files: readonly CheckedFile[]): ChecksResult {
  const notes: string[] = [];
  const groups = new Map<string, CheckedFile[]>();
  for (const f of files) {
    if (!f.meta?.plan) {
      notes.push(`${f.path}: no plan recorded (written before plans existed, or not by dnn-edge): not checked`);
      continue;
    }
    const key = `${f.meta.plan.hash}/${f.meta.shard?.count ?? 1}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const byNetwork = new Map<string, string[]>();
  for (const g of groups.values()) {
    const n = g[0]!.meta!.plan!.network;
    byNetwork.set(n, [...(byNetwork.get(n) ?? []), g[0]!.path]);
  }
  for (const [network, paths] of byNetwork) {
    if (paths.length > 1) notes.push(`${network}: ${paths.length} different plans (or splits) among the files, e.g. ${paths.join(' and ')}: dnn-report refuses to merge them`);
  }
  const plans = [...groups.values()].map(checkOne);
  const complete = notes.every((n) => !/refuses/.test(n)) && plans.every((p) => p.missing.length === 0);
  return { plans, notes, complete };
}

/**
 * A plan's cells: how many, and the key of cell i. A three-tier plan (`plan.tiers`) measures its
 * configurations `x|y` in each condition (cell i: condition floor(i / configs), configuration i % configs).
 */
function planCells(plan: PlanRecord): { count: number; key: (i: number) => string } {
  const configs = plan.tiers?.configs;
  if (!configs) return { count: plan.conditions.length * plan.cuts.length, key: (i) => planCellKey(plan, i) };
  return {
    count: plan.conditions.length * configs.length,
    key: (i) => {
      const [x, y] = configs[i % configs.length]!.split('|');
      return `${plan.conditions[Math.floor(i / configs.length)]!};cut=${x};cut2=${y}`;
    },
  };
}

/** A cell is whole with its 4 latencies; a three-tier cell (`cut2=`) with its 6 metrics. */
function whole(key: string, metrics: ReadonlySet<AnyMetric>): boolean {
  return (key.includes(';cut2=') ? THREE_TIER_METRICS : METRICS).every((m) => metrics.has(m));
}

function checkOne(group: CheckedFile[]): PlanCheck {
  const plan = group[0]!.meta!.plan!;
  const shard = group[0]!.meta!.shard;
  const { count: cells, key: keyAt } = planCells(plan);
  const bounds = shard?.bounds ?? [0, cells];
  const seen = new Map<string, { files: string[]; metrics: Set<AnyMetric>; raced: boolean }>();
  for (const f of group) {
    for (const [key, metrics] of f.cells) {
      const s = seen.get(key) ?? { files: [], metrics: new Set<AnyMetric>(), raced: false };
      // a cell counts once per file that holds all of it
      if (whole(key, metrics)) {
        s.files.push(f.path);
        if (f.raced?.has(key)) s.raced = true;
      }
      for (const m of metrics) s.metrics.add(m);
      seen.set(key, s);
    }
  }
  const missing: PlanCheck['missing'] = [];
  const duplicated: PlanCheck['duplicated'] = [];
  let present = 0;
  let raced = 0;
  const inPlan = new Set<string>();
  for (let i = 0; i < cells; i++) {
    const key = keyAt(i);
    inPlan.add(key);
    const s = seen.get(key);
    if (!s || s.files.length === 0) missing.push({ key, shard: ownerOf(bounds, i), partial: Boolean(s && s.metrics.size > 0) });
    else {
      present++;
      if (s.raced) raced++;
    }
    if (s && s.files.length > 1) duplicated.push({ key, files: s.files });
  }
  const given = new Set(group.map((f) => f.meta!.shard?.index ?? 1));
  const absentShards = Array.from({ length: bounds.length - 1 }, (_, k) => k + 1).filter((k) => !given.has(k));
  return {
    plan,
    shards: bounds.length - 1,
    bounds,
    files: group.map((f) => f.path),
    cells,
    present,
    raced,
    missing,
    duplicated,
    outside: [...seen.keys()].filter((k) => !inPlan.has(k)).length,
    absentShards,
  };
}

/**
 * One line for the report's warnings when sharded files do not cover their plan (the report still
 * covers what was measured); `has(key)` says whether a cell was measured. undefined = complete or not sharded.
 */
export function planGapNote(files: readonly PlanFile[], has: (cellKey: string) => boolean): string | undefined {
  const shard = files.find((f) => f.meta?.shard)?.meta;
  if (!shard?.plan || !shard.shard) return undefined;
  const { plan } = shard;
  const { count: cells, key: keyAt } = planCells(plan);
  const owing = new Set<number>();
  let missing = 0;
  for (let i = 0; i < cells; i++) {
    if (has(keyAt(i))) continue;
    missing++;
    owing.add(ownerOf(shard.shard.bounds, i));
  }
  if (missing === 0) return undefined;
  return `${plan.network}: plan ${plan.hash} is incomplete: ${missing} of ${cells} cells missing (owed by shard${owing.size === 1 ? '' : 's'} ${[...owing].map((k) => `${k}/${shard.shard!.count}`).join(', ')}); dnn-report --check lists them`;
}
