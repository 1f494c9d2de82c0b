/**
 * Racing replayed offline: an exhaustive results file's samples fed through the race's rules
 * (src/edge/race/race.ts deciding, the prior fitted as the sweep fits it, the run's noise pooled as the
 * sweep pools it), each cell's samples in a fresh random order per replay. Says how many samples the
 * race would have recorded and whether its best point stays in the exhaustive tie set of every
 * condition. The run's first condition has no cost model to predict it: there the sweep's prior is
 * the pilot, each arm's warm-up, which an exhaustive file does not keep; the replay draws it from the
 * cell's samples (with replacement: a warm-up is one more sample of the same cell). Later conditions
 * make no warm-ups (every arm is warm), which the warm-up count says. A condition the model cannot
 * predict but whose link came before gets the first cycle's prior (first-cycle.ts), each arm's first
 * parts drawn from its cell's part distributions (the file keeps no sample's parts together).
 * RACE_REPLAY_ARMS=1 also prints each arm's mean samples per condition (* = in the exhaustive tie set).
 * In process, seconds; no lab.
 * The figures of docs/benchmarks.md (racing with the gap rule; the pilot; racing at 3x):
 *   npx tsc -p . && node dist/bench/race-replay.js docs/data/runs/race/mobilenet-20261204T194837Z.hdr [PRIOR|off] [MIN_REPS] [REPLAYS] [pilot|nopilot]
 */
import { loadResultFiles } from '../src/analysis/load-results.js';
import { againstBest, distributionFrom, type Distribution } from '../src/analysis/significance.js';
import { PILOT_MIN_PRIOR, Race, type ArmSamples } from '../src/edge/race/race.js';
import { firstCyclePrediction, PART_NAMES, type Parts } from '../src/edge/race/first-cycle.js';
import type { CellStats } from '../src/analysis/cells.js';
import { linkKey } from '../src/conditions/condition.js';
import { NoiseEnvelope } from '../src/edge/race/noise.js';
import { RacePrior } from '../src/edge/race/sweep-race.js';
import { F32_WIRE, type Arm } from '../src/edge/arms.js';
import { rng, shuffled } from '../src/random.js';

const [file, priorArg = '2', minRepsArg = '3', replaysArg = '40', pilotArg = 'pilot'] = process.argv.slice(2);
if (!file) throw new Error('usage: race-replay FILE [PRIOR|off] [MIN_REPS] [REPLAYS] [pilot|nopilot]');
const prior = priorArg === 'off' ? null : Number(priorArg);
const settings = { minReps: Number(minRepsArg), reps: 0, confidence: 0.95, prior };
const replays = Number(replaysArg);

const net = loadResultFiles([file]).networks[0]!;
const conds = net.conditions;
const names = [...conds[0]!.cells.keys()];
const refs = new Map(net.cuts.map((c) => [c.cut, c]));
const arms: Arm[] = names.map((a) => ({ cut: { index: refs.get(a)!.index, layer: a, shape: [...(net.shapes?.get(a) ?? [])], bytes: refs.get(a)!.bytes ?? 0 }, codec: F32_WIRE }) as unknown as Arm);
const dist = (c: (typeof conds)[number], a: string): Distribution => c.cells.get(a)!.total!.dist!;
const values = (d: Distribution): number[] => d.values.flatMap((v, i) => Array<number>(d.counts[i]!).fill(v));
settings.reps = Math.min(...conds.flatMap((c) => names.map((a) => dist(c, a).n)));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length / 2) - 1]!;
// the deployed point: the baseline's (the first condition's) fastest, as the sweep has it
const deployed = names.reduce((x, y) => (conds[0]!.cells.get(y)!.total!.p50 < conds[0]!.cells.get(x)!.total!.p50 ? y : x));
const ties = conds.map((c) => {
  const best = names.reduce((x, y) => (c.cells.get(y)!.total!.p50 < c.cells.get(x)!.total!.p50 ? y : x));
  const verdicts = againstBest(new Map(names.map((a) => [a, dist(c, a)])), best, 0.95);
  return new Set(names.filter((a) => verdicts.get(a)!.tie));
});

