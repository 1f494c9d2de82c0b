import { conditionKey, type Condition } from '../conditions/condition.js';
import type { CellStats, ConditionData, EdgeStream, NetworkData, StreamCell } from './cells.js';
import type { EdgeCell, EdgeReport, EdgeScalingRow, FpsModel, FpsModelArm, FpsRef, NetworkReport, PointRow, QueueCheck, StreamAnswer } from './findings.js';
import { fitCostModel, predictCondition, type CostModel } from './cost-model.js';
import { median } from './stats.js';
import { bestFps, fpsEstimate, fpsInterval, fpsTieSet, quantileOf, shortPercentiles, sumEstimates, LOADGEN_MIN_SAMPLES, type FpsEstimate } from './stream-stats.js';
import { isPoisson, offeredRate, pipelineFps, sharedCloud, type StageTimes } from './stream-model.js';

/**
 * The report's figures for scenario runs (frames in flight): per cell frames/s, drops, tail
 * percentiles and queueing; per condition the best arm for frames/s (and for p99 at a rate); per
 * edge the same figures; and, paired with a single run of the same network, the answer for streams
 * and the pipeline model against the measurement. Pure functions of the loaded data.
 */

/** A stream / server arm "keeps up" when it drops at most this fraction of the frames offered. */
export const KEEPS_UP = 0.01;

/** One arm's counts and frames/s over its edges. */
function armFigures(cell: StreamCell, confidence: number) {
  const per = cell.edges.map((e) => ({ e, est: fpsEstimate(e.completed, e.elapsed_ms, e.completions) }));
  const est = sumEstimates(per.map((p) => p.est));
  const frames = sumFrames(cell.edges);
  return { est, interval: fpsInterval(est, confidence), frames, per };
}

function sumFrames(edges: readonly EdgeStream[]) {
  const sum = (k: 'offered' | 'completed' | 'dropped' | 'refused') => edges.reduce((s, e) => s + e[k], 0);
  return { offered: sum('offered'), completed: sum('completed'), dropped: sum('dropped'), refused: sum('refused') };
}

const dropFraction = (f: { offered: number; dropped: number }) => (f.offered > 0 ? f.dropped / f.offered : 0);

/** p90 / p99 of a cell's total, ms; null when no distribution was recorded. */
function tail(stats: CellStats, q: number): number | null {
  const d = stats.total?.dist;
  return d && d.n > 0 ? quantileOf(d, q) : null;
}

function queues(stats: CellStats): { edge: number | null; cloud: number | null } {
  return { edge: stats.queue_edge?.p50 ?? null, cloud: stats.queue_cloud?.p50 ?? null };
}

/**
 * A scenario run's report with its stream figures: every row gains scenario, fps (with interval and
 * fps tie), drops, p90/p99 and queueing; every condition its best arm for frames/s (and for p99 at
 * a stream's or server's rate); the network its edges (several), in-flight cap and the warnings of
 * percentiles that rest on fewer samples than LoadGen's minimum.
 */
