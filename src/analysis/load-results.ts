import { basename } from 'node:path';
import type { Histogram } from 'hdr-histogram-js';
import { conditionKey, type Condition } from '../conditions/condition.js';
import { isUserError } from '../errors.js';
import { FormatError } from '../formats/check.js';
import { ResultsFileError, readMetaLine, readResultsFile, type PolicyRun, type ResultsFile } from '../results/log-reader.js';
import type { FidelityRecord, RunMetadata } from '../results/metadata.js';
import type { AnyMetric } from '../results/tags.js';
import { armLabel, splitArm } from './arms.js';
import { assertOnePlan, planGapNote, type PlanFile } from './shard-plans.js';
import type { CellStats, ConditionData, CutRef, NetworkData, ReferenceData } from './cells.js';
import { cellStatsOf, statsOf } from './histogram-stats.js';
import { testbedDifferences, testbedId, testbedOf, type Testbed } from './testbed.js';

/**
 * Results files -> per network, condition, point and metric statistics (histograms of the same cell
 * merged): the input of every analysis, shared by dnn-report and the run's own quick summary.
 */

export interface Loaded {
  networks: NetworkData[];
  /** one line per skipped file or line */
  problems: string[];
}

interface NetworkAcc {
  network: string;
  /** null: no file of this group has metadata */
  testbed: Testbed | null;
  testbedId: string | null;
  /** cut label -> index, from meta.cuts, then in order of appearance */
  cutIndex: Map<string, number>;
  /** cut label -> float32 bytes of its tensor, from meta.cuts */
  cutBytes: Map<string, number>;
  /** cut label -> shape of its tensor (batch excluded), from meta.cuts */
  cutShapes: Map<string, number[]>;
  metaCuts: boolean;
  /** keyed by arm label (armLabel: the cut, or CUT@CODEC) */
  conditions: Map<string, { condition: Condition; cells: Map<string, Partial<Record<AnyMetric, Histogram>>>; startMs: number; endMs: number }>;
  /** every file's fidelity records */
  fidelity: FidelityRecord[];
  references: ReferenceData[];
  sources: string[];
  policyRuns: PolicyRun[];
  /** each file's metadata, to refuse mixing shards of different plans */
  files: PlanFile[];
}

export function loadResultFiles(paths: string[]): Loaded {
  const problems: string[] = [];
  const files: { path: string; file: ResultsFile; network: string; testbed: Testbed | null }[] = [];
  for (const path of paths) {
    const file = readOrNote(path, problems, 'file skipped');
    if (!file) continue;
    problems.push(...file.warnings);
    const network = file.meta?.network ?? basename(path).replace(/\.hdr$/i, '');
    if (!file.meta) problems.push(`${path}: no #dnn-meta line; network named '${network}' after the file, points ordered as they appear`);
    files.push({ path, file, network, testbed: file.meta ? groupTestbed(file.meta) : null });
  }

  // Files written before threads were recorded join the one thread count their testbed otherwise ran with.
  for (const f of files) {
    if (!f.testbed || f.testbed.edge.threads !== null) continue;
    const twins = files.filter((g) => g.network === f.network && g.testbed && g.testbed.edge.threads !== null && sameButThreads(g.testbed, f.testbed!));
    const counts = new Set(twins.map((g) => g.testbed!.edge.threads));
    if (counts.size === 1) f.testbed = twins[0]!.testbed;
  }

  // Runs merge only within one testbed; a file without metadata joins its network's only testbed.
  const testbedsOf = new Map<string, Map<string, Testbed>>();
  for (const f of files) {
    if (!f.testbed) continue;
    const ids = testbedsOf.get(f.network) ?? new Map<string, Testbed>();
    ids.set(testbedId(f.testbed), f.testbed);
    testbedsOf.set(f.network, ids);
  }
  const groups = new Map<string, NetworkAcc>();
  for (const { path, file, network, testbed } of files) {
    const known = testbedsOf.get(network);
    let id = testbed ? testbedId(testbed) : null;
    if (!testbed && known?.size === 1) id = [...known.keys()][0]!;
    if (!testbed && known && known.size > 1) problems.push(`${path}: no #dnn-meta line, so its testbed is unknown; ${network} was measured on ${known.size} testbeds, so it is reported on its own`);
    const key = `${network}\0${id ?? 'unknown'}`;
    let acc = groups.get(key);
    if (!acc) {
      acc = { network, testbed: id ? known!.get(id)! : null, testbedId: id, cutIndex: new Map(), cutBytes: new Map(), cutShapes: new Map(), metaCuts: false, conditions: new Map(), fidelity: [], references: [], sources: [], policyRuns: [], files: [] };
      groups.set(key, acc);
    }
    addFile(acc, path, file);
  }
  // shards of one plan merge; shards of different plans never do (one line naming two files)
  for (const acc of groups.values()) {
    assertOnePlan(acc.files);
    const gap = planGapNote(acc.files, (key) => {
      const cut = key.lastIndexOf(';cut=');
      return acc.conditions.get(key.slice(0, cut))?.cells.get(key.slice(cut + 5))?.total !== undefined;
    });
    if (gap) problems.push(gap);
  }
  for (const [network, ids] of testbedsOf) {
    if (ids.size < 2) continue;
    const [a, b] = [...ids.values()] as [Testbed, Testbed];
    problems.push(`${network} was measured on ${ids.size} testbeds (${testbedDifferences(a, b).join(', ')}${ids.size > 2 ? ', ...' : ''}): reported side by side, never merged`);
  }
  return { networks: [...groups.values()].map(toNetworkData), problems };
}

