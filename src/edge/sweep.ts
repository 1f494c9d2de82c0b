import { conditionKey, type Condition } from '../conditions/condition.js';
import type { CutPoint } from '../model/partition.js';
import type { SplitRunner } from '../engine/split-runner.js';
import { cellKey, type Metric } from '../results/tags.js';
import type { CellHistograms } from '../results/log-lines.js';
import { F32_WIRE, armName, armsOf, hasEncodedArms, isF32, type Arm } from './arms.js';
import { LinkFailure, type CloudLink } from './cloud-link.js';
import { measureOnce, type SampleInput } from './measure.js';
import type { ProgressSink } from './progress.js';
import { CellRecorder, type Sample } from './samples.js';
import { conditionRandom, cycleOrders, runSteps } from './schedule.js';
import { shuffled } from '../random.js';
import { arrivalSeed } from './stream/arrivals.js';
import { measureStreamCell, type StreamCell } from './stream/cell.js';
import { DEFAULT_IN_FLIGHT, isPipelined, scenarioLabel, type PipelinedScenario, type Scenario } from './stream/scenario.js';
import type { StreamCellText } from '../results/log-writer.js';
import type { RacedLine } from '../results/raced-lines.js';
import { NoiseEnvelope, RacePrior, raceArms, type RaceSettings } from './race/sweep-race.js';
import type { ConditionData } from '../analysis/cells.js';

/** Puts conditions in effect around the measurements (shaping, edge stress, cloud stress). */
export interface ConditionController {
  /** resolves once the condition is actually in effect */
  apply(c: Condition): Promise<void>;
  /** ends the stress of the current condition (shaping may stay until the next apply) */
  release(): Promise<void>;
}

/** Where finished cells go: the results file (one fsynced write per cell). */
export interface CellSink {
  /** ref: a re-measurement of the reference cell (drift control), tagged apart; codec: the arm's, undefined or f32 = raw */
  appendCell(condition: Condition, cut: string, histograms: CellHistograms, startMs: number, endMs: number, ref?: number, codec?: string, edge?: number, raced?: Omit<RacedLine, 'cell'>): Promise<void>;
  /** a scenario cell: its `#dnn-stream` line, histograms and `#dnn-frame` lines in one write (needed by runs with a scenario) */
  appendStreamCell?(cell: StreamCellText): Promise<void>;
}

export interface SweepPlan {
  /** in run order (schedule.orderConditions): the first is the baseline, whose best point is the reference */
  conditions: Condition[];
  cuts: CutPoint[];
  /** the (point, codec) arms to measure, in point order (arms.ts armsOf); default: every point raw (f32) */
  arms?: Arm[];
  reps: number;
  warmup: number;
  /** cells (and references, with their ref number) already in the results file (--resume): skipped */
  done: ReadonlySet<string>;
  /** seed of the point order within each condition (recorded in the metadata) */
  seed: number;
  /** measure the reference cell again every this many conditions (0 = never) */
  referenceEvery: number;
  /** the reference arm (armName) when already known (a resumed run whose baseline is measured); else the baseline's best as measured */
  referenceCut?: string;
  /** this shard's cells (--shard), by (condition, point): a shard measures every arm of its points; undefined = every cell */
  owned?: ReadonlySet<string>;
  /** --scenario: the load each cell is measured under (default single: one request at a time, interleaved rep by rep) */
  scenario?: Scenario;
  /** --in-flight: the cap on frames in flight of a scenario cell (default DEFAULT_IN_FLIGHT) */
  inFlight?: number;
  /** the run's --seed: scenario cells draw their Poisson arrivals from it (and the cell), so reruns offer the same */
  arrivalSeed?: number;
  /** this edge's number in a run of several edges (lab --edges N, N > 1): its cells are tagged `;edge=I`; undefined with one edge */
  edgeIndex?: number;
  /** --race: each condition's arms are raced (src/edge/race/); undefined: every arm gets every rep */
  race?: RaceSettings;
  /** --race with the prior, resumed: the conditions already in the results file, which the prior is fitted on too */
  raceHistory?: ConditionData[];
}

