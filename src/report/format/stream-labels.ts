import { conditionLabel } from '../../analysis/condition-labels.js';
import type { EdgeCell, EdgeScalingRow, FactorName, NetworkReport, PointRow, StreamAnswer } from '../../analysis/findings.js';
import { ms } from './labels.js';

/** The figures of scenario runs (frames in flight) as text, shared by the table and the HTML page. */

/** "281.1" frames/s; '-' when unknown. */
export function fpsLabel(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : v.toFixed(1);
}

/** "281.1 [274.4, 287.8]": frames/s with its interval when known. */
export function fpsWithInterval(fps: number, low: number | null, high: number | null): string {
  return low === null || high === null ? fpsLabel(fps) : `${fpsLabel(fps)} [${fpsLabel(low)}, ${fpsLabel(high)}]`;
}

export function dropLabel(v: number | undefined): string {
  return v === undefined ? '-' : `${(100 * v).toFixed(1)}%`;
}

/** "max, 4 in flight, 3 edges on one cloud"; a single run of several edges: "single, 3 edges on one cloud" */
export function scenarioTitle(n: NetworkReport): string {
  const edges = (n.edge_count ?? 1) > 1 ? `, ${n.edge_count} edges on one cloud` : '';
  return n.scenario ? `${n.scenario}, ${n.in_flight ?? '?'} in flight${edges}` : `single${edges}`;
}

export const STREAM_HEADER = ['point', 'fps [interval]', 'drop', 'p50', 'p90', 'p99', 'queue edge', 'queue cloud', 'predicted fps', ''];

/** One row of the streams table (after the condition's columns). */
export function streamRow(p: PointRow, best: string | undefined): string[] {
  const mark = p.cut === best ? 'best fps' : p.fps_tie ? 'tie' : '';
  return [
    p.cut,
    p.fps === undefined ? '-' : fpsWithInterval(p.fps, p.fps_low ?? null, p.fps_high ?? null),
    dropLabel(p.drop_fraction),
    ms(p.total_ms),
    ms(p.p90_ms ?? null),
    ms(p.p99_ms ?? null),
    ms(p.queue_ms?.edge ?? null),
    ms(p.queue_ms?.cloud ?? null),
    fpsLabel(p.predicted_fps),
    mark,
  ];
}

/** "net=10: best for frames/s c (281.1 fps [274.4, 287.8]); best for latency b (9.47 ms, single run); they differ" */
export function answerLine(a: StreamAnswer, n: NetworkReport, varying: FactorName[]): string {
  const c = n.conditions.find((x) => x.key === a.condition)!;
  const fps = `best for frames/s: ${a.best_fps.cut} (${fpsWithInterval(a.best_fps.fps, a.best_fps.fps_low, a.best_fps.fps_high)} fps${a.fps_tie_set && a.fps_tie_set.length > 1 ? `; tied: ${a.fps_tie_set.filter((x) => x !== a.best_fps.cut).join(',')}` : ''})`;
  const latency = a.best_latency ? `best for latency: ${a.best_latency.cut} (${ms(a.best_latency.total_ms)} ms, one request at a time)` : 'best for latency: - (no single run of this network given)';
  const p99 = a.best_p99 === null ? '' : `; best for p99 at ${n.scenario}: ${a.best_p99.cut} (${ms(a.best_p99.p99_ms)} ms)`;
  const verdict =
    a.differ === null
      ? ''
      : a.differ
        ? `; they differ${a.differ_significant === false ? ' (but the latency\'s best is within the frames/s tie set)' : ''}`
        : '; they agree';
  const p99Verdict = a.differ_p99 ? ' (p99 too)' : '';
  return `${conditionLabel(c.factors, varying)}: ${fps}; ${latency}${p99}${verdict}${p99Verdict}`;
}

