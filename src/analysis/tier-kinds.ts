import type { TierPoint, TierRef } from './cells.js';

/**
 * Three-tier configurations (x, y) as the analysis sees them: which tiers compute, and the arm
 * label the report keys them by. Pure.
 */

/** The arm label of (x, y): `x|y` (configLabel of src/model/tier-configs.ts; `|` never appears in a layer name). */
export function tierLabel(x: string, y: string): string {
  return `${x}|${y}`;
}

/** A measured point's or configuration's name: `x|y` for (cut, cut2), a two-tier point's own name. */
export function configName(p: { cut: string; cut2?: string }): string {
  return p.cut2 === undefined ? p.cut : tierLabel(p.cut, p.cut2);
}

/**
 * Which tiers compute in (x, y), given the model's input and output points' indexes: the device when
 * x is after the input, the edge when y is after x, the cloud when y is before the output.
 */
export function tierKind(xIndex: number, yIndex: number, inputIndex: number, outputIndex: number): TierRef['kind'] {
  const computing = Number(xIndex > inputIndex) + Number(yIndex > xIndex) + Number(yIndex < outputIndex);
  return computing === 3 ? 'three' : computing === 2 ? 'two' : 'one';
}

/** The tiers that compute in a configuration, for labels: "device+edge+cloud", "device+cloud", ... */
export function tiersUsed(t: TierRef, points: readonly TierPoint[]): string {
  const first = points[0]!.index;
  const last = points[points.length - 1]!.index;
  return [t.xIndex > first ? 'device' : '', t.yIndex > t.xIndex ? 'edge' : '', t.yIndex < last ? 'cloud' : ''].filter(Boolean).join('+');
}

/** The configurations of a network's data in (x, y) index order, each with its tier reference. */
export function tierRef(x: TierPoint, y: TierPoint, points: readonly TierPoint[]): TierRef {
  return { x: x.cut, y: y.cut, xIndex: x.index, yIndex: y.index, kind: tierKind(x.index, y.index, points[0]!.index, points[points.length - 1]!.index) };
}