export function withStreams(report: NetworkReport, data: NetworkData, confidence: number): NetworkReport {
  const scenario = data.scenario!;
  const byKey = new Map(data.conditions.map((c) => [conditionKey(c.condition), c]));
  const rate = offeredRate(scenario);
  let short = { p90: 0, p99: 0, cells: 0, fewest: Infinity };
  let inFlight = 0;
  let edgeCount = 0;
  const edges = new Map<number, EdgeCell[]>();
  const conditions = report.conditions.map((c) => {
    const cond = byKey.get(c.key);
    if (!cond?.streams) return c;
    const ests = new Map<string, FpsEstimate>();
    const cuts: PointRow[] = c.cuts.map((r) => {
      const cell = cond.streams!.get(r.cut);
      const stats = cond.cells.get(r.cut) ?? {};
      if (!cell) return { ...r, scenario };
      const fig = armFigures(cell, confidence);
      ests.set(r.cut, fig.est);
      inFlight = Math.max(inFlight, ...cell.edges.map((e) => e.in_flight));
      edgeCount = Math.max(edgeCount, cell.edges.length);
      const samples = stats.total?.samples ?? 0;
      short = countShort(short, samples);
      if (cell.edges.length > 1) for (const p of fig.per) edges.set(p.e.edge, [...(edges.get(p.e.edge) ?? []), edgeCell(c.key, r.cut, p.e, p.est, confidence)]);
      return {
        ...r,
        scenario,
        fps: fig.est.fps,
        fps_low: fig.interval.low,
        fps_high: fig.interval.high,
        fps_tie: null,
        drop_fraction: dropFraction(fig.frames),
        frames: fig.frames,
        p90_ms: tail(stats, 0.9) ?? r.total_ms,
        p99_ms: tail(stats, 0.99) ?? r.total_ms,
        queue_ms: queues(stats),
      };
    });
    if (ests.size === 0) return { ...c, cuts };
    const ties = fpsTieSet(ests, confidence);
    for (const r of cuts) if (r.fps !== undefined) r.fps_tie = ties ? ties.includes(r.cut) : null;
    const best = cuts.find((r) => r.cut === bestFps(ests))!;
    return { ...c, cuts, best_fps: fpsRef(best), fps_tie_set: ties, best_p99: rate === null ? null : bestP99(cuts) };
  });
  const warnings: string[] = [];
  if (short.p90 || short.p99) {
    warnings.push(
      `${report.network} [${scenario}]: of ${short.cells} cell(s), ${short.p99} have p99 on fewer than ${LOADGEN_MIN_SAMPLES.p99} completed frames and ${short.p90} p90 on fewer than ${LOADGEN_MIN_SAMPLES.p90} (MLPerf LoadGen's minimums; fewest ${short.fewest}): raise --reps`,
    );
  }
  return {
    ...report,
    scenario,
    in_flight: inFlight,
    edge_count: data.edgeCount ?? Math.max(1, edgeCount),
    conditions,
    ...(edges.size ? { edges: [...edges.entries()].sort((a, b) => a[0] - b[0]).map(([edge, cells]): EdgeReport => ({ edge, cells })) } : {}),
    sample_warnings: warnings,
  };
}

function countShort(s: { p90: number; p99: number; cells: number; fewest: number }, samples: number) {
  const which = shortPercentiles(samples);
  return { p90: s.p90 + (which.includes('p90') ? 1 : 0), p99: s.p99 + (which.includes('p99') ? 1 : 0), cells: s.cells + 1, fewest: Math.min(s.fewest, samples) };
}

function edgeCell(condition: string, cut: string, e: EdgeStream, est: FpsEstimate, confidence: number): EdgeCell {
  const frames = sumFrames([e]);
  const { low, high } = fpsInterval(est, confidence);
  return {
    condition,
    cut,
    fps: est.fps,
    fps_low: low,
    fps_high: high,
    drop_fraction: dropFraction(frames),
    frames,
    p50_ms: e.stats.total?.p50 ?? null,
    p90_ms: tail(e.stats, 0.9),
    p99_ms: tail(e.stats, 0.99),
    queue_ms: queues(e.stats),
  };
}

function fpsRef(r: PointRow): FpsRef {
  return { cut: r.cut, fps: r.fps!, fps_low: r.fps_low ?? null, fps_high: r.fps_high ?? null };
}

/** Among the arms that keep up (drop at most KEEPS_UP), the lowest p99; null when none does. */
function bestP99(rows: PointRow[]): { cut: string; p99_ms: number } | null {
  let best: PointRow | undefined;
  for (const r of rows) if (r.p99_ms !== undefined && (r.drop_fraction ?? 1) <= KEEPS_UP && (!best || r.p99_ms < best.p99_ms!)) best = r;
  return best ? { cut: best.cut, p99_ms: best.p99_ms! } : null;
}

/** Each row's predicted frames/s from the model (null where the single run gives no stage times). */
export function withPredictedFps(report: NetworkReport, model: FpsModel | null): NetworkReport {
  const predicted = new Map((model?.arms ?? []).map((a) => [`${a.condition}\0${a.cut}`, a.predicted_fps]));
  return { ...report, conditions: report.conditions.map((c) => ({ ...c, cuts: c.cuts.map((r) => (r.fps === undefined ? r : { ...r, predicted_fps: predicted.get(`${c.key}\0${r.cut}`) ?? null })) })) };
}

/**
 * --predict beside a scenario run: every predicted condition's arms get the frames/s the pipeline
 * model gives from their predicted stage times (one edge, `inFlight` frames in flight), and the
 * condition its best arm for frames/s (no interval: a prediction).
 */
