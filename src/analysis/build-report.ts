import { type Condition, conditionKey } from '../conditions/condition.js';
import { UserError } from '../errors.js';
import { bestPoint, compareConditions, extremePoints, factorsOf, findBaseline, pointRows, speedup } from './condition-points.js';
import { chooseDeployed, gainOver, listCuts, movesBy, needsRepartition, pointsAgainstBest, significanceOf } from './moves.js';
import type { ConditionReport, NetworkReport, NetworkSummary, PointVsBest, RaceSummary, Report } from './findings.js';
import type { NetworkData, RaceRun, Statistic } from './cells.js';
import { logSpread, powerSentence, powerStatement, type PowerStatement } from './power.js';
import { crossTestbed } from './cross-testbed.js';
import { analyseDrift } from './drift.js';
import { conditionLabel, varyingFactors } from './condition-labels.js';
import { sensitivity } from './sensitivity.js';
import { summarizeAdaptive, type AdaptiveEntry } from './policy-runs.js';
import { allRateThresholds, fitCostModel, predictConditions, predictedData, type PredictLevels } from './cost-model.js';
import type { Distribution } from './significance.js';
import { DEFAULT_MAX_AGREEMENT_LOSS, hasCodecData, hasEncodedArms, isF32Arm, judgeArms, restrictArms, withF32Answer, type ArmBudget } from './encodings.js';
import { splitArm } from './arms.js';
import { withTiers } from './tier-report.js';
import { predictTiers } from './tier-predict.js';
import { edgeScaling, fpsModel, streamAnswers, withPredictedFps, withPredictedPipeline, withStreams } from './stream-report.js';

export interface ReportOptions {
  metric: Statistic;
  /** --deployed: a point label; networks that do not have it fall back to their baseline best (with a warning) */
  deployed?: string;
  minGain: number;
  /** --predict: predict these factor levels from the measured data instead of reporting the measurements */
  predict?: PredictLevels;
  /** --confidence: a move counts only when significant at this level (default 0.95) */
  confidence?: number;
  /** --max-agreement-loss: percentage points of top-1 agreement an encoded arm may lose (default 1) */
  maxAgreementLoss?: number;
  /** --hindsight-window: seconds per window of adaptive runs' hindsight best (default 5) */
  hindsightWindowS?: number;
}

export const DEFAULT_CONFIDENCE = 0.95;