export interface SweepDeps {
  runner: SplitRunner;
  link: CloudLink;
  /** the inputs samples cycle through: sample i of the sweep (warm-ups included) takes inputs[i % n] */
  inputs: readonly SampleInput[];
  sink: CellSink;
  controller: ConditionController;
  progress: ProgressSink;
  /**
   * Several edges on one cloud (lab --edges N): awaited just before each scenario cell's first frame
   * (warm-up included) and each reference cell, with the condition's key (conditionKey) and the arm
   * (armName), so that every edge process starts the same cell together; it resolves when all have
   * arrived. Undefined: no one to wait for. A cell measured again after a link failure waits again.
   * A single run (arms interleaved rep by rep) waits once per condition, with arm '*', and before
   * each reference cell with its arm.
   */
  cellBarrier?: (conditionKey: string, arm: string) => Promise<void>;
}

export interface SweepStats {
  cells: number;
  samples: number;
  /** samples thrown away and redone after a failure of the link */
  retries: number;
  /** transfer times below zero recorded as zero */
  clamped: number;
  /** reference measurements taken (drift control) */
  references: number;
  /** the reference arm, as armName() ('' when none was measured) */
  referenceCut: string;
  /** --race: cells written with fewer than --reps samples (dropped from the race) */
  raced: number;
  /** --race: warm-up inferences of the raced conditions (a probe already warm skips its own) */
  warmups?: number;
}

/** The key of an arm's cell: a (condition, point) key for f32, with its codec otherwise, the scenario of a scenario run and the edge of a run of several. */
function armKey(c: Condition, arm: Arm, plan: SweepPlan, ref?: number): string {
  const scenario = plan.scenario && isPipelined(plan.scenario) ? scenarioLabel(plan.scenario) : undefined;
  return cellKey(c, arm.cut.layer, ref, arm.codec.label, scenario, plan.edgeIndex);
}

/** Where the sweep is in its inputs (frame i of the sweep is inputs[i % n]). */
interface Cursor {
  next: number;
}

/**
 * The benchmark loop: for every condition, put it in effect, then measure its points not yet
 * measured, interleaved rep by rep in a shuffled order per cycle; the condition's cells go to the
 * sink once their samples are complete, so a killed run keeps every finished condition (a cell is
 * complete when its samples are). Between conditions, the reference cell is measured again.
 */
export async function runSweep(plan: SweepPlan, deps: SweepDeps): Promise<SweepStats> {
  if (deps.inputs.length === 0) throw new Error('bug: a sweep needs at least one input');
  const stats: SweepStats = { cells: 0, samples: 0, retries: 0, clamped: 0, references: 0, referenceCut: plan.referenceCut ?? '', raced: 0 };
  const arms = plan.arms ?? armsOf(plan.cuts, [F32_WIRE], [F32_WIRE]);
  const wire = hasEncodedArms(arms);
  const cursor: Cursor = { next: 0 };
  const mine = (c: Condition) => (plan.owned ? arms.filter((a) => plan.owned!.has(cellKey(c, a.cut.layer))) : arms);
  const todo = (c: Condition) => mine(c).filter((a) => !plan.done.has(armKey(c, a, plan)));
  const total = plan.conditions.reduce((n, c) => n + mine(c).length, 0);
  deps.progress.start(total, total - plan.conditions.reduce((n, c) => n + todo(c).length, 0));
  const baseline = plan.conditions[0];
  const scenario = plan.scenario && isPipelined(plan.scenario) ? plan.scenario : undefined;
  const ctx: MeasureContext = { plan, deps, stats, wire, cursor, scenario };
  // the race's prior: the cost model fitted on the conditions measured so far (kept as statistics, not histograms)
  const prior = plan.race && plan.race.prior !== null && !scenario ? new RacePrior(arms, plan.race.prior, plan.raceHistory) : undefined;
  const noise = new NoiseEnvelope(); // the race's gap rule: the noise of the cells measured so far
  const warmed = new Set<string>(); // the race: arms run in this process (they skip their warm-ups)
  let warmups = 0;

  for (const step of runSteps(plan.conditions, plan.referenceEvery)) {
    if (step.kind === 'reference') {
      await measureReference(step.ref, baseline!, arms, ctx);
      continue;
    }
    const { condition } = step;
    const left = todo(condition);
    if (left.length === 0) continue;
    const label = conditionKey(condition);
    await deps.controller.apply(condition);
    try {
      if (scenario) {
        await measureStreamCells(condition, left, scenario, ctx);
        continue;
      }
      const unit = arms.length > plan.cuts.length ? 'arms' : 'points';
      deps.progress.cellStarted(label, left.length > 1 ? `${left.length} ${unit} interleaved` : armName(left[0]!));
      await deps.cellBarrier?.(label, '*');
      const random = conditionRandom(plan.seed, condition);
      const note = (line: string) => deps.progress.note(line);
      const deployed = stats.referenceCut || undefined;
      const predicted = plan.race ? prior?.predict(condition, left, note) : undefined;
      const sameLink = plan.race && !predicted ? prior?.sameLink(condition) : undefined;
      const raced = plan.race
        ? await raceArms(left, random, (arm) => sampleWithRetry(arm, ctx), { settings: plan.race, predicted, sameLink, warmup: plan.warmup, wire, deployed, noise, warmed, note })
        : undefined;
      if (raced) warmups += raced.warmups;
      const recs = raced ? raced.recs : await measureInterleaved(left, random, ctx);
      try {
        for (const [i, arm] of left.entries()) {
          const rec = recs[i]!;
          const drop = raced?.drops.get(i);
          await deps.sink.appendCell(condition, arm.cut.layer, rec.histograms, rec.startMs, drop?.atMs ?? Date.now(), undefined, codecOf(arm), plan.edgeIndex, drop?.line);
          stats.cells++;
          stats.samples += rec.count;
          stats.clamped += rec.clamped;
          if (drop) stats.raced++;
          deps.progress.cellDone(label, armName(arm), `${summarise(rec)}${drop ? ` (left the race: ${drop.line.rule}, slower than ${drop.line.best})` : ''}`);
        }
        prior?.keep(condition, left, recs);
        const survivors = left.map((_, i) => i).filter((i) => !raced?.drops.has(i));
        if (condition === baseline && !stats.referenceCut && left.length === arms.length) stats.referenceCut = fastest(survivors.map((i) => left[i]!), survivors.map((i) => recs[i]!));
      } finally {
        for (const r of recs) r.destroy();
      }
    } finally {
      await deps.controller.release();
    }
  }
  deps.progress.finish();
  if (plan.race) stats.warmups = warmups;
  return stats;
}

