import { NO_CONDITION, type Condition, type ConditionKey } from '../conditions/condition.js';
import { factorsAppliedBy } from '../conditions/factors.js';
import { UserError } from '../errors.js';
import type { CellStats, ConditionData, NetworkData } from './cells.js';
import { gridConditions, pickStress, stressKey, type PredictLevels } from './cost-model.js';
import { crossings, deviceRate, edgeRate, fitLink, linkMs, observeLinks, p50, type Crossing, type LinkFit, type LinksObs } from './tier-links.js';
import { median } from './stats.js';

/**
 * --predict for a three-tier run: every measured configuration (x, y) at link rates that were not
 * measured (`dnet` for the device->edge link, `net` for the edge->cloud one), under measured stress:
 *
 *   total(x, y) = device(x, y) + Ldev(x) + edge(x, y) + Ledge(y) + cloud(x, y)
 *
 * compute parts: the configuration's own medians over every measured condition of the same stress
 * (compute does not depend on the links); each link: fixed + perByte * frame + wire / rate, fitted on
 * every measured cell of that stress that crosses it (src/analysis/tier-links.ts); a link a
 * configuration does not cross (x = output: no request; y = output: no cloud) costs 0. Pure.
 */

/** The link factors the three-tier model covers: the two rates. */
const MODELLED = new Set<string>(['net', 'dnet']);

interface StressFit {
  compute: Map<string, { device: number; edge: number; cloud: number }>;
  deviceLink?: LinkFit;
  edgeLink?: LinkFit;
}

/** The model of a three-tier sweep: its conditions' fits by stress, and the points' crossings. */
interface TierModel {
  data: NetworkData;
  /** by stressKey: the measured conditions of that stress, fitted together */
  fits: Map<string, StressFit>;
  sizes: Map<string, Crossing>;
  /** the output point: a configuration with x or y there does not cross that link */
  output: string;
}

/** The measured conditions grouped by stress, each group fitted. */
function fitTiers(data: NetworkData): TierModel {
  const points = data.tiers!.points;
  const output = points[points.length - 1]!.cut;
  const sizes = crossings(data, points);
  const groups = new Map<string, ConditionData[]>();
  for (const c of data.conditions) groups.set(stressKey(c.condition), [...(groups.get(stressKey(c.condition)) ?? []), c]);
  const fits = new Map<string, StressFit>();
  for (const [key, conds] of groups) {
    const fit: StressFit = { compute: new Map() };
    const links: LinksObs = { device: [], edge: [] };
    for (const cfg of data.cuts) {
      const t = cfg.tier!;
      const parts = { device: [] as number[], edge: [] as number[], cloud: [] as number[] };
      for (const c of conds) {
        const cell = c.cells.get(cfg.cut);
        if (p50(cell, 'total') === undefined) continue;
        for (const m of ['device', 'edge', 'cloud'] as const) {
          const v = p50(cell, m);
          if (v !== undefined) parts[m].push(v);
        }
        observeLinks(links, cell, t, c.condition, sizes, output);
      }
      if (parts.device.length && parts.edge.length && parts.cloud.length) fit.compute.set(cfg.cut, { device: median(parts.device), edge: median(parts.edge), cloud: median(parts.cloud) });
    }
    fit.deviceLink = fitLink(links.device);
    fit.edgeLink = fitLink(links.edge);
    fits.set(key, fit);
  }
  return { data, fits, sizes, output };
}

/** The predicted conditions of a --predict grid as cells (no spread: significance unknown), for the same analysis as measured ones. */
export function predictTiers(data: NetworkData, levels: PredictLevels): ConditionData[] {
  const model = fitTiers(data);
  // the grid over the measured stress levels, as for two tiers
  const conditions = gridConditions([...model.fits.keys()].map((k) => pickStress(data.conditions.find((d) => stressKey(d.condition) === k)!.condition)), levels);
  return conditions.map((c) => ({ condition: c, cells: predictedCells(model, c, '--predict') }));
}

/** Every configuration's predicted parts under c (ms, no spread); `flag` names what asked in a one-line UserError (a link factor outside the model, an unmeasured stress, no link times). */
function predictedCells({ data, fits, sizes, output }: TierModel, c: Condition, flag: string): Map<string, CellStats> {
  const off = factorsAppliedBy('link').filter((k: ConditionKey) => !MODELLED.has(k) && c[k] !== NO_CONDITION[k]);
  if (off.length) throw new UserError(`${flag}: ${off.join(' and ')} ${off.length > 1 ? 'are' : 'is'} not in the three-tier model (only the rates net and dnet); drop ${off.length > 1 ? 'them' : 'it'}`);
  const fit = fits.get(stressKey(c));
  if (!fit) throw new UserError(`${flag}: ${data.network} (three tiers) was never measured at ${stressKey(c)}; measured stress levels: ${[...fits.keys()].join(' | ')}`);
  if (!fit.deviceLink || !fit.edgeLink || sizes.size === 0) throw new UserError(`${flag}: ${data.network} (three tiers): the data has no ${!fit.deviceLink ? 'device->edge' : 'edge->cloud'} link times or no tensor sizes to fit the links on`);
  const cells = new Map<string, CellStats>();
  for (const cfg of data.cuts) {
    const t = cfg.tier!;
    const compute = fit.compute.get(cfg.cut);
    if (!compute || !sizes.has(t.x) || !sizes.has(t.y)) continue;
    const devLink = t.x === output ? 0 : linkMs(fit.deviceLink, sizes.get(t.x)!, deviceRate(c));
    const edgeLink = t.y === output ? 0 : linkMs(fit.edgeLink, sizes.get(t.y)!, edgeRate(c));
    const one = (v: number) => ({ p50: v, p95: v, mean: v, samples: 0 });
    const total = compute.device + devLink + compute.edge + edgeLink + compute.cloud;
    cells.set(cfg.cut, { device: one(compute.device), device_transfer: one(devLink), edge: one(compute.edge), transfer: one(edgeLink), cloud: one(compute.cloud), total: one(total) });
  }
  return cells;
}

/**
 * The additive model of a three-tier sweep as a function of the condition in force: each
 * configuration's (`x|y`) predicted total, ms (the oracle of a three-tier trace replay, fitted on
 * its --profile files). Throws the one-line UserError of predictedCells for a condition outside it.
 */
export function tierPredictor(data: NetworkData, flag: string): (c: Condition) => Map<string, number> {
  const model = fitTiers(data);
  return (c) => new Map([...predictedCells(model, c, flag)].map(([cut, cell]) => [cut, cell.total!.p50]));
}