/** The whole report: every network analysed the same way. */
export function buildReport(networks: NetworkData[], opts: ReportOptions, warnings: string[] = []): Report {
  const out: NetworkReport[] = [];
  const adaptive: AdaptiveEntry[] = [];
  const all = [...warnings];
  // scenario runs are paired with the single run of their network once every network is analysed
  const singles: { report: NetworkReport; data: NetworkData; index: number }[] = [];
  const scenarios: { index: number; data: NetworkData }[] = [];
  if (opts.deployed !== undefined && !networks.some((n) => n.cuts.some((c) => c.cut === opts.deployed))) {
    const only = networks.length === 1 ? networks[0]! : undefined;
    const points = only ? listCuts(only.cuts) : networks.map((n) => `${n.network}: ${listCuts(n.cuts)}`).join('; ');
    throw new UserError(`--deployed ${opts.deployed} is not a partition point of ${only ? only.network : 'any network'} (${points})`);
  }
  for (const n of networks) {
    const has = opts.deployed === undefined || n.cuts.some((c) => c.cut === opts.deployed);
    if (!has) all.push(`${n.network}: no point '${opts.deployed}', so its deployed point is its best at the baseline condition`);
    const judged = hasEncodedArms(n) ? judgeArms(n, opts.maxAgreementLoss ?? DEFAULT_MAX_AGREEMENT_LOSS) : undefined;
    // the arms the policies could choose: those within the fidelity budget (the run judged them alike)
    const arms = n.policyArms ?? (judged ? judged.admitted.size : n.cuts.length || null);
    if (n.policyRuns) adaptive.push(...summarizeAdaptive(n.network, n.policyRuns, n.policyStreams, { windowS: opts.hindsightWindowS, arms }));
    if (judged) all.push(...judged.notes.map((w) => `${n.network}: ${w}`));
    const outside = judged?.budget.excluded.find((e) => has && e.arm === opts.deployed);
    if (outside) {
      throw new UserError(`--deployed ${outside.arm} is outside the fidelity budget of ${n.network} (${outside.top1_loss === null ? 'lossy, no fidelity recorded' : `${outside.top1_loss.toFixed(1)} points of top-1 agreement lost`}); raise --max-agreement-loss or name another point or (point, codec) pair`);
    }
    if (n.tiers) {
      // a three-tier run: its configurations (x, y) are the arms; its own entry, never merged with a two-tier run
      const tiered = analyseTiers(n, has ? opts : { ...opts, deployed: undefined });
      if (tiered) out.push(tiered);
      else all.push(`${n.network} (three tiers): no condition has a measured total; left out`);
      continue;
    }
    const report = analyseArms(n, has ? opts : { ...opts, deployed: undefined }, judged);
    if (!report) {
      if (!n.policyRuns) all.push(`${n.network}: no condition has a measured total; left out`);
      continue;
    }
    all.push(...report.drift_warnings.map((w) => `${n.network}: ${w}`));
    if (n.scenario !== undefined) {
      // latencies under load are not what the cost model describes: the scenario's figures, measured
      const r = withStreams(report, n, opts.confidence ?? DEFAULT_CONFIDENCE);
      all.push(...(r.sample_warnings ?? []));
      scenarios.push({ index: out.length, data: n });
      out.push(r);
      continue;
    }
    singles.push({ report, data: n, index: out.length });
    // a single run of several edges (lab --edges N): its own entry, named by its number of edges
    if (n.edgeCount !== undefined) report.edge_count = n.edgeCount;
    // the arms the answer may choose (within the fidelity budget) are the ones the model predicts
    const model = fitCostModel(judged ? restrictArms(n, (a) => judged.admitted.has(a.cut)) : n, opts.metric);
    if ('reason' in model) {
      if (opts.predict) throw new UserError(`--predict: no cost model for ${n.network}: ${model.reason}`);
      out.push(report);
      continue;
    }
    const costModel = { beta: model.beta, gamma: model.gamma, beta_fitted: model.fitted.beta, gamma_fitted: model.fitted.gamma };
    if (!opts.predict) {
      out.push({ ...report, rate_thresholds: allRateThresholds(model), cost_model: costModel });
      continue;
    }
    // Predicted conditions go through the same analysis; the deployed point stays the measured one.
    const predicted = predictedData(model, predictConditions(model, opts.predict));
    const p = analyseArms({ ...n, conditions: predicted }, { ...opts, deployed: report.deployed.cut }, judged, report.deployed_f32)!;
    out.push({
      ...p,
      ...(report.race ? { race: report.race } : {}),
      deployed: { ...report.deployed, condition: report.baseline.key },
      conditions: p.conditions.map((c) => ({ key: c.key, predicted: true as const, ...withoutKey(c) })),
      cost_model: costModel,
      predicted_from: n.conditions.length,
    });
  }
  for (const { index, data } of scenarios) {
    const { report, single } = pairWithSingle(out[index]!, data, singles, all);
    out[index] = report;
    // --predict with a scenario run beside: the predicted conditions' frames/s by the same pipeline model
    const predicted = single && out[single.index]!;
    if (predicted && predicted.predicted_from !== undefined && !predicted.conditions.some((c) => c.best_fps)) out[single.index] = withPredictedPipeline(predicted, report.in_flight ?? 1);
  }
  if (out.length === 0 && adaptive.length === 0) throw new UserError('no usable data: no network has a measured total latency');
  const scaling = edgeScaling(out);
  return {
    tool: 'dnn-report',
    metric: opts.metric,
    min_gain: opts.minGain,
    confidence: opts.confidence ?? DEFAULT_CONFIDENCE,
    networks: out,
    cross_testbed: crossTestbed(out),
    ...(scaling.length ? { edge_scaling: scaling } : {}),
    adaptive,
    warnings: all,
  };
}

/**
 * A three-tier run: the same analysis over its configurations (arms labelled `x|y`), written in the
 * three-tier form with the additive check; --predict predicts the configurations at the asked link
 * rates (src/analysis/tier-predict.ts), the deployed configuration staying the measured one.
 */
function analyseTiers(data: NetworkData, opts: ReportOptions): NetworkReport | undefined {
  const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
  const report = analyseNetwork(data, opts);
  if (!report) return undefined;
  if (!opts.predict) return withTiers(report, data, opts.metric, confidence);
  const predicted: NetworkData = { ...data, conditions: predictTiers(data, opts.predict) };
  const p = analyseNetwork(predicted, { ...opts, deployed: report.deployed.cut })!;
  const marked: NetworkReport = {
    ...p,
    deployed: { ...report.deployed, condition: report.baseline.key },
    conditions: p.conditions.map((c) => ({ key: c.key, predicted: true as const, ...withoutKey(c) })),
    predicted_from: data.conditions.length,
  };
  return withTiers(marked, predicted, opts.metric, confidence, false);
}

/**
 * Analysis of one network over its arms: without encoded arms, analyseNetwork itself; with them,
 * the answer over the arms within the fidelity budget, the f32 answer beside it, and the arms
 * outside the budget shown (never chosen). `deployedF32`: the f32 answer's deployed point (--predict keeps the measured one).
 */
