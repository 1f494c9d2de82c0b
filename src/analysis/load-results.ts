import { basename } from 'node:path';
import type { Histogram } from 'hdr-histogram-js';
import { conditionKey, type Condition } from '../conditions/condition.js';
import { isUserError } from '../errors.js';
import { FormatError } from '../formats/check.js';
import { ResultsFileError, readMetaLine, readResultsFile, type PolicyRun, type ResultsFile } from '../results/log-reader.js';
import type { FidelityRecord, RunMetadata } from '../results/metadata.js';
import { SINGLE_SCENARIO, parseTag, type AnyMetric, type CellTag } from '../results/tags.js';
import type { FrameLine, StreamLine } from '../results/stream-lines.js';
import { newLatencyHistogram } from '../results/log-lines.js';
import { armLabel, splitArm } from './arms.js';
import { assertOnePlan, planGapNote, type PlanFile } from './shard-plans.js';
import type { RacedLine } from '../results/raced-lines.js';
import type { CellStats, ConditionData, CutRef, EdgeStream, NetworkData, RaceRun, ReferenceData, StreamCell, StreamCounts, TierPoint } from './cells.js';
import { tierLabel, tierRef } from './tier-kinds.js';
import { cellStatsOf, statsOf } from './histogram-stats.js';
import { testbedDifferences, testbedId, testbedOf, type Testbed } from './testbed.js';

/**
 * Results files -> per network, condition, point and metric statistics (histograms of the same cell
 * merged): the input of every analysis, shared by dnn-report and the run's own quick summary.
 *
 * The load scenario is a dimension beside the testbed: cells measured one request at a time
 * (`single`) and with frames in flight (`stream:15`, `max`, ...) are different measurements of the
 * same (condition, arm), so each (network, testbed, scenario) is its own group, never merged with
 * another; the report pairs a scenario's group with the `single` one of its network afterwards.
 */

export interface Loaded {
  networks: NetworkData[];
  /** one line per skipped file or line */
  problems: string[];
}

/** Counts and frames of one (condition, arm, edge) of a scenario group, gathered over its files. */
interface EdgeAcc extends StreamCounts {
  completions: number[][];
  /** this edge's own histograms (several edges only; with one edge the cell's are its own) */
  hists?: Partial<Record<AnyMetric, Histogram>>;
}

interface ConditionAcc {
  condition: Condition;
  /** arm label -> metric -> histogram (several edges: pooled) */
  cells: Map<string, Partial<Record<AnyMetric, Histogram>>>;
  startMs: number;
  endMs: number;
  /** scenario groups: arm label -> edge -> counts and frames */
  streams: Map<string, Map<number, EdgeAcc>>;
  /** raced runs: arm label -> its `#dnn-raced` line */
  raced: Map<string, RacedLine>;
  /** arms some file measured in full (no `#dnn-raced` line): merged with a raced cell of another file, not raced */
  full: Set<string>;
}

