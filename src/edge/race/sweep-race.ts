import type { ConditionData } from '../../analysis/cells.js';
import { fitCostModel, predictCondition } from '../../analysis/cost-model.js';
import { cellStatsOf, statsOf } from '../../analysis/histogram-stats.js';
import { conditionKey, type Condition } from '../../conditions/condition.js';
import { errorMessage } from '../../errors.js';
import { shuffled } from '../../random.js';
import type { RacedLine } from '../../results/raced-lines.js';
import { armName, isF32, type Arm } from '../arms.js';
import type { CutRef } from '../../analysis/cells.js';
import { CellRecorder, type Sample } from '../samples.js';
import { cycleOrders } from '../schedule.js';
import { NoiseEnvelope } from './noise.js';
import { Race, type ArmSamples, type RaceSettings } from './race.js';

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

/**
 * One condition's arms raced: `warmup` unrecorded cycles of every arm (as an exhaustive sweep
 * does; but a probe of the prior whose arm ran earlier in this process skips them), then cycles of the arms still in the race, each cycle in a fresh shuffled order from
 * `random` (the condition's), one recorded sample per arm per cycle. Returns a recorder per arm
 * (in `arms` order) and, by index, the arms that left early.
 */
export async function raceArms(
  arms: readonly Arm[],
  random: () => number,
  settings: RaceSettings,
  predicted: ReadonlyMap<string, number> | undefined,
  sample: (arm: Arm) => Promise<Sample>,
  warmup: number,
  wire = false,
  /** the deployed arm: never a probe of the prior (see Race) */
  deployed?: string,
  /** the run's noise so far (the gap rule's, see Race); this condition's cells are added to it when its race ends */
  noise: NoiseEnvelope = new NoiseEnvelope(),
  /** the arms already run in this process (warm): a probe among them skips its warm-up; this condition's are added */
  warmed: Set<string> = new Set(),
  /** warm-up inferences made, added to */
  warmups: { count: number } = { count: 0 },
): Promise<{ recs: CellRecorder[]; drops: Map<number, RacedCell> }> {
  const recs = arms.map(() => new CellRecorder(wire));
  const index = new Map(arms.map((a, i) => [armName(a), i]));
  const drops = new Map<number, RacedCell>();
  try {
    const race = new Race(arms.map(armName), settings, predicted, deployed, noise);
    // a probe of the prior already run in this process skips its warm-up: its one sample decides whether it
    // leaves, and the condition's switch is warmed by the other arms' warm-ups, which all come first
    const cold = arms.filter((a) => !(race.probeRatios.has(armName(a)) && warmed.has(armName(a))));
    for (const order of cycleOrders(cold, warmup, random)) for (const arm of order) await sample(arm);
    for (const a of arms) warmed.add(armName(a));
    warmups.count += warmup * cold.length;
    for (let ids = race.nextCycle(); ids.length > 0; ids = race.nextCycle()) {
      for (const label of shuffled(ids, random)) {
        const i = index.get(label)!;
        recs[i]!.record(await sample(arms[i]!));
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
    for (const r of recs) if (r.count > 0) noise.add(statsOf(r.histograms.total).dist!);
    return { recs, drops };
  } catch (e) {
    for (const r of recs) r.destroy();
    throw e;
  }
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
   * and delay only). `note` says which, once per condition, or how many arms are probes (`deployed`, never one, left out).
   */
  predict(condition: Condition, arms: readonly Arm[], note: (line: string) => void, deployed?: string): Map<string, number> | undefined {
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
    const out = new Map(rows.filter((r) => wanted.has(r.cut)).map((r) => [r.cut, r.total_ms]));
    const best = Math.min(...out.values());
    // the deployed arm is never a probe (Race): it is not counted among them
    const far = [...out].filter(([arm, v]) => v > this.ratio * best && arm !== deployed).length;
    note(`race prior for ${label}: fitted on ${before.length} condition(s); ${far} of ${arms.length} arms predicted above ${this.ratio}x the best start with 1 sample`);
    return out;
  }
}

/** An arm as the cost model names it (as results files do): an f32 arm by its point, an encoded one POINT@CODEC. */
function armRef(a: Arm): CutRef {
  const ref = { cut: armName(a), index: a.cut.index, bytes: a.cut.bytes };
  return isF32(a.codec) ? ref : { ...ref, point: a.cut.layer, codec: a.codec.label };
}