/** The codec a cell is tagged with: none for f32 (as before codecs existed). */
function codecOf(arm: Arm): string | undefined {
  return isF32(arm.codec) ? undefined : arm.codec.label;
}

interface MeasureContext {
  plan: SweepPlan;
  deps: SweepDeps;
  stats: SweepStats;
  /** record encode, decode and bytes (a run with codecs) */
  wire: boolean;
  cursor: Cursor;
  /** the run's scenario when it has frames in flight (undefined: single) */
  scenario?: PipelinedScenario;
}

/** The arm with the lowest median total: the deployed arm a report would choose at the baseline. */
function fastest(arms: Arm[], recs: CellRecorder[]): string {
  let best = 0;
  const p50 = (r: CellRecorder) => r.histograms.total.getValueAtPercentile(50);
  recs.forEach((r, i) => {
    if (p50(r) < p50(recs[best]!)) best = i;
  });
  return armName(arms[best]!);
}

/** The reference cell once more (drift control): the baseline condition, the reference arm alone. */
async function measureReference(ref: number, baseline: Condition, arms: Arm[], ctx: MeasureContext): Promise<void> {
  const { plan, deps, stats } = ctx;
  const arm = arms.find((a) => armName(a) === stats.referenceCut);
  if (!arm || plan.done.has(armKey(baseline, arm, plan, ref))) return;
  await deps.controller.apply(baseline);
  try {
    if (ctx.scenario) {
      const cell = await streamCellWithRetry(baseline, arm, ctx.scenario, ctx);
      const summary = await writeStreamCell(baseline, arm, cell, ctx, ref);
      stats.references++;
      deps.progress.note(`reference ${ref} (${armName(arm)} at the baseline): ${summary}`);
      return;
    }
    await deps.cellBarrier?.(conditionKey(baseline), armName(arm));
    const [rec] = await measureInterleaved([arm], () => 0, ctx);
    try {
      await deps.sink.appendCell(baseline, arm.cut.layer, rec!.histograms, rec!.startMs, Date.now(), ref, codecOf(arm), plan.edgeIndex);
      stats.references++;
      deps.progress.note(`reference ${ref} (${armName(arm)} at the baseline): ${summarise(rec!)}`);
    } finally {
      rec!.destroy();
    }
  } finally {
    await deps.controller.release();
  }
}

