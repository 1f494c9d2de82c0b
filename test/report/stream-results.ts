import { writeFileSync } from 'node:fs';
import type { Histogram } from 'hdr-histogram-js';
import type { Condition } from '../../src/conditions/condition.js';
import { headerText, newLatencyHistogram } from '../../src/results/log-lines.js';
import { streamCellText } from '../../src/results/log-writer.js';
import type { RunMetadata } from '../../src/results/metadata.js';
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

/** One scenario cell's text, every edge in turn: as the writer writes it (src/results/log-writer.ts streamCellText). */
export function scenarioCellText(baseMs: number, scenario: string, inFlight: number, cell: ScenarioCell): string {
  const several = cell.frames.length > 1;
  return cell.frames
    .map((frames, edge) => {
      const completed = frames.filter((f) => !f.drop);
      const elapsed = Math.max(...completed.map((f) => f.t[4]!)) - Math.min(...frames.map((f) => f.t[0]!));
      const hist = (values: number[]): Histogram => {
        const h = newLatencyHistogram();
        for (const v of values) h.recordValue(Math.max(0, Math.round(v * 1000)));
        return h;
      };
      return streamCellText(baseMs, {
        condition: cell.condition,
        cut: cell.cut,
        scenario,
        ...(several ? { edge } : {}),
        histograms: {
          edge: hist(completed.map((f) => f.t[2]! - f.t[1]!)),
          transfer: hist(completed.map((f) => f.transfer)),
          cloud: hist(completed.map((f) => f.cloud)),
          total: hist(completed.map((f) => f.t[4]! - f.t[0]!)),
          queue_edge: hist(completed.map((f) => f.t[1]! - f.t[0]!)),
          queue_cloud: hist(completed.map((f) => f.q)),
        },
        startMs: baseMs + 1000,
        endMs: baseMs + 2000,
        stream: {
          scenario,
          edge,
          offered: frames.length,
          completed: completed.length,
          dropped: frames.length - completed.length,
          refused: 0,
          elapsed_ms: elapsed,
          fps: (completed.length * 1000) / elapsed,
          in_flight: inFlight,
          cloud_stress: { cpu: cell.condition.ccpu, mem: cell.condition.cmem },
        },
        frames: frames.map((f, i) => (f.drop ? { i, t: [round(f.t[0]!)], drop: true } : { i, t: f.t.map(round), q: round(f.q), d: 0, c: round(f.cloud), drop: false })),
      });
    })
    .join('');
}

const round = (v: number) => Math.round(v * 1000) / 1000;

/** A scenario run's results file: the header, then every cell. */
export function writeScenarioFile(path: string, meta: RunMetadata, scenario: string, inFlight: number, cells: ScenarioCell[]): void {
  const baseMs = Date.parse('2026-01-01T00:00:00Z');
  writeFileSync(path, headerText({ ...meta, scenario, in_flight: inFlight, ...(cells[0] && cells[0].frames.length > 1 ? { edges: cells[0].frames.length } : {}) }, baseMs) + cells.map((c) => scenarioCellText(baseMs, scenario, inFlight, c)).join(''));
}