export function withPredictedPipeline(report: NetworkReport, inFlight: number): NetworkReport {
  const conditions = report.conditions.map((c) => {
    const cuts = c.cuts.map((r) => {
      if (r.edge_ms === null || r.transfer_ms === null || r.cloud_ms === null) return r;
      const stages = { edge: r.edge_ms + (r.encode_ms ?? 0), transfer: r.transfer_ms, cloud: r.cloud_ms + (r.decode_ms ?? 0) };
      return { ...r, predicted_fps: pipelineFps(stages, inFlight).fps };
    });
    const best = cuts.filter((r) => r.predicted_fps != null).reduce<PointRow | undefined>((a, b) => (!a || b.predicted_fps! > a.predicted_fps! ? b : a), undefined);
    return best ? { ...c, cuts, best_fps: { cut: best.cut, fps: best.predicted_fps!, fps_low: null, fps_high: null } } : { ...c, cuts };
  });
  return { ...report, conditions };
}

/**
 * The answer for streams: per condition of a scenario run, its best arm for frames/s (and p99) beside
 * the best arm of the single run at the same condition (`single`: its report, null when there is none).
 */
export function streamAnswers(scenario: NetworkReport, single: NetworkReport | null): StreamAnswer[] {
  const out: StreamAnswer[] = [];
  for (const c of scenario.conditions) {
    if (!c.best_fps) continue;
    const s = single?.conditions.find((x) => x.key === c.key && x.predicted === undefined);
    const latency = s ? { ...s.best } : null;
    const ties = c.fps_tie_set ?? null;
    out.push({
      condition: c.key,
      best_latency: latency,
      best_fps: c.best_fps,
      fps_tie_set: ties,
      best_p99: c.best_p99 ?? null,
      differ: latency ? latency.cut !== c.best_fps.cut : null,
      differ_significant: latency && ties ? !ties.includes(latency.cut) : null,
      differ_p99: latency && c.best_p99 ? latency.cut !== c.best_p99.cut : null,
    });
  }
  return out;
}

/** Mean stage times of a single run's cell: edge (+ encode), transfer, cloud (+ decode). */
function measuredStages(cell: CellStats | undefined): StageTimes | undefined {
  if (!cell?.edge || !cell.transfer || !cell.cloud) return undefined;
  return { edge: cell.edge.mean + (cell.encode?.mean ?? 0), transfer: cell.transfer.mean, cloud: cell.cloud.mean + (cell.decode?.mean ?? 0) };
}

/** Stage times of an arm at a condition: the single run's cell, else the cost model fitted on the single run (means). */
function stagesOf(single: NetworkData, model: CostModel | undefined, condition: Condition, arm: string): { stages: StageTimes; source: 'measured' | 'cost model' } | undefined {
  const cell = single.conditions.find((c) => conditionKey(c.condition) === conditionKey(condition))?.cells.get(arm);
  const measured = measuredStages(cell);
  if (measured) return { stages: measured, source: 'measured' };
  if (!model) return undefined;
  try {
    const p = predictCondition(model, condition).find((x) => x.cut === arm);
    return p ? { stages: { edge: p.edge_ms + p.encode_ms, transfer: p.transfer_ms, cloud: p.cloud_ms + p.decode_ms }, source: 'cost model' } : undefined;
  } catch {
    return undefined; // a stress level the single run never measured
  }
}

/**
 * The pipeline model (src/analysis/stream-model.ts) with stage times from the single run, against
 * the scenario run's measurement: per arm its predicted frames/s and error; the shared cloud's
 * queueing against the measured queue_cloud; and per condition the best arm as edges are added.
 * null when no arm of the scenario run has stage times in the single run.
 */