/**
 * A condition's scenario cells: its arms one after the other in a shuffled order (seeded by the run
 * and the condition, so a resumed run draws the same), each a stream of warm-up then recorded
 * frames, written as soon as it is measured.
 */
async function measureStreamCells(condition: Condition, left: Arm[], scenario: PipelinedScenario, ctx: MeasureContext): Promise<void> {
  const { plan, deps, stats } = ctx;
  const label = conditionKey(condition);
  const best: { arm: Arm; p50: number }[] = [];
  for (const arm of shuffled(left, conditionRandom(plan.seed, condition))) {
    deps.progress.cellStarted(label, `${armName(arm)} ${scenarioLabel(scenario)}`);
    const cell = await streamCellWithRetry(condition, arm, scenario, ctx);
    best.push({ arm, p50: cell.stream.completed > 0 ? cell.recorder.histograms.total.getValueAtPercentile(50) : Infinity });
    const summary = await writeStreamCell(condition, arm, cell, ctx);
    stats.cells++;
    deps.progress.cellDone(label, armName(arm), summary);
  }
  const baseline = plan.conditions[0];
  if (condition === baseline && !stats.referenceCut && left.length === (plan.arms ?? left).length && best.length > 0) {
    stats.referenceCut = armName(best.reduce((a, b) => (b.p50 < a.p50 ? b : a)).arm);
  }
}

/** Writes a scenario cell and frees its histograms; returns its progress summary. */
async function writeStreamCell(condition: Condition, arm: Arm, cell: StreamCell, ctx: MeasureContext, ref?: number): Promise<string> {
  const { deps, plan, stats } = ctx;
  const summary = summariseStream(cell);
  if (!deps.sink.appendStreamCell) throw new Error('bug: a scenario run needs a sink that writes scenario cells');
  const wall = Date.now() - performance.now();
  try {
    await deps.sink.appendStreamCell({
      condition,
      cut: arm.cut.layer,
      codec: codecOf(arm),
      ref,
      scenario: cell.stream.scenario,
      edge: plan.edgeIndex,
      histograms: cell.recorder.histograms,
      startMs: wall + cell.firstMs,
      endMs: wall + cell.lastMs,
      stream: cell.stream,
      frames: cell.frames,
    });
    stats.samples += cell.recorder.count;
    stats.clamped += cell.recorder.clamped;
    return summary;
  } finally {
    cell.recorder.destroy();
  }
}

/**
 * One scenario cell, measured again from scratch after a link failure (reconnect first), as a
 * single request is redone; the barrier (several edges) is awaited before every attempt.
 */
async function streamCellWithRetry(condition: Condition, arm: Arm, scenario: PipelinedScenario, ctx: MeasureContext): Promise<StreamCell> {
  const { plan, deps, stats, cursor } = ctx;
  const frames = plan.warmup + plan.reps;
  let failures = 0;
  for (;;) {
    await deps.cellBarrier?.(conditionKey(condition), armName(arm));
    const firstInput = cursor.next;
    cursor.next += frames;
    try {
      return await measureStreamCell(deps.runner, deps.link, arm, deps.inputs, {
        scenario,
        warmup: plan.warmup,
        reps: plan.reps,
        inFlight: plan.inFlight ?? DEFAULT_IN_FLIGHT,
        seed: arrivalSeed(plan.arrivalSeed ?? plan.seed, armKey(condition, arm, plan)),
        wire: ctx.wire,
        edge: plan.edgeIndex ?? 0,
        cloudStress: { cpu: condition.ccpu, mem: condition.cmem },
        firstInput,
      });
    } catch (e) {
      if (!(e instanceof LinkFailure) || ++failures > MAX_CONSECUTIVE_FAILURES) {
        if (e instanceof LinkFailure) throw new LinkFailure(`cell ${armName(arm)} failed ${MAX_CONSECUTIVE_FAILURES} times in a row, last: ${e.message}`, e.reason);
        throw e;
      }
      stats.retries++;
      deps.progress.note(`${armName(arm)}: a frame failed (${e.message}); reconnecting to measure the cell again from scratch`);
      await deps.link.reconnect();
    }
  }
}