function analyseArms(data: NetworkData, opts: ReportOptions, judged: ArmBudget | undefined, deployedF32?: string | null): NetworkReport | undefined {
  if (!judged) return analyseNetwork(data, opts);
  const report = analyseNetwork(restrictArms(data, (a) => judged.admitted.has(a.cut)), opts);
  if (!report) return undefined;
  const f32Data = restrictArms(data, isF32Arm);
  const asked = deployedF32 ?? (opts.deployed === undefined ? undefined : splitArm(opts.deployed).cut);
  const f32 = analyseNetwork(f32Data, { ...opts, deployed: asked !== undefined && f32Data.cuts.some((c) => c.cut === asked) ? asked : undefined });
  const outside = data.cuts.filter((a) => !judged.admitted.has(a.cut));
  const order = new Map(data.cuts.map((a, i) => [a.cut, i]));
  const conditions = report.conditions.map((c) => {
    const cond = data.conditions.find((d) => conditionKey(d.condition) === c.key);
    const extra = cond ? pointRows(cond, outside, opts.metric, true).map((r) => ({ ...r, within_budget: false })) : [];
    return extra.length ? { ...c, cuts: [...c.cuts, ...extra].sort((a, b) => order.get(a.cut)! - order.get(b.cut)!) } : c;
  });
  return withF32Answer({ ...report, conditions }, f32, judged.budget);
}

/** Analysis of one network: per condition the best point, the deployed point's gain, and the summary. */
export function analyseNetwork(data: NetworkData, opts: ReportOptions): NetworkReport | undefined {
  const codecs = hasCodecData(data);
  const measured = data.conditions
    .map((c) => ({ data: c, rows: pointRows(c, data.cuts, opts.metric, codecs) }))
    .filter((c) => c.rows.length > 0)
    .sort((a, b) => compareConditions(a.data.condition, b.data.condition));
  if (measured.length === 0) return undefined;
  const base = findBaseline(measured.map((c) => c.data.condition));
  const baseline = measured[base.index]!;
  const deployed = chooseDeployed(opts.deployed, data.network, data.cuts, bestPoint(baseline.rows)!);

  const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
  const verdicts: (Map<string, PointVsBest> | null)[] = [];
  const conditions: ConditionReport[] = measured.map(({ data: c, rows }) => {
    const best = bestPoint(rows)!;
    const judged = pointsAgainstBest(c, rows, best.cut, confidence);
    verdicts.push(judged);
    for (const r of rows) r.vs_best = judged?.get(r.cut) ?? null;
    const dep = rows.find((r) => r.cut === deployed.cut);
    const gain = dep ? gainOver(dep.total_ms, best.total_ms) : null;
    const significance = significanceOf(judged, deployed.cut);
    const { cloudOnly, edgeOnly } = extremePoints(rows, data.cuts);
    const bestRef = { cut: best.cut, total_ms: best.total_ms };
    return {
      key: conditionKey(c.condition),
      factors: factorsOf(c.condition),
      best: bestRef,
      deployed_ms: dep ? dep.total_ms : null,
      gain,
      gain_low: dep?.vs_best?.low ?? null,
      gain_high: dep?.vs_best?.high ?? null,
      significance,
      tie_set: judged ? rows.filter((r) => r.vs_best?.tie).map((r) => r.cut) : null,
      repartition: needsRepartition(best.cut, deployed.cut, gain, opts.minGain, significance),
      move_not_significant: movesBy(best.cut, deployed.cut, gain, opts.minGain) && significance === 'not significant',
      cloud_only: cloudOnly,
      edge_only: edgeOnly,
      speedup_vs_cloud_only: speedup(bestRef, cloudOnly),
      speedup_vs_edge_only: speedup(bestRef, edgeOnly),
      cuts: rows,
    };
  });
  const baselineKey = conditions[base.index]!.key;
  const drifted = analyseDrift(data.references ?? [], measured.map((m) => m.data), conditions, {
    metric: opts.metric,
    minGain: opts.minGain,
    confidence,
    label: (key) => {
      const c = conditions.find((x) => x.key === key);
      return c ? conditionLabel(c.factors, varyingFactors({ conditions })) : key;
    },
  });
  const power = powerOf(measured.map((m) => m.data), data.cuts.length, confidence, opts.minGain);
  const race = data.race ? raceSummary(data.race, conditions) : undefined;
  return {
    network: data.network,
    testbed: data.testbed ?? null,
    testbed_id: data.testbedId ?? 'unknown',
    sources: data.sources,
    baseline: { key: baselineKey, exact: base.exact },
    deployed: { ...deployed, condition: baselineKey },
    conditions,
    summary: summarize(
      conditions,
      measured.map((m) => m.data.condition),
      verdicts,
      measured.map((m) => m.data.cells.get(deployed.cut)?.total?.dist ?? null),
      confidence,
    ),
    drift: drifted.drift,
    drift_warnings: drifted.warnings,
    power,
    significance_note: power
      ? `a move counts when the best point beats the deployed one at ${(100 * confidence).toFixed(0)} % confidence (rank interval, corrected for picking the best of ${data.cuts.length} points) and by >= ${(100 * opts.minGain).toFixed(1)} %; ${powerSentence(power)}`
      : 'no spread recorded: significance unknown (moves counted by gain alone)',
    ...(race ? { race } : {}),
  };
}