export function fpsModel(scenario: NetworkReport, data: NetworkData, single: NetworkData): FpsModel | null {
  const fitted = fitCostModel(single, 'mean');
  const model = 'reason' in fitted ? undefined : fitted;
  const inFlight = Math.max(1, scenario.in_flight ?? 1);
  const edges = Math.max(1, scenario.edge_count ?? 1);
  const rate = offeredRate(scenario.scenario ?? 'max');
  const poisson = isPoisson(scenario.scenario ?? 'max');
  const arms: FpsModelArm[] = [];
  const queue: QueueCheck[] = [];
  const byEdges: FpsModel['by_edges'] = [];
  let agree = 0;
  let compared = 0;
  for (const c of scenario.conditions) {
    const cond = data.conditions.find((d: ConditionData) => conditionKey(d.condition) === c.key);
    if (!cond) continue;
    const here: { arm: FpsModelArm; stages: StageTimes }[] = [];
    for (const r of c.cuts) {
      if (r.fps === undefined) continue;
      const st = stagesOf(single, model, cond.condition, r.cut);
      if (!st) continue;
      // one edge alone, or each of N edges sharing the cloud: what one edge should see
      const alone = pipelineFps(st.stages, inFlight);
      const shared = sharedCloud(st.stages, edges, inFlight, rate, poisson);
      const predicted = edges > 1 ? shared.fps_total : rate === null ? alone.fps : Math.min(rate, alone.fps);
      const bottleneck = edges > 1 && shared.model === 'saturated' ? 'cloud' : alone.bottleneck;
      const arm: FpsModelArm = { condition: c.key, cut: r.cut, stages_ms: st.stages, source: st.source, predicted_fps: predicted, bottleneck, measured_fps: r.fps, error: r.fps > 0 ? predicted / r.fps - 1 : 0 };
      arms.push(arm);
      here.push({ arm, stages: st.stages });
      queue.push({
        condition: c.key,
        cut: r.cut,
        edges,
        rho: shared.rho,
        model: shared.model,
        predicted_queue_cloud_ms: shared.queue_cloud_ms,
        measured_queue_cloud_ms: r.queue_ms?.cloud ?? null,
        predicted_fps_total: shared.fps_total,
        measured_fps_total: r.fps,
      });
    }
    if (here.length === 0) continue;
    const predictedBest = here.reduce((a, b) => (b.arm.predicted_fps > a.arm.predicted_fps ? b : a)).arm.cut;
    if (c.best_fps) {
      compared++;
      if (predictedBest === c.best_fps.cut || (c.fps_tie_set?.includes(predictedBest) ?? false)) agree++;
    }
    for (let n = 1; n <= Math.max(4, edges); n++) {
      const best = here.map((h) => ({ cut: h.arm.cut, s: sharedCloud(h.stages, n, inFlight, rate, poisson) })).reduce((a, b) => (b.s.fps_total > a.s.fps_total ? b : a));
      byEdges.push({ condition: c.key, edges: n, best: best.cut, fps_total: best.s.fps_total, model: best.s.model });
    }
  }
  if (arms.length === 0) return null;
  const errors = arms.map((a) => Math.abs(a.error));
  return {
    in_flight: inFlight,
    edges,
    arms,
    median_error: median(errors),
    max_error: Math.max(...errors),
    best_agreement: compared ? agree / compared : null,
    queue,
    by_edges: byEdges,
  };
}

/**
 * Runs of one network, scenario and testbed with different numbers of edges on one cloud: per
 * condition, the best arm for frames/s at each N, and whether it moves toward the edge (a later
 * point) as N grows -- the cloud queues, so splits that leave it less work gain.
 */
export function edgeScaling(reports: NetworkReport[]): EdgeScalingRow[] {
  const groups = new Map<string, NetworkReport[]>();
  for (const r of reports) {
    if (r.scenario === undefined) continue;
    const key = `${r.network}\0${r.testbed_id}\0${r.scenario}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows: EdgeScalingRow[] = [];
  for (const entries of groups.values()) {
    if (new Set(entries.map((e) => e.edge_count ?? 1)).size < 2) continue;
    const sorted = [...entries].sort((a, b) => (a.edge_count ?? 1) - (b.edge_count ?? 1));
    for (const key of [...new Set(sorted.flatMap((e) => e.conditions.map((c) => c.key)))]) {
      const runs = sorted.flatMap((e) => {
        const c = e.conditions.find((x) => x.key === key);
        const best = c?.best_fps && c.cuts.find((p) => p.cut === c.best_fps!.cut);
        return best ? [{ edges: e.edge_count ?? 1, best: best.cut, index: best.index, fps: best.fps!, fps_tie_set: c!.fps_tie_set ?? null, queue_cloud_ms: best.queue_ms?.cloud ?? null }] : [];
      });
      if (runs.length < 2) continue;
      const steps = runs.slice(1).map((r, i) => r.index - runs[i]!.index);
      const moved = steps.some((d) => d !== 0);
      const moves = runs.slice(1).flatMap((r, i) => (r.best === runs[i]!.best ? [] : [{ from: runs[i]!.best, ties: r.fps_tie_set }]));
      const significant = moves.length === 0 || moves.some((m) => m.ties === null) ? null : moves.every((m) => !m.ties!.includes(m.from));
      rows.push({ network: sorted[0]!.network, testbed_id: sorted[0]!.testbed_id, scenario: sorted[0]!.scenario!, condition: key, runs, toward_edge: moved ? steps.every((d) => d >= 0) : null, significant });
    }
  }
  return rows;
}
