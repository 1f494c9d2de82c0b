/**
 * An adaptive results file read for the policy benches (policy-cost, policy-replay): its request
 * lines, the cost model fitted on its profile cells as the run fits it, and the conditions named on
 * the lines. A gzipped file (docs/data) is read as it is, as the loader reads it.
 */
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { loadResultFiles } from '../src/analysis/load-results.js';
import { isGzip } from '../src/results/log-lines.js';
import { fitCostModel, type CostModel } from '../src/analysis/cost-model.js';
import { NO_CONDITION, type Condition } from '../src/conditions/condition.js';
import { parseConditionLine } from '../src/conditions/grid.js';
import type { Observation } from '../src/edge/adaptive/policy.js';
import type { RequestRecord } from '../src/edge/adaptive/stream.js';

export interface AdaptiveFile {
  path: string;
  requests: RequestRecord[];
  model: CostModel;
  /** the rate the run's policies started from (the first estimate on a line), as the run passes it */
  initialRate: number | null;
  conditionOf(key: string): Condition;
}

export function readAdaptiveFile(given: string): AdaptiveFile {
  const path = given;
  const raw = readFileSync(path);
  const requests = (isGzip(raw) ? gunzipSync(raw) : raw)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.startsWith('#dnn-request '))
    .map((l) => JSON.parse(l.slice('#dnn-request '.length)) as RequestRecord);
  const net = loadResultFiles([path]).networks.find((n) => n.scenario === undefined);
  if (!net) throw new Error(`${given}: no profile cells`);
  const model = fitCostModel(net, 'p50');
  if ('reason' in model) throw new Error(`${given}: ${model.reason}`);
  const conditions = new Map<string, Condition>();
  return {
    path,
    requests,
    model,
    initialRate: requests.find((r) => r.est_mbit !== null)?.est_mbit ?? null,
    conditionOf: (key) => {
      let c = conditions.get(key);
      if (!c) conditions.set(key, (c = parseConditionLine(key, 'request', NO_CONDITION).condition));
      return c;
    },
  };
}

/** What the policy learned from the request (ms), as the run loop tells it. */
export const observationOf = (r: RequestRecord): Observation => ({
  cut: r.cut,
  edge_ms: r.edge_ms,
  transfer_ms: r.transfer_ms,
  cloud_ms: r.cloud_ms,
  bytes: r.bytes,
  encode_ms: r.encode_ms,
  decode_ms: r.decode_ms,
  total_ms: r.total_ms,
});
