import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { NO_CONDITION, type Condition } from '../../conditions/condition.js';
import { UserError } from '../../errors.js';
import type { CellStats, ConditionData, CutRef, MetricStats, NetworkData } from '../../analysis/cells.js';

/**
 * The published tool's outputs: `outputs_<model>/weights_ABCDE.txt`, one file per condition, digits
 * = level indices of A network rate, B cloud CPU, C edge memory, D cloud memory, E edge CPU; each
 * line `total edge cloud cut` in seconds, cut = the point's integer ordinal (kept as the label).
 */

export const LEGACY_RATES_MBIT = [50, 25, 10] as const;
export const LEGACY_STRESS_PCT = [0, 50, 100] as const;

const FILE = /^weights_([0-2])([0-2])([0-2])([0-2])([0-2])\.txt$/;
const NUM = '([0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)';
const LINE = new RegExp(`^\\s*${NUM}\\s+${NUM}\\s+${NUM}\\s+(\\d+)\\s*$`);

/** The condition a file name stands for, or undefined when the name is not weights_ABCDE.txt. */
export function legacyCondition(fileName: string): Condition | undefined {
  const m = FILE.exec(fileName);
  if (!m) return undefined;
  const [a, b, c, d, e] = m.slice(1).map(Number) as [number, number, number, number, number];
  return {
    ...NO_CONDITION,
    net: LEGACY_RATES_MBIT[a]!,
    ccpu: LEGACY_STRESS_PCT[b]!,
    emem: LEGACY_STRESS_PCT[c]!,
    cmem: LEGACY_STRESS_PCT[d]!,
    ecpu: LEGACY_STRESS_PCT[e]!,
  };
}

/** One line of a file: the point's stats (one averaged sample each), or an error message. */
export function parseLegacyLine(line: string): { cut: string; ordinal: number; cell: CellStats } | string {
  const m = LINE.exec(line);
  if (!m) return `expected 'total edge cloud cut' (3 numbers in seconds and an integer), got '${line.length > 60 ? `${line.slice(0, 57)}...` : line}'`;
  const [total, edge, cloud] = [m[1], m[2], m[3]].map((v) => Number(v) * 1000) as [number, number, number];
  const one = (ms: number): MetricStats => ({ p50: ms, p95: ms, mean: ms, samples: 1 });
  return { cut: String(Number(m[4])), ordinal: Number(m[4]), cell: { total: one(total), edge: one(edge), cloud: one(cloud), transfer: one(total - edge - cloud) } };
}

/**
 * Reads DIR: either one `outputs_<model>` folder or a folder holding several. Malformed lines and
 * unexpected files are reported as `file:line: ...` and skipped; only "nothing usable" is an error.
 */
export function readLegacyDir(dir: string): { networks: NetworkData[]; problems: string[] } {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new UserError(`--legacy ${dir} is not a directory; give the folder holding outputs_<model>/ (or one outputs_<model> folder)`);
    entries = readdirSync(dir);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`--legacy ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : String(e)}`);
  }
  const folders = basename(dir).startsWith('outputs_') ? [dir] : entries.filter((e) => e.startsWith('outputs_')).sort().map((e) => join(dir, e));
  if (folders.length === 0) throw new UserError(`--legacy ${dir}: no outputs_<model> folder in it (the published tool writes outputs_<model>/weights_ABCDE.txt)`);
  const problems: string[] = [];
  const networks: NetworkData[] = [];
  for (const folder of folders) {
    const net = readModelFolder(folder, problems);
    if (net.conditions.length > 0) networks.push(net);
    else problems.push(`${folder}: no usable weights_ABCDE.txt file; skipped`);
  }
  return { networks, problems };
}

function readModelFolder(folder: string, problems: string[]): NetworkData {
  const network = basename(folder).replace(/^outputs_/, '');
  const cuts = new Map<string, number>();
  const conditions: ConditionData[] = [];
  for (const name of readdirSync(folder).sort()) {
    const path = join(folder, name);
    const condition = legacyCondition(name);
    if (!condition) {
      problems.push(`${path}: not a weights_ABCDE.txt file (digits 0-2); skipped`);
      continue;
    }
    const cells = new Map<string, CellStats>();
    readFileSync(path, 'utf8')
      .split(/\r?\n/)
      .forEach((line, i) => {
        if (line.trim() === '') return;
        const parsed = parseLegacyLine(line);
        if (typeof parsed === 'string') return problems.push(`${path}:${i + 1}: ${parsed}; line skipped`);
        if (cells.has(parsed.cut)) return problems.push(`${path}:${i + 1}: point ${parsed.cut} appears twice; the first is kept`);
        cells.set(parsed.cut, parsed.cell);
        cuts.set(parsed.cut, parsed.ordinal);
      });
    if (cells.size > 0) conditions.push({ condition, cells });
    else problems.push(`${path}: no usable line; skipped`);
  }
  const cutList: CutRef[] = [...cuts.entries()].map(([cut, index]) => ({ cut, index })).sort((a, b) => a.index - b.index);
  return { network, cuts: cutList, conditions, sources: [folder] };
}
