import { basename } from 'node:path';
import type { Histogram } from 'hdr-histogram-js';
import { conditionKey, type Condition } from '../conditions/condition.js';
import { isUserError } from '../errors.js';
import { ResultsFileError, readMetaLine, readResultsFile, type ResultsFile } from '../results/log-reader.js';
import type { RunMetadata } from '../results/metadata.js';
import { cellKey, type Metric } from '../results/tags.js';
import { assertOnePlan, checkPlans, planGapNote, type ChecksResult, type FileCells, type PlanFile } from './plans.js';
import type { CellStats, ConditionData, CutRef, MetricStats, NetworkData } from './model.js';

/** Results files -> per network, condition, point and metric statistics (histograms of the same cell merged). */

export interface Loaded {
  networks: NetworkData[];
  /** one line per skipped file or line */
  problems: string[];
}

interface NetworkAcc {
  network: string;
  fingerprint?: string;
  /** cut label -> index, from meta.cuts, then in order of appearance */
  cutIndex: Map<string, number>;
  metaCuts: boolean;
  conditions: Map<string, { condition: Condition; cells: Map<string, Partial<Record<Metric, Histogram>>> }>;
  sources: string[];
  /** each file's metadata, to refuse mixing shards of different plans */
  files: PlanFile[];
}

export function loadResultFiles(paths: string[]): Loaded {
  const problems: string[] = [];
  const nets = new Map<string, NetworkAcc>();
  for (const path of paths) {
    const file = readOrNote(path, problems, 'file skipped');
    if (!file) continue;
    problems.push(...file.warnings);
    const network = file.meta?.network ?? basename(path).replace(/\.hdr$/i, '');
    if (!file.meta) problems.push(`${path}: no #dnn-meta line; network named '${network}' after the file, points ordered as they appear`);
    let acc = nets.get(network);
    if (!acc) {
      acc = { network, cutIndex: new Map(), metaCuts: false, conditions: new Map(), sources: [], files: [] };
      nets.set(network, acc);
    }
    acc.sources.push(path);
    acc.files.push({ path, meta: file.meta });
    if (file.meta) {
      if (acc.fingerprint !== undefined && acc.fingerprint !== file.meta.fingerprint) {
        problems.push(`${path}: ${network}'s model fingerprint differs from an earlier file's; their histograms are merged anyway`);
      }
      acc.fingerprint ??= file.meta.fingerprint;
      if (!acc.metaCuts) {
        // Points appended by earlier files without meta keep their place after the model's own.
        const before = [...acc.cutIndex.keys()];
        acc.cutIndex.clear();
        for (const c of file.meta.cuts ?? []) acc.cutIndex.set(c.layer, c.index);
        acc.metaCuts = acc.cutIndex.size > 0;
        for (const cut of before) addCut(acc, cut);
      }
    }
    for (const cell of file.cells) {
      const key = conditionKey(cell.tag.condition);
      let cond = acc.conditions.get(key);
      if (!cond) {
        cond = { condition: cell.tag.condition, cells: new Map() };
        acc.conditions.set(key, cond);
      }
      addCut(acc, cell.tag.cut);
      let hists = cond.cells.get(cell.tag.cut);
      if (!hists) {
        hists = {};
        cond.cells.set(cell.tag.cut, hists);
      }
      const prev = hists[cell.tag.metric];
      if (prev) prev.add(cell.histogram);
      else hists[cell.tag.metric] = cell.histogram;
    }
  }
  for (const acc of nets.values()) {
    assertOnePlan(acc.files);
    const gap = planGapNote(acc.files, (key) => {
      const cut = key.lastIndexOf(';cut=');
      return acc.conditions.get(key.slice(0, cut))?.cells.get(key.slice(cut + 5))?.total !== undefined;
    });
    if (gap) problems.push(gap);
  }
  return { networks: [...nets.values()].map(toNetworkData), problems };
}

function addCut(acc: NetworkAcc, cut: string): void {
  if (acc.cutIndex.has(cut)) return;
  const next = acc.cutIndex.size === 0 ? 0 : Math.max(...acc.cutIndex.values()) + 1;
  acc.cutIndex.set(cut, next);
}

