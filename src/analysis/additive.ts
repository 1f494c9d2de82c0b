import { conditionKey } from '../conditions/condition.js';
import type { ConditionData, CutRef, NetworkData, TierRef } from './cells.js';
import type { AdditiveCheck, AdditivePrediction } from './findings.js';
import { crossings, deviceRate, edgeRate, fitLink, linkMs, observeLinks, p50, type Crossing, type LinkFit, type LinksObs } from './tier-links.js';
import { median } from './stats.js';

/**
 * The Scission-style additive prediction of a three-tier configuration (Lockhart et al., UCC 2020)
 * from the single-tier parts measured in the same run and condition, and how far it is from the
 * end-to-end measurement (docs/method.md, "The additive prediction"). Pure.
 *
 * Calibration: the configurations in which a tier is unused (x = input, x = y or y = output: two- and
 * one-tier). Predicted: the three-tier ones (input < x < y < output), none of whose own cells enter
 * the calibration. All at the median (p50) of each metric, whatever --metric ranks by: medians of
 * parts are what adds up (percentiles do not).
 *
 *   predicted(x, y) = D(x) + Ldev(x) + E(x..y) + Ledge(y) + C(y)
 *   D(x)       device compute of the calibration configurations with cut x: (x, x) and (x, output)
 *   E(x..y)    Eprefix(y) - Eprefix(x) (>= 0), Eprefix(p) = edge compute of (input, p): the edge from the input up to p
 *   C(y)       cloud compute of the calibration configurations with cut2 y: (y, y) and (input, y)
 *   Ldev(x)    device link: fixed + perByte * frame(x) + wire(frame(x)) / dnet, fitted on the calibration's device_transfer
 *   Ledge(y)   edge link: the same on the calibration's transfer, at net
 * (medians where two calibration configurations give a part).
 */

/** The calibrated parts of one condition. */
interface Calibration {
  device: Map<string, number[]>;
  edgePrefix: Map<string, number>;
  cloud: Map<string, number[]>;
  deviceLink?: LinkFit;
  edgeLink?: LinkFit;
  calibration: number;
}

function calibrate(cond: ConditionData, configs: CutRef[], sizes: Map<string, Crossing>, input: string, output: string): Calibration {
  const cal: Calibration = { device: new Map(), edgePrefix: new Map(), cloud: new Map(), calibration: 0 };
  const links: LinksObs = { device: [], edge: [] };
  const push = (m: Map<string, number[]>, k: string, v: number | undefined) => {
    if (v !== undefined) m.set(k, [...(m.get(k) ?? []), v]);
  };
  for (const c of configs) {
    const t = c.tier!;
    const cell = cond.cells.get(c.cut);
    if (t.kind === 'three' || p50(cell, 'total') === undefined) continue;
    cal.calibration++;
    if (t.x !== input) push(cal.device, t.x, p50(cell, 'device'));
    if (t.x === input && t.y !== input) {
      const e = p50(cell, 'edge');
      if (e !== undefined) cal.edgePrefix.set(t.y, e);
    }
    if (t.y !== output) push(cal.cloud, t.y, p50(cell, 'cloud'));
    observeLinks(links, cell, t, cond.condition, sizes, output);
  }
  cal.edgePrefix.set(input, 0);
  cal.deviceLink = fitLink(links.device);
  cal.edgeLink = fitLink(links.edge);
  return cal;
}

/** The additive prediction of a three-tier configuration from its condition's calibration; undefined when a part is missing. */
function predict(t: TierRef, cal: Calibration, sizes: Map<string, Crossing>, cond: ConditionData): AdditivePrediction['parts'] | undefined {
  const d = cal.device.get(t.x);
  const c = cal.cloud.get(t.y);
  const ex = cal.edgePrefix.get(t.x);
  const ey = cal.edgePrefix.get(t.y);
  const sx = sizes.get(t.x);
  const sy = sizes.get(t.y);
  if (!d?.length || !c?.length || ex === undefined || ey === undefined || !sx || !sy || !cal.deviceLink || !cal.edgeLink) return undefined;
  return {
    device_ms: median(d),
    device_link_ms: linkMs(cal.deviceLink, sx, deviceRate(cond.condition)),
    edge_ms: Math.max(0, ey - ex),
    edge_link_ms: linkMs(cal.edgeLink, sy, edgeRate(cond.condition)),
    cloud_ms: median(c),
  };
}

/** Every three-tier configuration of every condition that can be predicted, against its measured median total. */
export function additivePredictions(data: NetworkData): { predictions: AdditivePrediction[]; calibration: number } {
  const points = data.tiers?.points ?? [];
  if (points.length < 2) return { predictions: [], calibration: 0 };
  const input = points[0]!.cut;
  const output = points[points.length - 1]!.cut;
  const sizes = crossings(data, points);
  const configs = data.cuts.filter((c) => c.tier);
  const predictions: AdditivePrediction[] = [];
  let calibration = 0;
  for (const cond of data.conditions) {
    const cal = calibrate(cond, configs, sizes, input, output);
    calibration += cal.calibration;
    for (const c of configs) {
      const t = c.tier!;
      const measured = p50(cond.cells.get(c.cut), 'total');
      if (t.kind !== 'three' || measured === undefined || measured <= 0) continue;
      const parts = predict(t, cal, sizes, cond);
      if (!parts) continue;
      const predicted = parts.device_ms + parts.device_link_ms + parts.edge_ms + parts.edge_link_ms + parts.cloud_ms;
      predictions.push({ condition: conditionKey(cond.condition), cut: t.x, cut2: t.y, measured_ms: measured, predicted_ms: predicted, error: Math.abs(predicted - measured) / measured, parts });
    }
  }
  return { predictions, calibration };
}

/** The check of the additive model over a network: median and largest relative error, per condition too. */
export function additiveCheck(data: NetworkData): AdditiveCheck {
  const { predictions, calibration } = additivePredictions(data);
  const summary = (ps: AdditivePrediction[]) => ({
    median_error: ps.length ? median(ps.map((p) => p.error)) : null,
    max_error: ps.length ? Math.max(...ps.map((p) => p.error)) : null,
    configs: ps.length,
  });
  const keys = [...new Set(predictions.map((p) => p.condition))];
  const worst = predictions.reduce<AdditivePrediction | null>((w, p) => (!w || p.error > w.error ? p : w), null);
  return {
    ...summary(predictions),
    calibration_configs: calibration,
    worst,
    conditions: keys.map((key) => ({ key, ...summary(predictions.filter((p) => p.condition === key)) })),
    predictions,
  };
}