/**
 * The testbed a file is grouped by. The shards of one plan run on N pairs by design, so their
 * host names differ: for shards, the hosts are left out of the identity (the hardware, backend,
 * limits and model still count), and the shards of one study on one class of hardware merge.
 */
function groupTestbed(meta: RunMetadata): Testbed {
  const t = testbedOf(meta);
  if (!meta.shard) return t;
  const anyHost = 'any (shards of one plan)';
  return { ...t, edge: { ...t.edge, host: anyHost }, cloud: { ...t.cloud, host: anyHost } };
}

function sameButThreads(a: Testbed, b: Testbed): boolean {
  const edge = (t: Testbed) => ({ ...t, edge: { ...t.edge, threads: null } });
  return testbedId(edge(a)) === testbedId(edge(b));
}

/** Merges one file's histograms into its group: same condition, point and metric are added together. */
function addFile(acc: NetworkAcc, path: string, file: ResultsFile): void {
  acc.sources.push(path);
  acc.files.push({ path, meta: file.meta });
  acc.policyRuns.push(...file.policies);
  acc.fidelity.push(...(file.meta?.fidelity ?? []));
  if (file.meta && !acc.metaCuts) {
    // Points appended by earlier files without meta keep their place after the model's own.
    const before = [...acc.cutIndex.keys()];
    acc.cutIndex.clear();
    for (const c of file.meta.cuts ?? []) {
      acc.cutIndex.set(c.layer, c.index);
      acc.cutBytes.set(c.layer, c.bytes);
      if (c.shape) acc.cutShapes.set(c.layer, c.shape);
    }
    acc.metaCuts = acc.cutIndex.size > 0;
    for (const cut of before) addCut(acc, cut);
  }
  for (const cell of file.cells) {
    if (cell.tag.ref !== undefined) {
      // a reference re-measurement: drift data, never merged into the cell it repeats
      if (cell.tag.metric === 'total') {
        acc.references.push({ ref: cell.tag.ref, condition: cell.tag.condition, cut: armLabel(cell.tag.cut, cell.tag.codec), startMs: cell.startMs, endMs: cell.endMs, total: statsOf(cell.histogram), source: path });
      }
      continue;
    }
    const key = conditionKey(cell.tag.condition);
    let cond = acc.conditions.get(key);
    if (!cond) {
      cond = { condition: cell.tag.condition, cells: new Map(), startMs: cell.startMs, endMs: cell.endMs };
      acc.conditions.set(key, cond);
    }
    cond.startMs = Math.min(cond.startMs, cell.startMs);
    cond.endMs = Math.max(cond.endMs, cell.endMs);
    addCut(acc, cell.tag.cut);
    const arm = armLabel(cell.tag.cut, cell.tag.codec);
    let hists = cond.cells.get(arm);
    if (!hists) {
      hists = {};
      cond.cells.set(arm, hists);
    }
    const prev = hists[cell.tag.metric];
    if (prev) prev.add(cell.histogram);
    else hists[cell.tag.metric] = cell.histogram;
  }
}

