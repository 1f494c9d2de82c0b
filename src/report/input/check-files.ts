import { readOrNote } from '../../analysis/load-results.js';
import { checkPlans, type ChecksResult, type FileCells, type PlanFile } from '../../analysis/shard-plans.js';
import { cellKey, type AnyMetric } from '../../results/tags.js';

/** --check: each file's plan and cells (files that cannot be read are reported, not checked). */
export function checkFiles(paths: string[]): ChecksResult {
  const files: (PlanFile & { cells: FileCells; raced?: Set<string> })[] = [];
  const unreadable: string[] = [];
  for (const path of paths) {
    // a shard stopped before its first cell still says which shard it is: its cells are then missing, not its file
    const file = readOrNote(path, unreadable, 'not checked', (meta) => files.push({ path, meta, cells: new Map() }));
    if (!file) continue;
    const cells: FileCells = new Map();
    // a raced cell (dnn-edge --race) is complete with its #dnn-raced line (the reader attaches it only when its histograms follow) and all its histograms
    const raced = new Set<string>();
    for (const c of file.cells) {
      if (c.tag.ref !== undefined) continue; // a reference re-measurement (drift control), not a cell of the plan
      const key = cellKey(c.tag.condition, c.tag.cut, undefined, c.tag.codec, undefined, undefined, c.tag.cut2);
      const metrics = cells.get(key) ?? new Set<AnyMetric>();
      metrics.add(c.tag.metric);
      cells.set(key, metrics);
      if (c.raced) raced.add(key);
    }
    files.push({ path, meta: file.meta, cells, ...(raced.size ? { raced } : {}) });
  }
  const result = checkPlans(files);
  return { ...result, notes: [...unreadable, ...result.notes], complete: result.complete && unreadable.length === 0 };
}
