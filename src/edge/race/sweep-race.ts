import type { ConditionData } from '../../analysis/cells.js';
import { fitCostModel, predictCondition } from '../../analysis/cost-model.js';
import { cellStatsOf, statsOf } from '../../analysis/histogram-stats.js';
import { conditionKey, linkKey, type Condition } from '../../conditions/condition.js';
import { errorMessage } from '../../errors.js';
import { shuffled } from '../../random.js';
import type { RacedLine } from '../../results/raced-lines.js';
import { armName, isF32, type Arm } from '../arms.js';
import type { CutRef } from '../../analysis/cells.js';
import { CellRecorder, type Sample } from '../samples.js';
import { cycleOrders } from '../schedule.js';
import { firstCyclePrediction, PART_NAMES, type Parts } from './first-cycle.js';
import { NoiseEnvelope } from './noise.js';
import { PILOT_MIN_PRIOR, Race, type ArmSamples, type RaceSettings } from './race.js';

export type { RaceSettings } from './race.js';
export { NoiseEnvelope } from './noise.js';

/**
 * The sweep's side of a race: measuring one condition's arms as the race (race.ts) decides, and the
 * prior it starts from (the cost model of the conditions measured so far).
 */

/** An arm that left the race: its `#dnn-raced` line (without the cell key, which the writer makes) and when. */
export interface RacedCell {
  line: Omit<RacedLine, 'cell'>;
  /** when it left (the end of its cell's interval) */
  atMs: number;
}

/** What one condition's race is run with (besides its arms and samples). */
export interface RaceRun {
  settings: RaceSettings;
  /** the cost model's predicted total per arm for this condition (RacePrior.predict); undefined: the model cannot say */
  predicted?: ReadonlyMap<string, number>;
  /**
   * where the model cannot say: the arms' parts in an earlier condition with this link (RacePrior.sameLink),
   * which the first cycle scales (first-cycle.ts); used when the arms are warm (a condition with cold arms
   * has the pilot, its warm-ups, instead) and more than 2 (a leave-one-out median needs others)
   */
  sameLink?: { label: string; parts: ReadonlyMap<string, Parts> };
  /** warm-up inferences per arm not yet run in this process */
  warmup: number;
  /** record encode, decode and bytes (a run with codecs) */
  wire?: boolean;
  /** the deployed arm: never a probe of the prior (see Race) */
  deployed?: string;
  /** the run's noise so far (the gap rule's, see Race); this condition's cells are added to it when its race ends */
  noise?: NoiseEnvelope;
  /** the arms already run in this process (warm): they skip their warm-ups; this condition's are added */
  warmed?: Set<string>;
  /** the progress's notes (the pilot, when it is the prior) */
  note?: (line: string) => void;
}

/**
 * One condition's arms raced: `warmup` unrecorded cycles of the arms not yet run in this process
 * (an arm already run is warm: its session, buffers and code paths exist; see docs/method.md, racing),
 * then cycles of the arms still in the race, each cycle in a fresh shuffled order from `random` (the
 * condition's), one recorded sample per arm per cycle. The prior is the cost model's prediction when
 * it has one; otherwise, when every arm warmed up here (the run's first condition), the pilot: each
 * arm's warm-up, as the sum of its timed parts (pilotMs). Returns a recorder per arm (in `arms`
 * order) and, by index, the arms that left early.
 */