function addCut(acc: NetworkAcc, cut: string): void {
  if (acc.cutIndex.has(cut)) return;
  const next = acc.cutIndex.size === 0 ? 0 : Math.max(...acc.cutIndex.values()) + 1;
  acc.cutIndex.set(cut, next);
}

function toNetworkData(acc: NetworkAcc): NetworkData {
  // meta.cuts lists every point of the model; the report is about the measured ones (arms of a point: f32 first, then as they appear).
  const measured = new Set([...acc.conditions.values()].flatMap((c) => [...c.cells.keys()]));
  const armsOf = new Map<string, string[]>();
  for (const label of measured) {
    const { cut, codec } = splitArm(label);
    if (!acc.cutIndex.has(cut)) continue;
    armsOf.set(cut, [...(armsOf.get(cut) ?? []), ...(label === cut ? [] : [codec])]);
  }
  const cuts: CutRef[] = [...acc.cutIndex.entries()]
    .filter(([cut]) => armsOf.has(cut))
    .sort((a, b) => a[1] - b[1])
    .flatMap(([cut, index]) => {
      const bytes = acc.cutBytes.has(cut) ? { bytes: acc.cutBytes.get(cut)! } : {};
      const f32 = measured.has(cut) ? [{ cut, index, ...bytes }] : [];
      return [...f32, ...armsOf.get(cut)!.map((codec) => ({ cut: armLabel(cut, codec), index, ...bytes, point: cut, codec }))];
    });
  const conditions: ConditionData[] = [...acc.conditions.values()].map((c) => {
    const cells = new Map<string, CellStats>();
    for (const [cut, hists] of c.cells) cells.set(cut, cellStatsOf(hists));
    return { condition: c.condition, cells, startMs: c.startMs, endMs: c.endMs };
  });
  // The model's last point is its output: what the cloud sends back.
  const last = [...acc.cutIndex.entries()].sort((a, b) => a[1] - b[1]).at(-1);
  const outputBytes = last ? acc.cutBytes.get(last[0]) : undefined;
  return {
    network: acc.network,
    cuts,
    conditions,
    sources: acc.sources,
    testbed: acc.testbed,
    testbedId: acc.testbedId,
    references: acc.references.sort((a, b) => a.startMs - b.startMs),
    ...(acc.cutShapes.size ? { shapes: acc.cutShapes } : {}),
    ...(outputBytes !== undefined ? { outputBytes } : {}),
    ...(acc.policyRuns.length ? { policyRuns: acc.policyRuns } : {}),
    ...(acc.fidelity.length ? { fidelity: acc.fidelity } : {}),
  };
}

/**
 * Reads a results file; a file that gives no data is noted (with `what` happens to it), not thrown.
 * `headerOnly` takes the metadata of a file that has a plan but no measurement yet, instead.
 */
export function readOrNote(path: string, notes: string[], what: string, headerOnly?: (meta: RunMetadata) => void): ResultsFile | undefined {
  try {
    return readResultsFile(path);
  } catch (e) {
    // a file that breaks its format is the user's to fix (or a newer tool's to read): stop, do not skip it
    if (!isUserError(e) || e instanceof FormatError) throw e;
    const meta = headerOnly && e instanceof ResultsFileError && e.problem === 'no-data' ? readMetaLine(path) : undefined;
    if (meta?.plan) {
      headerOnly!(meta);
      return undefined;
    }
    notes.push(`${e.message} (${what})`);
    return undefined;
  }
}