/** The pipeline model against the measurement, in one or two lines; [] when there is no model. */
export function modelLines(n: NetworkReport, varying: FactorName[]): string[] {
  const m = n.fps_model;
  if (!m) return [];
  const pctAbs = (v: number | null) => (v === null ? '-' : `${(100 * v).toFixed(1)} %`);
  const out = [
    `pipeline model (fps = min(1000 / slowest stage, ${m.in_flight} in flight / latency), stage times of the single run${m.edges > 1 ? `, ${m.edges} edges sharing the cloud` : ''}): predicted within ${pctAbs(m.median_error)} of the measured frames/s (median), ${pctAbs(m.max_error)} at most; predicted best point among the measured best's ties in ${m.best_agreement === null ? '-' : `${(100 * m.best_agreement).toFixed(0)} %`} of conditions`,
  ];
  const q = m.queue.filter((x) => x.measured_queue_cloud_ms !== null);
  if (q.length) {
    const worst = q.reduce((a, b) => (Math.abs(b.predicted_queue_cloud_ms - b.measured_queue_cloud_ms!) > Math.abs(a.predicted_queue_cloud_ms - a.measured_queue_cloud_ms!) ? b : a));
    out.push(`  cloud queueing (model per point: ${[...new Set(q.map((x) => x.model))].join(', ')}): largest gap at ${worst.cut}: predicted ${ms(worst.predicted_queue_cloud_ms)} ms, measured ${ms(worst.measured_queue_cloud_ms)} ms (p50)`);
  }
  const conditions = [...new Set(m.by_edges.map((b) => b.condition))];
  for (const key of conditions.slice(0, 4)) {
    const c = n.conditions.find((x) => x.key === key);
    const rows = m.by_edges.filter((b) => b.condition === key);
    out.push(`  best point for frames/s as edges share the cloud (model)${c ? ` at ${conditionLabel(c.factors, varying)}` : ''}: ${rows.map((b) => `${b.edges}: ${b.best} (${fpsLabel(b.fps_total)} fps)`).join(', ')}`);
  }
  return out;
}

export const EDGE_HEADER = ['condition', 'point', 'fps [interval]', 'drop', 'p50', 'p90', 'p99', 'queue edge', 'queue cloud'];

/** One row of an edge's table (runs of several edges). */
export function edgeRow(x: EdgeCell, n: NetworkReport, varying: FactorName[]): string[] {
  const c = n.conditions.find((y) => y.key === x.condition);
  return [c ? conditionLabel(c.factors, varying) : x.condition, x.cut, fpsWithInterval(x.fps, x.fps_low, x.fps_high), dropLabel(x.drop_fraction), ms(x.p50_ms), ms(x.p90_ms), ms(x.p99_ms), ms(x.queue_ms.edge), ms(x.queue_ms.cloud)];
}

export const SCALING_TITLE = 'edges on one cloud: the best point for frames/s as edges are added (measured; tied: points not significantly fewer frames/s)';

/** "mobilenet [max] net=50...: 1 edge: a (57.7 fps, cloud queue 26.2 ms) | 2 edges: ... -> moves toward the edge" */
export function scalingLine(r: EdgeScalingRow): string {
  const runs = r.runs.map((x) => `${x.edges} edge${x.edges === 1 ? '' : 's'}: ${x.best} (${fpsLabel(x.fps)} fps, cloud queue ${ms(x.queue_cloud_ms)} ms${x.fps_tie_set && x.fps_tie_set.length > 1 ? `; tied: ${x.fps_tie_set.filter((c) => c !== x.best).join(',')}` : ''})`);
  const moved = r.toward_edge ? 'the best point moves toward the edge' : 'the best point moves, not only toward the edge';
  const verdict = r.toward_edge === null ? 'the best point does not move' : `${moved}${r.significant === false ? ' (not significantly: the earlier best stays tied)' : r.significant ? ' (significantly)' : ''}`;
  return `${r.network} [${r.scenario}, testbed ${r.testbed_id}] ${r.condition}: ${runs.join(' | ')} -> ${verdict}`;
}