export async function raceArms(
  arms: readonly Arm[],
  random: () => number,
  sample: (arm: Arm) => Promise<Sample>,
  run: RaceRun,
): Promise<{ recs: CellRecorder[]; drops: Map<number, RacedCell>; warmups: number }> {
  const { settings, warmup, deployed, noise = new NoiseEnvelope(), warmed = new Set<string>() } = run;
  const recs = arms.map(() => new CellRecorder(run.wire ?? false));
  const index = new Map(arms.map((a, i) => [armName(a), i]));
  const drops = new Map<number, RacedCell>();
  try {
    const cold = arms.filter((a) => !warmed.has(armName(a)));
    const pilot = new Map<string, number>();
    for (const order of cycleOrders(cold, warmup, random)) for (const arm of order) pilot.set(armName(arm), pilotMs(await sample(arm)));
    for (const a of arms) warmed.add(armName(a));
    const usePilot = !run.predicted && settings.prior !== null && pilot.size === arms.length && arms.length > 1;
    // a warm-up is one sample, and its arm's first: the pilot's probes must be predicted further out (PILOT_MIN_PRIOR)
    const pilotSettings = usePilot ? { ...settings, prior: Math.max(settings.prior!, PILOT_MIN_PRIOR) } : settings;
    const race = usePilot
      ? new Race(arms.map(armName), pilotSettings, pilot, deployed, noise, 'its warm-up (the pilot: the cost model cannot predict this condition)')
      : new Race(arms.map(armName), settings, run.predicted, deployed, noise);
    if (usePilot) run.note?.(`race prior: the pilot (each arm's warm-up) puts ${race.probeRatios.size} of ${arms.length} arms above ${pilotSettings.prior}x the best: they get 1 sample first`);
    else if (run.predicted) run.note?.(`race prior: ${race.probeRatios.size} of ${arms.length} arms predicted above ${settings.prior}x the best start with 1 sample`);
    const calibrate = !usePilot && !run.predicted && settings.prior !== null && run.sameLink && arms.length > 2 ? run.sameLink : undefined;
    const firstParts = new Map<string, Parts>();
    // the first sample of each arm that skipped its warm-up: how far the condition's switch moved it (a note at the end)
    const first = new Map<number, number>();
    const skipped = new Set(arms.filter((a) => !cold.includes(a)).map((a) => index.get(armName(a))!));
    for (let ids = race.nextCycle(); ids.length > 0; ids = race.nextCycle()) {
      for (const label of cycleOrder(ids, race, skipped.size > 0, random)) {
        const i = index.get(label)!;
        const got = await sample(arms[i]!);
        if (skipped.has(i) && !first.has(i)) first.set(i, got.total / 1000);
        if (calibrate && race.cycles === 0) firstParts.set(label, partsOf(got));
        recs[i]!.record(got);
      }
      if (calibrate && race.cycles === 0) {
        const probes = race.priorAfterFirstSamples(firstCyclePrediction(calibrate.parts, firstParts), `the other arms' first samples scaling its parts in ${calibrate.label} (the cost model cannot predict this condition)`);
        run.note?.(`race prior: the first cycle scales each arm's parts in ${calibrate.label} by the other arms' growth: ${probes} of ${arms.length} arms predicted above ${settings.prior}x the best leave if their sample agrees`);
      }
      // an arm's distribution from its histogram once per cycle: the race asks for it in every comparison
      const cycle = new Map<string, ArmSamples>();
      const of = (label: string): ArmSamples => {
        let got = cycle.get(label);
        if (!got) {
          const s = statsOf(recs[index.get(label)!]!.histograms.total);
          got = { dist: s.dist!, p50: s.p50 };
          cycle.set(label, got);
        }
        return got;
      };
      for (const d of race.endCycle(of)) {
        const { arm, ...line } = d;
        drops.set(index.get(arm)!, { line, atMs: Date.now() });
      }
    }
    const totals = recs.map((r) => (r.count > 0 ? statsOf(r.histograms.total) : undefined));
    for (const t of totals) if (t) noise.add(t.dist!);
    if (usePilot) run.note?.(pilotNote(arms.map((a, i) => [pilot.get(armName(a))!, i] as const).filter(([, i]) => recs[i]!.count >= 3).map(([ms, i]) => ms / totals[i]!.p50)));
    if (skipped.size > 0) run.note?.(warmSkipNote(skipped.size, [...first].filter(([i]) => recs[i]!.count >= 3).map(([i, ms]) => ms / totals[i]!.p50)));
    return { recs, drops, warmups: warmup * cold.length };
  } catch (e) {
    for (const r of recs) r.destroy();
    throw e;
  }
}

/**
 * A cycle's order: shuffled; but in the first cycle of a condition whose arms skipped their warm-ups,
 * the probes of the prior after the other arms (each group shuffled). A probe leaves on its one
 * sample, so it must not be the one that takes the condition's switch (a first transfer after the
 * shaping changed ran 2.3x its cell's median once in the lab); the other arms' samples take it, as
 * their warm-ups used to, where a high sample only delays drops.
 */
function cycleOrder(ids: string[], race: Race, switched: boolean, random: () => number): string[] {
  if (!switched || race.cycles > 0 || race.probeRatios.size === 0) return shuffled(ids, random);
  const probes = ids.filter((a) => race.probeRatios.has(a));
  return [...shuffled(ids.filter((a) => !race.probeRatios.has(a)), random), ...shuffled(probes, random)];
}

/** The note on the warm-ups skipped: the first samples of those arms against their cells' medians (arms with 3 samples or more). */
export function warmSkipNote(skipped: number, ratios: number[]): string {
  const spread = againstMedians(ratios);
  return `race: ${skipped} warm arm(s) skipped their warm-ups${spread ? `; their first samples were ${spread}` : ''}`;
}

/**
 * The note on the pilot: each arm's warm-up (its timed parts) against its cell's median total (arms
 * with 3 samples or more). How far a warm-up strays is what the pilot's 2x floor (PILOT_MIN_PRIOR) is for.
 */
export function pilotNote(ratios: number[]): string {
  const spread = againstMedians(ratios);
  return `race: the pilot's warm-ups were ${spread || "not comparable (no arm has 3 samples)"}`;
}

/** "1.08x their cells' medians (median of 12, 0.97-1.25x)", or '' for no ratios. */
function againstMedians(ratios: number[]): string {
  const sorted = [...ratios].sort((a, b) => a - b);
  if (sorted.length === 0) return '';
  const mid = sorted[Math.ceil(sorted.length / 2) - 1]!;
  return `${mid.toFixed(2)}x their cells' medians (median of ${sorted.length}, ${sorted[0]!.toFixed(2)}-${sorted[sorted.length - 1]!.toFixed(2)}x)`;
}

