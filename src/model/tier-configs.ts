import type { CutPoint } from './partition.js';

/**
 * A three-tier configuration: the device computes up to point `x`, the edge (relay) after `x` up to
 * `y`, the cloud after `y`; x comes no later than y in the partition-point order.
 * (relay's copy of the contract's type: helper "tierrun" owns this file and adds the enumeration.)
 */
export interface TierConfig {
  x: CutPoint;
  y: CutPoint;
}

/** The configuration's key in logs and reports: `x|y` (`|` never appears in a layer name). */
export function configLabel(c: TierConfig): string {
  return `${c.x.layer}|${c.y.layer}`;
}