interface NetworkAcc {
  network: string;
  /** the load scenario of the group (`single`, `stream:15`, `max`, ...) */
  scenario: string;
  /** edges that measured together against one cloud (1: one edge) */
  edgeCount: number;
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
  conditions: Map<string, ConditionAcc>;
  /** every file's fidelity records */
  fidelity: FidelityRecord[];
  references: ReferenceData[];
  sources: string[];
  policyRuns: PolicyRun[];
  /** a three-tier trace replay's configurations the policies could choose (its metadata's tiers.configs) */
  policyArms?: number;
  /** camera replays of policies: their `#dnn-stream` lines */
  policyStreams: StreamLine[];
  /** each file's metadata, to refuse mixing shards of different plans */
  files: PlanFile[];
  /** raced runs: their savings, summed over files */
  race?: RaceRun;
  /** a three-tier run's cells (tags with `cut2=`): arms are configurations `x|y` */
  tiers: boolean;
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
    for (const [scenario, part] of byScenario(file)) {
      // N edges sharing the cloud is another load than one edge: a run of each N is its own group
      const edgeCount = edgesOf(part);
      // three tiers (cells with `cut2=`) are another measurement than two: their own group
      for (const [tiers, tpart] of byTiers(part)) {
        const key = `${network}\0${id ?? 'unknown'}\0${scenario}\0${edgeCount}${tiers ? '\0tiers' : ''}`;
        let acc = groups.get(key);
        if (!acc) {
          acc = { network, scenario, edgeCount, testbed: id ? known!.get(id)! : null, testbedId: id, cutIndex: new Map(), cutBytes: new Map(), cutShapes: new Map(), metaCuts: false, conditions: new Map(), fidelity: [], references: [], sources: [], policyRuns: [], policyStreams: [], files: [], tiers };
          groups.set(key, acc);
        }
        addFile(acc, path, tpart);
      }
    }
  }
  // shards of one plan merge; shards of different plans never do (one line naming two files)
  for (const acc of groups.values()) {
    assertOnePlan(acc.files);
    const gap = planGapNote(acc.files, (key) => {
      const tag = safe(() => parseTag(`${key};metric=total`));
      return tag !== undefined && acc.conditions.get(conditionKey(tag.condition))?.cells.get(armOfTag(tag))?.total !== undefined;
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

/** The scenario a cell key (a tag without `;metric=`) names: `single` when it names none. */
function scenarioOfKey(key: string): string {
  return /;scenario=([^;]+)/.exec(key)?.[1] ?? SINGLE_SCENARIO;
}

/**
 * A file's content per load scenario: its single cells (with its adaptive runs) and each scenario's
 * cells with their `#dnn-stream` and `#dnn-frame` lines. A file with no cells is one `single` part.
 */
function byScenario(file: ResultsFile): Map<string, ResultsFile> {
  const scenarios = new Set(file.cells.map((c) => c.tag.scenario ?? SINGLE_SCENARIO));
  if (scenarios.size === 0 || file.policies.length) scenarios.add(SINGLE_SCENARIO);
  const parts = new Map<string, ResultsFile>();
  for (const scenario of scenarios) {
    parts.set(scenario, {
      ...file,
      cells: file.cells.filter((c) => (c.tag.scenario ?? SINGLE_SCENARIO) === scenario),
      policies: scenario === SINGLE_SCENARIO ? file.policies : [],
      streams: file.streams.filter((l) => scenarioOfKey(l.cell) === scenario),
      frames: file.frames.filter((l) => scenarioOfKey(l.cell) === scenario),
      warnings: [],
    });
  }
  return parts;
}

/**
 * A file's two-tier and three-tier cells apart (a three-tier run writes only the latter; a file with
 * neither is one two-tier part, as before).
 */
function byTiers(file: ResultsFile): Map<boolean, ResultsFile> {
  const three = file.cells.filter((c) => cut2Of(c.tag) !== undefined);
  if (three.length === 0) return new Map([[false, file]]);
  const two = file.cells.filter((c) => cut2Of(c.tag) === undefined);
  const parts = new Map<boolean, ResultsFile>([[true, { ...file, cells: three, policies: [], streams: [], frames: [], warnings: [] }]]);
  if (two.length || file.policies.length) parts.set(false, { ...file, cells: two });
  return parts;
}

/** A three-tier cell's y (`cut2=`); undefined for a two-tier cell. */
function cut2Of(tag: CellTag): string | undefined {
  return tag.cut2;
}

/** The arm a tag's cell belongs to: the configuration `x|y` of a three-tier cell, else the (point, codec) arm. */
function armOfTag(tag: CellTag): string {
  const y = cut2Of(tag);
  return y === undefined ? armLabel(tag.cut, tag.codec) : tierLabel(tag.cut, y);
}

/** How many edges measured a scenario run together: its metadata's `edges`, else the highest `edge=` tag + 1. */
function edgesOf(file: ResultsFile): number {
  return file.meta?.edges ?? Math.max(1, ...file.cells.map((c) => (c.tag.edge ?? 0) + 1));
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
  if (file.policies.length && file.meta?.tiers) acc.policyArms = file.meta.tiers.configs;
  acc.policyStreams.push(...file.streams.filter((l) => l.cell.startsWith('policy=')));
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
        acc.references.push({ ref: cell.tag.ref, condition: cell.tag.condition, cut: armOfTag(cell.tag), startMs: cell.startMs, endMs: cell.endMs, total: statsOf(cell.histogram), source: path });
      }
      continue;
    }
    const cond = conditionOf(acc, cell.tag.condition, cell.startMs, cell.endMs);
    addCut(acc, cell.tag.cut);
    const y = cut2Of(cell.tag);
    if (y !== undefined) addCut(acc, y);
    const arm = armOfTag(cell.tag);
    if (!cell.raced) cond.full.add(arm);
    let hists = cond.cells.get(arm);
    if (!hists) {
      hists = {};
      cond.cells.set(arm, hists);
    }
    if (cell.tag.edge !== undefined && acc.scenario !== SINGLE_SCENARIO) {
      // several edges: the cell pools them (below), and each edge keeps its own copy
      const own = edgeAcc(cond.streams, arm, cell.tag.edge);
      own.hists ??= {};
      const copy = own.hists[cell.tag.metric] ?? newLatencyHistogram();
      copy.add(cell.histogram);
      own.hists[cell.tag.metric] = copy;
    }
    const prev = hists[cell.tag.metric];
    if (prev) {
      // a decoded histogram only covers its own values: let it grow to hold another file's or edge's
      prev.autoResize = true;
      prev.add(cell.histogram);
    } else hists[cell.tag.metric] = cell.histogram;
  }
  addStreams(acc, file.streams, file.frames);
  addRace(acc, file);
}

