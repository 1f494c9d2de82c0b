import { writeFileSync } from 'node:fs';
import { HistogramLogWriter, type Histogram } from 'hdr-histogram-js';
import type { Condition } from '../../src/conditions/condition.js';
import { MAX_VALUE_UNIT_RATIO, headerText, newLatencyHistogram } from '../../src/results/log-lines.js';
import type { RunMetadata } from '../../src/results/metadata.js';
import { FRAME_PREFIX, STREAM_PREFIX, type FrameLine, type StreamLine } from '../../src/results/stream-lines.js';
import { METRICS, STREAM_METRICS, cellKey, formatTag, type AnyMetric } from '../../src/results/tags.js';
import { rng } from '../../src/random.js';

/**
 * Scenario results files for the report's tests: a small discrete simulation of the pipeline
 * (edge, link, cloud: each one frame at a time, at most K frames in flight, a cloud shared by N
 * edges), written as the results format says (#dnn-stream line, tagged histograms, #dnn-frame lines).
 * Stage times are given in ms and vary by +-10 % (seeded), so the figures are known to within that.
 */

export interface Stages {
  edge: number;
  transfer: number;
  cloud: number;
}

export interface SimFrame {
  /** [arrival, edge_start, edge_end, sent, reply]; a dropped frame: [arrival] */
  t: number[];
  /** cloud queueing, transfer and cloud compute, ms */
  q: number;
  transfer: number;
  cloud: number;
  drop: boolean;
}

/**
 * N edges (one Stages each), each offering `frames` frames (`rate` frames/s, or back to back when
 * null), one shared cloud. Each edge computes one frame at a time and starts a frame only while
 * fewer than K are in flight; a stream frame that cannot start within its period is dropped (a
 * camera's frame). The cloud serves frames one at a time in the order the edges started them.
 */
export function simulate(stages: Stages[], frames: number, inFlight: number, rate: number | null, seed = 1): SimFrame[][] {
  const random = rng(seed);
  const vary = (v: number) => v * (0.9 + 0.2 * random());
  const out: SimFrame[][] = stages.map(() => []);
  const next = stages.map(() => 0);
  const edgeFree = stages.map(() => 0);
  const linkFree = stages.map(() => 0);
  const replies: number[][] = stages.map(() => []);
  let cloudFree = 0;
  // a stream's frame arrives on its clock; with no rate (`max`) a frame arrives once fewer than K are in flight
  const slot = (e: number) => {
    const r = replies[e]!;
    return r.length >= inFlight ? r[r.length - inFlight]! : 0;
  };
  const arrivalOf = (e: number) => (rate === null ? slot(e) : (next[e]! * 1000) / rate);
  const startOf = (e: number) => Math.max(arrivalOf(e), edgeFree[e]!, slot(e));
  for (;;) {
    let e = -1;
    for (let k = 0; k < stages.length; k++) if (next[k]! < frames && (e < 0 || startOf(k) < startOf(e))) e = k;
    if (e < 0) break;
    const arrival = arrivalOf(e);
    const start = startOf(e);
    next[e]!++;
    if (rate !== null && start > arrival + 1000 / rate) {
      out[e]!.push({ t: [arrival], q: 0, transfer: 0, cloud: 0, drop: true });
      continue;
    }
    const s = stages[e]!;
    const edgeEnd = start + vary(s.edge);
    edgeFree[e] = edgeEnd;
    const sent = Math.max(edgeEnd, linkFree[e]!);
    const transfer = vary(s.transfer);
    linkFree[e] = sent + transfer;
    const cloudStart = Math.max(sent + transfer, cloudFree);
    const cloud = vary(s.cloud);
    cloudFree = cloudStart + cloud;
    replies[e]!.push(cloudFree);
    out[e]!.push({ t: [arrival, start, edgeEnd, sent, cloudFree], q: cloudStart - sent - transfer, transfer, cloud, drop: false });
  }
  return out;
}

export interface ScenarioCell {
  condition: Condition;
  cut: string;
  /** per edge: its frames (one edge: a list of one) */
  frames: SimFrame[][];
}

/** The #dnn-stream line, histogram lines and #dnn-frame lines of one scenario cell (every edge). */
export function scenarioCellText(scenario: string, inFlight: number, cell: ScenarioCell): string {
  const several = cell.frames.length > 1;
  let text = '';
  cell.frames.forEach((frames, edge) => {
    const edgeTag = several ? edge : undefined;
    const key = cellKey(cell.condition, cell.cut, undefined, undefined, scenario, edgeTag);
    const completed = frames.filter((f) => !f.drop);
    const elapsed = Math.max(...completed.map((f) => f.t[4]!)) - Math.min(...frames.map((f) => f.t[0]!));
    const dropped = frames.length - completed.length;
    const line: StreamLine = {
      cell: key,
      scenario,
      edge,
      offered: frames.length,
      completed: completed.length,
      dropped,
      refused: 0,
      elapsed_ms: elapsed,
      fps: (completed.length * 1000) / elapsed,
      in_flight: inFlight,
      cloud_stress: { cpu: cell.condition.ccpu, mem: cell.condition.cmem },
    };
    const hist = (values: number[]): Histogram => {
      const h = newLatencyHistogram();
      for (const v of values) h.recordValue(Math.max(0, Math.round(v * 1000)));
      return h;
    };
    const metrics: Record<string, Histogram> = {
      edge: hist(completed.map((f) => f.t[2]! - f.t[1]!)),
      transfer: hist(completed.map((f) => f.transfer)),
      cloud: hist(completed.map((f) => f.cloud)),
      total: hist(completed.map((f) => f.t[4]! - f.t[0]!)),
      queue_edge: hist(completed.map((f) => f.t[1]! - f.t[0]!)),
      queue_cloud: hist(completed.map((f) => f.q)),
    };
    text += `${STREAM_PREFIX}${JSON.stringify(line)}\n`;
    text += render((w) => {
      for (const m of [...METRICS, ...STREAM_METRICS] as AnyMetric[]) {
        const h = metrics[m]!;
        h.tag = formatTag({ condition: cell.condition, cut: cell.cut, metric: m, scenario, edge: edgeTag });
        w.outputIntervalHistogram(h, 1, 2, MAX_VALUE_UNIT_RATIO);
      }
    });
    frames.forEach((f, i) => {
      const frame: FrameLine = f.drop ? { cell: key, i, t: [round(f.t[0]!)], drop: true } : { cell: key, i, t: f.t.map(round), q: round(f.q), d: 0, c: round(f.cloud), drop: false };
      text += `${FRAME_PREFIX}${JSON.stringify(frame)}\n`;
    });
  });
  return text;
}

const round = (v: number) => Math.round(v * 1000) / 1000;

function render(write: (w: HistogramLogWriter) => void): string {
  let text = '';
  const writer = new HistogramLogWriter((s: string) => {
    text += s;
  });
  write(writer);
  return text;
}

/** A scenario run's results file: the header, then every cell. */
export function writeScenarioFile(path: string, meta: RunMetadata, scenario: string, inFlight: number, cells: ScenarioCell[]): void {
  const baseMs = Date.parse('2026-01-01T00:00:00Z');
  writeFileSync(path, headerText(meta, baseMs) + cells.map((c) => scenarioCellText(scenario, inFlight, c)).join(''));
}
