import { NO_CONDITION, type Condition } from '../../src/conditions/condition.js';
import type { CellStats, NetworkData } from '../../src/analysis/cells.js';

/**
 * A 2x2 factorial (network unshaped/10 Mbit/s x edge CPU 0/100 %) over points a, b, c, with totals
 * chosen so the answer is known:
 *   baseline        a=10  b=5    c=8    best b (deployed)
 *   net=10          a=12  b=9    c=6    best c, gain 9/6-1 = 0.5      -> repartition
 *   ecpu=100        a=11  b=5.2  c=20   best b, gain 0
 *   net=10 ecpu=100 a=13  b=10   c=9.8  best c, gain 10/9.8-1 = 0.0204 < 0.05 -> no repartition
 */
export const SYNTHETIC: { condition: Condition; totals: [number, number, number] }[] = [
  { condition: { ...NO_CONDITION }, totals: [10, 5, 8] },
  { condition: { ...NO_CONDITION, net: 10 }, totals: [12, 9, 6] },
  { condition: { ...NO_CONDITION, ecpu: 100 }, totals: [11, 5.2, 20] },
  { condition: { ...NO_CONDITION, net: 10, ecpu: 100 }, totals: [13, 10, 9.8] },
];
export const SYNTHETIC_CUTS = ['a', 'b', 'c'];

/** Splits a total into edge 30 %, transfer 20 %, cloud 50 %. */
export function split(total: number): { edge: number; transfer: number; cloud: number; total: number } {
  return { edge: total * 0.3, transfer: total * 0.2, cloud: total * 0.5, total };
}

export function syntheticNetwork(rows = SYNTHETIC): NetworkData {
  const stat = (v: number) => ({ p50: v, p95: v * 1.1, mean: v, samples: 10 });
  return {
    network: 'synth',
    cuts: SYNTHETIC_CUTS.map((cut, index) => ({ cut, index })),
    sources: ['memory'],
    conditions: rows.map(({ condition, totals }) => {
      const cells = new Map<string, CellStats>();
      totals.forEach((t, i) => {
        const s = split(t);
        cells.set(SYNTHETIC_CUTS[i]!, { edge: stat(s.edge), transfer: stat(s.transfer), cloud: stat(s.cloud), total: stat(t) });
      });
      return { condition, cells };
    }),
  };
}