/** What racing saved, and how many raced-out points the report's own test still ties with their condition's best. */
function raceSummary(run: RaceRun, conditions: ConditionReport[]): RaceSummary {
  const inTie = conditions.reduce((n, c) => n + c.cuts.filter((r) => r.raced && r.vs_best?.tie).length, 0);
  return { cells: run.cells, raced_cells: run.raced, inferences_saved: run.saved, inferences_exhaustive: run.exhaustive, raced_in_tie_set: inTie };
}

/**
 * The power statement over every measured cell; null when a cell has no distribution (no spread recorded).
 * Samples per point: the median over the cells, each with its own count; in a raced run, over the
 * points not raced out (the ones the answer rests on: a raced-out point was already told apart).
 */
function powerOf(conditions: NetworkData['conditions'], points: number, confidence: number, minGain: number): PowerStatement | null {
  const dists: Distribution[] = [];
  const survivors: number[] = [];
  for (const c of conditions) {
    for (const [arm, cell] of c.cells) {
      if (!cell.total) continue;
      if (!cell.total.dist) return null;
      dists.push(cell.total.dist);
      if (!c.raced?.has(arm)) survivors.push(cell.total.dist.n);
    }
  }
  const spread = logSpread(dists);
  const counts = (survivors.length ? survivors : dists.map((d) => d.n)).sort((a, b) => a - b);
  const samples = counts[Math.floor((counts.length - 1) / 2)]!;
  return powerStatement(samples, points, spread, confidence, minGain);
}

function summarize(
  conditions: ConditionReport[],
  raw: Condition[],
  verdicts: (Map<string, PointVsBest> | null)[],
  deployedDists: (Distribution | null)[],
  confidence: number,
): NetworkSummary {
  let max: ConditionReport | undefined;
  for (const c of conditions) if (c.gain !== null && (!max || c.gain > max.gain!)) max = c;
  return {
    conditions: conditions.length,
    repartition: conditions.filter((c) => c.repartition).length,
    max_gain: max ? max.gain : null,
    max_gain_condition: max ? max.key : null,
    max_gain_best_cut: max ? max.best.cut : null,
    repartition_not_significant: conditions.filter((c) => c.move_not_significant).length,
    sensitivity: sensitivity(
      conditions.map((c, i) => ({
        condition: raw[i]!,
        key: c.key,
        bestCut: c.best.cut,
        bestMs: c.best.total_ms,
        deployedMs: c.deployed_ms,
        verdicts: verdicts[i]!,
        deployedDist: deployedDists[i]!,
        raced: new Map(c.cuts.filter((p) => p.raced).map((p) => [p.cut, p.samples])),
      })),
      confidence,
    ),
  };
}

/**
 * A scenario run beside the single run of its network (same testbed; else the network's only single
 * run, with a note): the answer for streams and the pipeline model against the measurement.
 */
function pairWithSingle(
  report: NetworkReport,
  data: NetworkData,
  singles: { report: NetworkReport; data: NetworkData; index: number }[],
  notes: string[],
): { report: NetworkReport; single?: { index: number } } {
  // the single run of the same testbed and number of edges, else of one edge
  const mine = singles.filter((s) => s.data.network === data.network);
  const edges = (s: { data: NetworkData }) => s.data.edgeCount ?? 1;
  let single = mine.find((s) => s.report.testbed_id === report.testbed_id && edges(s) === (data.edgeCount ?? 1)) ?? mine.find((s) => s.report.testbed_id === report.testbed_id && edges(s) === 1);
  if (!single && mine.length === 1) {
    single = mine[0]!;
    notes.push(`${data.network} [${data.scenario}]: compared with the single run of testbed ${single.report.testbed_id} (the scenario run's testbed is ${report.testbed_id})`);
  }
  if (!single) {
    notes.push(`${data.network} [${data.scenario}]: no single run of this network among the files, so no best point for latency beside the best for frames/s (give its single results file too)`);
    return { report: { ...report, stream_answers: streamAnswers(report, null), fps_model: null } };
  }
  const model = fpsModel(report, data, single.data);
  return { report: { ...withPredictedFps(report, model), stream_answers: streamAnswers(report, single.report), fps_model: model }, single };
}

function withoutKey(c: ConditionReport): Omit<ConditionReport, 'key'> {
  const { key: _key, ...rest } = c;
  return rest;
}
