import { basename } from 'node:path';
import type { Histogram } from 'hdr-histogram-js';
import { conditionKey, type Condition } from '../conditions/condition.js';
import { isUserError } from '../errors.js';
import { readResultsFile, type PolicyRun } from '../results/log-reader.js';
import type { Metric } from '../results/tags.js';
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
  cutBytes: Map<string, number>;
  metaCuts: boolean;
  conditions: Map<string, { condition: Condition; cells: Map<string, Partial<Record<Metric, Histogram>>> }>;
  sources: string[];
  policyRuns: PolicyRun[];
}

export function loadResultFiles(paths: string[]): Loaded {
  const problems: string[] = [];
  const nets = new Map<string, NetworkAcc>();
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
    let acc = nets.get(network);
    if (!acc) {
      acc = { network, cutIndex: new Map(), cutBytes: new Map(), metaCuts: false, conditions: new Map(), sources: [], policyRuns: [] };
      nets.set(network, acc);
    }
    acc.sources.push(path);
    acc.policyRuns.push(...file.policies);
    if (file.meta) {
      if (acc.fingerprint !== undefined && acc.fingerprint !== file.meta.fingerprint) {
        problems.push(`${path}: ${network}'s model fingerprint differs from an earlier file's; their histograms are merged anyway`);
      }
      acc.fingerprint ??= file.meta.fingerprint;
      if (!acc.metaCuts) {
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
    .map(([cut, index]) => ({ cut, index, ...(acc.cutBytes.has(cut) ? { bytes: acc.cutBytes.get(cut)! } : {}) }))
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
  // The model's last point is its output: what the cloud sends back.
  const last = [...acc.cutIndex.entries()].sort((a, b) => a[1] - b[1]).at(-1);
  const outputBytes = last ? acc.cutBytes.get(last[0]) : undefined;
  return {
    network: acc.network,
    cuts,
    conditions,
    sources: acc.sources,
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
  };
}