/** A sample's timed parts, ms. */
function partsOf(s: Sample): Parts {
  return { edge: s.edge / 1000, encode: s.encode / 1000, transfer: s.transfer / 1000, decode: s.decode / 1000, cloud: s.cloud / 1000 };
}

/**
 * A warm-up as the pilot's prediction, ms: the sum of its timed parts (edge, encode, transfer, decode,
 * cloud), not its end-to-end total, which in an arm's first run also holds creating its session (ONNX
 * Runtime's first run of a session is made unmeasured inside the edge's timing, so the parts are warm).
 */
export function pilotMs(s: Sample): number {
  const parts = partsOf(s);
  return PART_NAMES.reduce((sum, p) => sum + parts[p], 0);
}

/**
 * The prior of a race: the cost model (src/analysis/cost-model.ts, the one `dnn-report --predict`
 * fits) refitted once per condition on every condition measured so far in this run (and, resumed,
 * those in the file), predicting the next condition's arms. Cells are kept as statistics (medians),
 * not histograms, so a long sweep holds little.
 */
export class RacePrior {
  private readonly measured = new Map<string, ConditionData>();

  constructor(
    private readonly arms: readonly Arm[],
    readonly ratio: number,
    history: readonly ConditionData[] = [],
  ) {
    for (const c of history) this.measured.set(conditionKey(c.condition), c);
  }

  /** Keeps a condition's cells just measured (before their histograms are freed). */
  keep(condition: Condition, arms: readonly Arm[], recs: readonly CellRecorder[]): void {
    const key = conditionKey(condition);
    const c = this.measured.get(key) ?? { condition, cells: new Map() };
    this.measured.delete(key); // re-inserted below: the map's order is the order of measuring (sameLink takes the last)
    arms.forEach((a, i) => {
      const stats = cellStatsOf(recs[i]!.histograms);
      for (const m of Object.values(stats)) delete m.dist; // medians are all the model uses
      c.cells.set(armName(a), stats);
    });
    this.measured.set(key, c);
  }

  /**
   * Each arm's predicted total (ms) under `condition`, or undefined when the model cannot say: no
   * condition measured yet, a stress level never measured, jitter or loss (the model covers rate
   * and delay only). `note` says which, or that it predicts (raceArms says how many arms are probes).
   */
  predict(condition: Condition, arms: readonly Arm[], note: (line: string) => void): Map<string, number> | undefined {
    const label = conditionKey(condition);
    // conditions measured before this one (a resumed condition's own cells are not a prediction of it)
    const before = [...this.measured.values()].filter((c) => conditionKey(c.condition) !== label);
    if (before.length === 0) return undefined;
    const sorted = [...this.arms].sort((a, b) => a.cut.index - b.cut.index);
    const model = fitCostModel(
      { network: 'race', cuts: sorted.map(armRef), shapes: new Map(sorted.map((a) => [a.cut.layer, a.cut.shape])), conditions: before, sources: [] },
      'p50',
    );
    if ('reason' in model) {
      note(`race prior: none for ${label} (${model.reason})`);
      return undefined;
    }
    let rows;
    try {
      rows = predictCondition(model, condition);
    } catch (e) {
      note(`race prior: none for ${label} (${errorMessage(e).replace(/^--predict: /, '')})`);
      return undefined;
    }
    const wanted = new Set(arms.map(armName));
    note(`race prior for ${label}: the cost model fitted on ${before.length} condition(s)`);
    return new Map(rows.filter((r) => wanted.has(r.cut)).map((r) => [r.cut, r.total_ms]));
  }

  /**
   * Where the model cannot predict `condition`: each arm's parts (medians, ms) in the condition last
   * measured with the same link, for the first cycle to scale (first-cycle.ts); undefined when none
   * has it (or when the model can predict, which the caller asks first).
   */
  sameLink(condition: Condition): { label: string; parts: Map<string, Parts> } | undefined {
    const key = conditionKey(condition);
    const link = linkKey(condition);
    const earlier = [...this.measured.values()].filter((c) => conditionKey(c.condition) !== key && linkKey(c.condition) === link);
    const last = earlier[earlier.length - 1];
    if (!last) return undefined;
    const parts = new Map<string, Parts>();
    for (const [arm, stats] of last.cells) {
      if (!stats.edge || !stats.transfer || !stats.cloud) continue;
      parts.set(arm, Object.fromEntries(PART_NAMES.map((p) => [p, stats[p]?.p50 ?? 0])) as unknown as Parts);
    }
    return { label: conditionKey(last.condition), parts };
  }
}

/** An arm as the cost model names it (as results files do): an f32 arm by its point, an encoded one POINT@CODEC. */
function armRef(a: Arm): CutRef {
  const ref = { cut: armName(a), index: a.cut.index, bytes: a.cut.bytes };
  return isF32(a.codec) ? ref : { ...ref, point: a.cut.layer, codec: a.codec.label };
}