let total = 0;
let outside = 0;
const perCondition = conds.map(() => 0);
const rules = new Map<string, number>();
const armSamples = new Map<string, number>();
for (let replay = 0; replay < replays; replay++) {
  const random = rng(replay + 1);
  const noise = new NoiseEnvelope();
  conds.forEach((c, ci) => {
    const model = prior === null ? undefined : new RacePrior(arms, prior, conds.slice(0, ci)).predict(c.condition, arms, () => {});
    // the pilot: in the first condition every arm warms up, and its warm-up is one more sample of its cell
    const pilot = prior !== null && !model && ci === 0 && pilotArg === 'pilot' ? new Map(names.map((a) => [a, values(dist(c, a))[Math.floor(random() * dist(c, a).n)]!])) : undefined;
    const streams = new Map(names.map((a) => [a, shuffled(values(dist(c, a)), random)]));
    const got = new Map(names.map((a) => [a, [] as number[]]));
    // the pilot's probes lie at least PILOT_MIN_PRIOR out (sweep-race.ts)
    const race = new Race(names, pilot ? { ...settings, prior: Math.max(prior!, PILOT_MIN_PRIOR) } : settings, model ?? pilot, ci === 0 ? undefined : deployed, noise);
    // where the model cannot predict, the first cycle scales the parts of an earlier condition with the same link (first-cycle.ts);
    // the file keeps each part's distribution, not which parts made one sample, so a first sample's parts are drawn apart
    const same = prior !== null && !model && ci > 0 && names.length > 2 ? conds.slice(0, ci).filter((e) => linkKey(e.condition) === linkKey(c.condition)).pop() : undefined;
    const partsOf = (cell: CellStats, pick: (d: Distribution) => number): Parts =>
      Object.fromEntries(PART_NAMES.map((p) => [p, cell[p]?.dist ? pick(cell[p]!.dist!) : 0])) as unknown as Parts;
    const of = (a: string): ArmSamples => ({ dist: distributionFrom(got.get(a)!), p50: median(got.get(a)!) });
    for (let ids = race.nextCycle(); ids.length > 0; ids = race.nextCycle()) {
      for (const a of ids) got.get(a)!.push(streams.get(a)![got.get(a)!.length]!);
      if (same && race.cycles === 0) {
        const before = new Map(names.map((a) => [a, partsOf(same.cells.get(a)!, (d) => median(values(d)))]));
        const first = new Map(names.map((a) => [a, partsOf(c.cells.get(a)!, (d) => values(d)[Math.floor(random() * d.n)]!)]));
        race.priorAfterFirstSamples(firstCyclePrediction(before, first), 'the first cycle');
      }
      race.endCycle(of);
    }
    for (const a of names) armSamples.set(`${ci} ${a}`, (armSamples.get(`${ci} ${a}`) ?? 0) + got.get(a)!.length);
    for (const d of race.drops) rules.set(`${d.rule}@${d.samples}`, (rules.get(`${d.rule}@${d.samples}`) ?? 0) + 1);
    for (const a of names) noise.add(distributionFrom(got.get(a)!));
    const n = [...got.values()].reduce((s, xs) => s + xs.length, 0);
    perCondition[ci]! += n;
    total += n;
    const full = names.filter((a) => got.get(a)!.length === settings.reps);
    const best = full.reduce((x, y) => (median(got.get(y)!) < median(got.get(x)!) ? y : x));
    if (!ties[ci]!.has(best)) outside++;
  });
}
const exhaustive = conds.length * names.length * settings.reps;
console.log(
  `--race-prior ${prior ?? 'off'} --min-reps ${settings.minReps}${pilotArg === 'pilot' && prior !== null ? ' (pilot)' : ''}: ${(total / replays).toFixed(1)} of ${exhaustive} samples recorded (${((exhaustive * replays) / total).toFixed(2)}x fewer), ` +
    `${names.length} warm-ups (the first condition's; ${conds.length * names.length} exhaustively); ` +
    `per condition ${perCondition.map((x) => (x / replays).toFixed(0)).join(' ')}; raced best outside the exhaustive tie set in ${outside} of ${replays * conds.length} conditions`,
);
console.log(`left the race (rule@samples, per replay): ${[...rules].sort().map(([k, v]) => `${k} ${(v / replays).toFixed(1)}`).join(', ')}`);
if (process.env.RACE_REPLAY_ARMS) {
  conds.forEach((c, ci) => {
    const best = names.reduce((x, y) => (c.cells.get(y)!.total!.p50 < c.cells.get(x)!.total!.p50 ? y : x));
    const bp = c.cells.get(best)!.total!.p50;
    console.log(`${ci}: ${names.map((a) => `${a.slice(0, 12)} ${(c.cells.get(a)!.total!.p50 / bp).toFixed(2)}${ties[ci]!.has(a) ? '*' : ''} ${((armSamples.get(`${ci} ${a}`) ?? 0) / replays).toFixed(1)}`).join(', ')}`);
  });
}
