import type { Condition } from '../conditions/condition.js';
import type { CellStats, NetworkData, TierPoint, TierRef } from './cells.js';
import { frameWireBytes, wireMs } from './cost-model.js';
import { inferFrameBytes } from '../protocol/frame-size.js';
import { median } from './stats.js';

/**
 * The two links of a three-tier run as the additive model and --predict see them: a link's time for a
 * request crossing at a point = a fixed cost + a per-byte cost of the ends + the wire time of its
 * INFER frame at the link's rate (src/analysis/cost-model.ts's wireMs: TCP segments, the shaper's
 * burst). Pure.
 */

/** The device->edge link's rate of a condition (`dnet`, Mbit/s; null = not shaped). */
export function deviceRate(c: Condition): number | null {
  // a condition made before the factor existed has none: unshaped
  return c.dnet ?? null;
}

/** The edge->cloud link's rate (`net`, Mbit/s; null = not shaped). */
export function edgeRate(c: Condition): number | null {
  return c.net;
}

/** A request crossing a link at a point: the INFER frame's bytes and what tc counts of them on the wire. */
export interface Crossing {
  frame: number;
  wire: number;
}

/** Per point label, the INFER frame of its float32 tensor (batch 1) and its wire bytes; points that cannot be sized are left out. */
export function crossings(data: NetworkData, points: readonly TierPoint[]): Map<string, Crossing> {
  const out = new Map<string, Crossing>();
  for (const p of points) {
    const shape = data.shapes?.get(p.cut);
    const dims = shape ? [1, ...shape] : p.bytes !== undefined ? [1, p.bytes / 4] : undefined;
    if (!dims) continue;
    const frame = inferFrameBytes(dims);
    out.set(p.cut, { frame, wire: frameWireBytes(frame) });
  }
  return out;
}

/** A link's fitted costs: ms = fixed + perByte * frame bytes + wireMs(wire bytes, rate). */
export interface LinkFit {
  fixed: number;
  /** ms per INFER byte beyond the wire (copies, framing at the ends); 0 when the data cannot tell */
  perByte: number;
  /** observations it rests on */
  n: number;
}

/** One measured link time: the crossing, the link's rate, the measured time (ms). */
export interface LinkObs {
  crossing: Crossing;
  rate: number | null;
  ms: number;
}

/**
 * Fits a link from measured times: the residuals after the wire time, as a line in the frame's bytes
 * (least squares) when two or more sizes were measured and the slope comes out >= 0; else their
 * median as the fixed cost and no per-byte cost. undefined: no observation.
 */
export function fitLink(obs: readonly LinkObs[]): LinkFit | undefined {
  if (obs.length === 0) return undefined;
  const xs = obs.map((o) => o.crossing.frame);
  const rs = obs.map((o) => o.ms - wireMs(o.crossing.wire, o.rate));
  if (new Set(xs).size >= 2) {
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const mr = rs.reduce((a, b) => a + b, 0) / rs.length;
    let sxx = 0;
    let sxr = 0;
    for (let i = 0; i < xs.length; i++) {
      sxx += (xs[i]! - mx) ** 2;
      sxr += (xs[i]! - mx) * (rs[i]! - mr);
    }
    const slope = sxr / sxx;
    if (slope >= 0) return { fixed: mr - slope * mx, perByte: slope, n: obs.length };
  }
  return { fixed: median(rs), perByte: 0, n: obs.length };
}

/** Observations of the two links, to fit each on. */
export interface LinksObs {
  device: LinkObs[];
  edge: LinkObs[];
}

/**
 * What a measured cell of configuration `t` under `c` says of the links: its device_transfer at x's
 * crossing and dnet (none when x = output: nothing is sent), its transfer at y's crossing and net
 * (none when y = output: the cloud is unused); a point that cannot be sized gives nothing.
 */
export function observeLinks(into: LinksObs, cell: CellStats | undefined, t: TierRef, c: Condition, sizes: Map<string, Crossing>, output: string): void {
  const dt = p50(cell, 'device_transfer');
  const sx = sizes.get(t.x);
  if (t.x !== output && dt !== undefined && sx) into.device.push({ crossing: sx, rate: deviceRate(c), ms: dt });
  const et = p50(cell, 'transfer');
  const sy = sizes.get(t.y);
  if (t.y !== output && t.x !== output && et !== undefined && sy) into.edge.push({ crossing: sy, rate: edgeRate(c), ms: et });
}

/** A link's predicted time for a crossing at a rate (never below 0). */
export function linkMs(fit: LinkFit, c: Crossing, rate: number | null): number {
  return Math.max(0, fit.fixed + fit.perByte * c.frame + wireMs(c.wire, rate));
}

/** A metric of a cell at the median (ms), when recorded. */
export function p50(cell: CellStats | undefined, metric: 'device' | 'device_transfer' | 'edge' | 'transfer' | 'cloud' | 'total'): number | undefined {
  return cell?.[metric]?.p50;
}