/**
 * A raced file's cells (dnn-edge --race): the `#dnn-raced` line of each raced cell joins its
 * condition, and what racing saved is counted from the histograms (never from --reps alone):
 * saved = sum over raced cells of (--reps - samples held), of an exhaustive cells x --reps.
 */
function addRace(acc: NetworkAcc, file: ResultsFile): void {
  const totals = file.cells.filter((c) => c.tag.ref === undefined && c.tag.metric === 'total');
  const raced = totals.filter((c) => c.raced);
  if (raced.length === 0 && !(file.meta && 'race' in file.meta && file.meta.race)) return;
  // --reps of the run; a file without metadata: its fullest cell's samples
  const reps = file.meta?.reps ?? Math.max(0, ...totals.map((c) => c.histogram.totalCount));
  const run = (acc.race ??= { cells: 0, raced: 0, saved: 0, exhaustive: 0 });
  run.cells += totals.length;
  run.raced += raced.length;
  run.exhaustive += totals.length * reps;
  for (const c of raced) {
    run.saved += Math.max(0, reps - c.histogram.totalCount);
    conditionOf(acc, c.tag.condition, c.startMs, c.endMs).raced.set(armLabel(c.tag.cut, c.tag.codec), c.raced!);
  }
}

function conditionOf(acc: NetworkAcc, condition: Condition, startMs: number, endMs: number): ConditionAcc {
  const key = conditionKey(condition);
  let cond = acc.conditions.get(key);
  if (!cond) {
    cond = { condition, cells: new Map(), startMs, endMs, streams: new Map(), raced: new Map(), full: new Set() };
    acc.conditions.set(key, cond);
  }
  cond.startMs = Math.min(cond.startMs, startMs);
  cond.endMs = Math.max(cond.endMs, endMs);
  return cond;
}

function edgeAcc(streams: Map<string, Map<number, EdgeAcc>>, arm: string, edge: number): EdgeAcc {
  let byEdge = streams.get(arm);
  if (!byEdge) streams.set(arm, (byEdge = new Map()));
  let e = byEdge.get(edge);
  if (!e) byEdge.set(edge, (e = { offered: 0, completed: 0, dropped: 0, refused: 0, elapsed_ms: 0, in_flight: 0, completions: [] }));
  return e;
}

/** One file's `#dnn-stream` counts (summed into their cells) and `#dnn-frame` completion times (one list per cell measured). */
function addStreams(acc: NetworkAcc, streams: StreamLine[], frames: FrameLine[]): void {
  const where = (cell: string) => {
    const tag = parseTag(`${cell};metric=total`);
    const cond = acc.conditions.get(conditionKey(tag.condition));
    return cond ? edgeAcc(cond.streams, armLabel(tag.cut, tag.codec), tag.edge ?? 0) : undefined;
  };
  for (const l of streams) {
    const e = safe(() => where(l.cell));
    if (!e) continue;
    e.offered += l.offered;
    e.completed += l.completed;
    e.dropped += l.dropped;
    e.refused += l.refused ?? 0;
    e.elapsed_ms += l.elapsed_ms;
    e.in_flight = Math.max(e.in_flight, l.in_flight ?? 0);
  }
  const byCell = new Map<string, number[]>();
  for (const f of frames) {
    const reply = f.t?.[4];
    if (f.drop || typeof reply !== 'number') continue;
    byCell.set(f.cell, [...(byCell.get(f.cell) ?? []), reply]);
  }
  for (const [cell, times] of byCell) safe(() => where(cell))?.completions.push(times.sort((a, b) => a - b));
}