function summariseStream(cell: StreamCell): string {
  const s = cell.stream;
  const h = cell.recorder.histograms.total;
  const ms = (p: number) => (s.completed > 0 ? (h.getValueAtPercentile(p) / 1000).toFixed(1) : '-');
  const drop = s.offered > 0 ? ((100 * s.dropped) / s.offered).toFixed(1) : '0.0';
  return `${s.fps.toFixed(1)} frames/s, ${drop} % dropped${s.refused ? ` (${s.refused} refused by the cloud)` : ''}, total p50 ${ms(50)} ms p99 ${ms(99)} ms (${s.completed} of ${s.offered} frames)`;
}

/** A sample failing this many times in a row is not a passing fault: the run stops. */
const MAX_CONSECUTIVE_FAILURES = 10;

/** The sweep's measurement of arms: measureCycles with the run's recorders, each sample taking the sweep's next input. */
function measureInterleaved(arms: Arm[], random: () => number, ctx: MeasureContext): Promise<CellRecorder[]> {
  return measureCycles(arms, ctx.plan, random, () => new CellRecorder(ctx.wire), (arm) => sampleWithRetry(arm, ctx));
}

/**
 * `warmup` unrecorded cycles through the items, then `reps` recorded ones, each cycle in a fresh
 * shuffled order, one sample per item per cycle into the item's recorder (all freed when a sample
 * throws). Shared with the three-tier sweep.
 */
export async function measureCycles<T, S, R extends { record(s: S): void; destroy(): void }>(
  items: readonly T[],
  counts: { warmup: number; reps: number },
  random: () => number,
  recorder: () => R,
  sample: (item: T) => Promise<S>,
): Promise<R[]> {
  const recs = items.map(recorder);
  const index = new Map(items.map((item, i) => [item, i]));
  const cycles = [...cycleOrders(items, counts.warmup, random).map((order) => ({ order, record: false })), ...cycleOrders(items, counts.reps, random).map((order) => ({ order, record: true }))];
  try {
    for (const { order, record } of cycles) {
      for (const item of order) {
        const s = await sample(item);
        if (record) recs[index.get(item)!]!.record(s);
      }
    }
    return recs;
  } catch (e) {
    for (const r of recs) r.destroy();
    throw e;
  }
}

async function sampleWithRetry(arm: Arm, ctx: MeasureContext): Promise<Sample> {
  const { deps, stats, cursor } = ctx;
  const input = deps.inputs[cursor.next++ % deps.inputs.length]!;
  return redoOnLinkFailure(`point ${armName(arm)}`, deps, () => stats.retries++, () => measureOnce(deps.runner, deps.link, arm, input));
}

/**
 * One sample, redone after a reconnect when the link fails (reconnect throws GiveUp once the peer
 * stays away past --give-up); MAX_CONSECUTIVE_FAILURES in a row stop the run. Shared with the three-tier sweep.
 */
export async function redoOnLinkFailure<T>(what: string, deps: { link: CloudLink; progress: ProgressSink }, retried: () => void, sample: () => Promise<T>): Promise<T> {
  let failures = 0;
  for (;;) {
    try {
      return await sample();
    } catch (e) {
      if (!(e instanceof LinkFailure) || ++failures > MAX_CONSECUTIVE_FAILURES) {
        if (e instanceof LinkFailure) throw new LinkFailure(`${what} failed ${MAX_CONSECUTIVE_FAILURES} times in a row, last: ${e.message}`, e.reason);
        throw e;
      }
      retried();
      deps.progress.note(`${what.replace(/^point /, '')}: sample failed (${e.message}); reconnecting to redo it`);
      await deps.link.reconnect();
    }
  }
}

function summarise(rec: CellRecorder): string {
  const ms = (m: Metric) => (rec.histograms[m].getValueAtPercentile(50) / 1000).toFixed(1);
  const h = rec.histograms;
  // encode and decode are times; bytes is a size, shown as such
  const wire = h.encode && h.decode && h.bytes ? `, encode ${(h.encode.getValueAtPercentile(50) / 1000).toFixed(1)}, decode ${(h.decode.getValueAtPercentile(50) / 1000).toFixed(1)}, ${h.bytes.getValueAtPercentile(50)} bytes` : '';
  return `total ${ms('total')} ms (edge ${ms('edge')}, transfer ${ms('transfer')}, cloud ${ms('cloud')}${wire}) p50 of ${rec.count}`;
}
