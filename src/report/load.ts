import { basename } from 'node:path';
import { JsHistogram, type Histogram } from 'hdr-histogram-js';
import { conditionKey, type Condition } from '../conditions/condition.js';
import { isUserError } from '../errors.js';
import { readResultsFile, type PolicyRun, type ResultsFile } from '../results/log-reader.js';
import type { Metric } from '../results/tags.js';
import type { CellStats, ConditionData, CutRef, MetricStats, NetworkData, ReferenceData } from './model.js';
import type { Distribution } from './significance.js';
import { testbedDifferences, testbedId, testbedOf, type Testbed } from './testbed.js';

/** Results files -> per network, condition, point and metric statistics (histograms of the same cell merged). */

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
  metaCuts: boolean;
  conditions: Map<string, { condition: Condition; cells: Map<string, Partial<Record<Metric, Histogram>>>; startMs: number; endMs: number }>;
  references: ReferenceData[];
  sources: string[];
  policyRuns: PolicyRun[];
}

export function loadResultFiles(paths: string[]): Loaded {
  const problems: string[] = [];
  const files: { path: string; file: ResultsFile; network: string; testbed: Testbed | null }[] = [];
  for (const path of paths) {
    let file;
    try {
      file = readResultsFile(path);
    } catch (e) {
      if (!isUserError(e)) throw e;
      problems.push(`${e.message} (file skipped)`);
      continue;
    }
    problems.push(...file.warnings);
    const network = file.meta?.network ?? basename(path).replace(/\.hdr$/i, '');
    if (!file.meta) problems.push(`${path}: no #dnn-meta line; network named '${network}' after the file, points ordered as they appear`);
    files.push({ path, file, network, testbed: file.meta ? testbedOf(file.meta) : null });
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
      acc = { network, testbed: id ? known!.get(id)! : null, testbedId: id, cutIndex: new Map(), cutBytes: new Map(), metaCuts: false, conditions: new Map(), references: [], sources: [], policyRuns: [] };
      groups.set(key, acc);
    }
    addFile(acc, path, file);
  }
  for (const [network, ids] of testbedsOf) {
    if (ids.size < 2) continue;
    const [a, b] = [...ids.values()] as [Testbed, Testbed];
    problems.push(`${network} was measured on ${ids.size} testbeds (${testbedDifferences(a, b).join(', ')}${ids.size > 2 ? ', ...' : ''}): reported side by side, never merged`);
  }
  return { networks: [...groups.values()].map(toNetworkData), problems };
}

/** Merges one file's histograms into its group: same condition, point and metric are added together. */
function addFile(acc: NetworkAcc, path: string, file: ResultsFile): void {
  acc.sources.push(path);
  acc.policyRuns.push(...file.policies);
  if (file.meta && !acc.metaCuts) {
    // Points appended by earlier files without meta keep their place after the model's own.
    const before = [...acc.cutIndex.keys()];
    acc.cutIndex.clear();
    for (const c of file.meta.cuts ?? []) {
      acc.cutIndex.set(c.layer, c.index);
      acc.cutBytes.set(c.layer, c.bytes);
    }
    acc.metaCuts = acc.cutIndex.size > 0;
    for (const cut of before) addCut(acc, cut);
  }
  for (const cell of file.cells) {
    if (cell.tag.ref !== undefined) {
      // a reference re-measurement: drift data, never merged into the cell it repeats
      if (cell.tag.metric === 'total') {
        acc.references.push({ ref: cell.tag.ref, condition: cell.tag.condition, cut: cell.tag.cut, startMs: cell.startMs, endMs: cell.endMs, total: statsOf(cell.histogram), source: path });
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
    .map(([cut, index]) => ({ cut, index, ...(acc.cutBytes.has(cut) ? { bytes: acc.cutBytes.get(cut)! } : {}) }))
    .sort((a, b) => a.index - b.index);
  const conditions: ConditionData[] = [...acc.conditions.values()].map((c) => {
    const cells = new Map<string, CellStats>();
    for (const [cut, hists] of c.cells) {
      const stats: CellStats = {};
      for (const [metric, h] of Object.entries(hists) as [Metric, Histogram][]) stats[metric] = statsOf(h);
      cells.set(cut, stats);
    }
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
    ...(outputBytes !== undefined ? { outputBytes } : {}),
    ...(acc.policyRuns.length ? { policyRuns: acc.policyRuns } : {}),
  };
}

/** Statistics of a histogram of microseconds, in milliseconds. */
export function statsOf(h: Histogram): MetricStats {
  return {
    p50: h.getValueAtPercentile(50) / 1000,
    p95: h.getValueAtPercentile(95) / 1000,
    mean: h.mean / 1000,
    samples: h.totalCount,
    dist: distributionOf(h),
  };
}

/** Every recorded value of a histogram of microseconds (in ms) with its count: what significance tests need. */
export function distributionOf(h: Histogram): Distribution {
  if (!(h instanceof JsHistogram)) throw new Error('distributionOf: expected a JS histogram (results are decoded without WebAssembly)');
  const values: number[] = [];
  const counts: number[] = [];
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    values.push(h.medianEquivalentValue(v.valueIteratedTo) / 1000);
    counts.push(v.countAtValueIteratedTo);
  }
  return { values, counts, n: h.totalCount };
}