/** A line whose cell key is not one of ours (or names no histogram of the file) is left out. */
function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function addCut(acc: NetworkAcc, cut: string): void {
  if (acc.cutIndex.has(cut)) return;
  const next = acc.cutIndex.size === 0 ? 0 : Math.max(...acc.cutIndex.values()) + 1;
  acc.cutIndex.set(cut, next);
}

function toNetworkData(acc: NetworkAcc): NetworkData {
  return acc.tiers ? withTierCuts(acc, toArmData(acc)) : toArmData(acc);
}

/**
 * A three-tier group: its arms are the configurations (x, y) measured, in (x, y) index order (index =
 * that order's position), and its points every partition point of the model (input first, output last).
 */
function withTierCuts(acc: NetworkAcc, data: NetworkData): NetworkData {
  const points: TierPoint[] = [...acc.cutIndex.entries()].sort((a, b) => a[1] - b[1]).map(([cut, index]) => ({ cut, index, ...(acc.cutBytes.has(cut) ? { bytes: acc.cutBytes.get(cut)! } : {}) }));
  const byName = new Map(points.map((p) => [p.cut, p]));
  const labels = new Set([...acc.conditions.values()].flatMap((c) => [...c.cells.keys()]));
  const refs = [...labels]
    .map((label) => {
      const bar = label.indexOf('|');
      return tierRef(byName.get(label.slice(0, bar))!, byName.get(label.slice(bar + 1))!, points);
    })
    .sort((a, b) => a.xIndex - b.xIndex || a.yIndex - b.yIndex);
  const cuts: CutRef[] = refs.map((t, i) => ({ cut: tierLabel(t.x, t.y), index: i, tier: t }));
  return { ...data, cuts, tiers: { points } };
}

function toArmData(acc: NetworkAcc): NetworkData {
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
    const streams = streamCells(c.streams, cells);
    const raced = new Map([...c.raced].filter(([arm]) => !c.full.has(arm)));
    return { condition: c.condition, cells, startMs: c.startMs, endMs: c.endMs, ...(streams.size ? { streams } : {}), ...(raced.size ? { raced } : {}) };
  });
  // The model's last point is its output: what the cloud sends back.
  const last = [...acc.cutIndex.entries()].sort((a, b) => a[1] - b[1]).at(-1);
  const outputBytes = last ? acc.cutBytes.get(last[0]) : undefined;
  return {
    network: acc.network,
    ...(acc.scenario === SINGLE_SCENARIO ? {} : { scenario: acc.scenario }),
    ...(acc.edgeCount > 1 ? { edgeCount: acc.edgeCount } : {}),
    cuts,
    conditions,
    sources: acc.sources,
    testbed: acc.testbed,
    testbedId: acc.testbedId,
    references: acc.references.sort((a, b) => a.startMs - b.startMs),
    ...(acc.cutShapes.size ? { shapes: acc.cutShapes } : {}),
    ...(outputBytes !== undefined ? { outputBytes } : {}),
    ...(acc.policyRuns.length ? { policyRuns: acc.policyRuns } : {}),
    ...(acc.policyArms !== undefined ? { policyArms: acc.policyArms } : {}),
    ...(acc.policyStreams.length ? { policyStreams: acc.policyStreams } : {}),
    ...(acc.fidelity.length ? { fidelity: acc.fidelity } : {}),
    ...(acc.race ? { race: acc.race } : {}),
  };
}

/** A condition's scenario cells, by arm: each edge's counts, frames and statistics (one edge: the cell's own). */
function streamCells(accs: Map<string, Map<number, EdgeAcc>>, cells: Map<string, CellStats>): Map<string, StreamCell> {
  const out = new Map<string, StreamCell>();
  for (const [arm, byEdge] of accs) {
    const edges: EdgeStream[] = [...byEdge.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([edge, { hists, ...e }]) => ({ edge, ...e, stats: hists ? cellStatsOf(hists) : (cells.get(arm) ?? {}) }));
    out.set(arm, { edges });
  }
  return out;
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