function toNetworkData(acc: NetworkAcc): NetworkData {
  // meta.cuts lists every point of the model; the report is about the measured ones.
  const measured = new Set([...acc.conditions.values()].flatMap((c) => [...c.cells.keys()]));
  const cuts: CutRef[] = [...acc.cutIndex.entries()]
    .filter(([cut]) => measured.has(cut))
    .map(([cut, index]) => ({ cut, index }))
    .sort((a, b) => a.index - b.index);
  const conditions: ConditionData[] = [...acc.conditions.values()].map((c) => {
    const cells = new Map<string, CellStats>();
    for (const [cut, hists] of c.cells) {
      const stats: CellStats = {};
      for (const [metric, h] of Object.entries(hists) as [Metric, Histogram][]) stats[metric] = statsOf(h);
      cells.set(cut, stats);
    }
    return { condition: c.condition, cells };
  });
  return { network: acc.network, cuts, conditions, sources: acc.sources };
}

/** The parts of hdr-histogram-js's JsHistogram that statsOf walks (not in its public typings). */
interface CountsAccess {
  countsArrayIndex(value: number): number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
  minNonZeroValue: number;
  maxValue: number;
}

/**
 * Statistics of a histogram of microseconds, in milliseconds. The library's getValueAtPercentile
 * and mean each walk the whole counts array from value 0; a report merges tens of thousands of
 * histograms (a VGG16 study: 22356), so this walks once, from the smallest to the largest recorded
 * value, with the library's own rounding (the results are identical; a test compares them).
 */
export function statsOf(h: Histogram): MetricStats {
  const a = h as unknown as CountsAccess;
  const total = h.totalCount;
  if (total === 0 || typeof a.countsArrayIndex !== 'function' || typeof a.getCountAtIndex !== 'function') return libraryStats(h);
  const at = (pct: number) => {
    const fp = (pct / 100) * total;
    return Math.max(Math.ceil(fp - 2 ** (Math.floor(Math.log2(fp)) - 52)), 1);
  };
  const want50 = at(50);
  const want95 = at(95);
  let p50 = 0;
  let p95 = 0;
  let sum = 0;
  let seen = 0;
  const last = a.countsArrayIndex(a.maxValue);
  for (let i = a.countsArrayIndex(a.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : a.minNonZeroValue); i <= last; i++) {
    const n = a.getCountAtIndex(i);
    if (n === 0) continue;
    const top = a.highestEquivalentValue(a.valueFromIndex(i));
    sum += a.medianEquivalentValue(top) * n;
    const before = seen;
    seen += n;
    if (before < want50 && seen >= want50) p50 = top;
    if (before < want95 && seen >= want95) p95 = top;
  }
  if (seen !== total) return libraryStats(h); // zeros recorded (below minNonZeroValue): let the library count them
  return { p50: p50 / 1000, p95: p95 / 1000, mean: sum / total / 1000, samples: total };
}

function libraryStats(h: Histogram): MetricStats {
  return {
    p50: h.getValueAtPercentile(50) / 1000,
    p95: h.getValueAtPercentile(95) / 1000,
    mean: h.mean / 1000,
    samples: h.totalCount,
  };
}

/** --check: each file's plan and cells (files that cannot be read are reported, not checked). */
export function checkFiles(paths: string[]): ChecksResult {
  const files: (PlanFile & { cells: FileCells })[] = [];
  const unreadable: string[] = [];
  for (const path of paths) {
    // a shard stopped before its first cell still says which shard it is: its cells are then missing, not its file
    const file = readOrNote(path, unreadable, 'not checked', (meta) => files.push({ path, meta, cells: new Map() }));
    if (!file) continue;
    const cells: FileCells = new Map();
    for (const c of file.cells) {
      const key = cellKey(c.tag.condition, c.tag.cut);
      const metrics = cells.get(key) ?? new Set<Metric>();
      metrics.add(c.tag.metric);
      cells.set(key, metrics);
    }
    files.push({ path, meta: file.meta, cells });
  }
  const result = checkPlans(files);
  return { ...result, notes: [...unreadable, ...result.notes], complete: result.complete && unreadable.length === 0 };
}

/**
 * Reads a results file; a file that gives no data is noted (with `what` happens to it), not thrown.
 * `headerOnly` takes the metadata of a file that has a plan but no measurement yet, instead.
 */
function readOrNote(path: string, notes: string[], what: string, headerOnly?: (meta: RunMetadata) => void): ResultsFile | undefined {
  try {
    return readResultsFile(path);
  } catch (e) {
    if (!isUserError(e)) throw e;
    const meta = headerOnly && e instanceof ResultsFileError && e.problem === 'no-data' ? readMetaLine(path) : undefined;
    if (meta?.plan) {
      headerOnly!(meta);
      return undefined;
    }
    notes.push(`${e.message} (${what})`);
    return undefined;
  }
}
