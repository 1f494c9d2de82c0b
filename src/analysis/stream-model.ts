/**
 * What frames in flight should give, from one-request-at-a-time stage times (a `single` run's cells,
 * or the cost model's prediction of them). Pure functions.
 *
 * One edge: the edge computes frame n+1 while frame n is on the wire and the cloud computes frame
 * n-1, so the pipeline delivers one frame per its slowest stage; with at most K frames in flight it
 * also cannot beat K frames per end-to-end latency (Little's law):
 *
 *   fps(1 edge) = min(1000 / max(edge, transfer, cloud), K * 1000 / (edge + transfer + cloud))
 *
 * (stage times in ms: edge = edge compute + encode, cloud = decode + cloud compute, transfer as the
 * single run measured it). N edges on one cloud: each edge offers lambda frames/s (the stream's or
 * the server's rate, or its own pipeline's capacity for `max`); the cloud serves one frame at a time
 * for `cloud` ms, first come first served:
 *
 * - utilisation rho = N * lambda * cloud / 1000;
 * - rho < 1: every edge gets lambda; the cloud's queueing is M/D/1's mean wait,
 *   rho * cloud / (2 (1 - rho)) for Poisson arrivals (`server`) and for several edges (their
 *   frames merged are close to Poisson: an upper estimate for cameras); one edge with a constant
 *   rate (a camera, or `max` paced by its slowest stage) is D/D/1: no wait;
 * - rho >= 1: the cloud is the bottleneck: 1000 / cloud frames/s in all, shared by the N edges; with
 *   K frames in flight per edge the frames wait there (asymptotic bound of the closed network):
 *   queue = N * K * cloud - (edge + transfer + cloud), at least 0.
 */

export interface StageTimes {
  edge: number;
  transfer: number;
  cloud: number;
}

export type Bottleneck = 'edge' | 'transfer' | 'cloud' | 'in-flight';

/** Frames/s one edge's pipeline delivers alone, and which limit binds. */
export function pipelineFps(s: StageTimes, inFlight: number): { fps: number; bottleneck: Bottleneck } {
  const stages: [Bottleneck, number][] = [
    ['edge', s.edge],
    ['transfer', s.transfer],
    ['cloud', s.cloud],
  ];
  const [stage, slowest] = stages.reduce((a, b) => (b[1] > a[1] ? b : a));
  const byStage = slowest > 0 ? 1000 / slowest : Infinity;
  const total = s.edge + s.transfer + s.cloud;
  const byWindow = total > 0 ? (Math.max(1, inFlight) * 1000) / total : Infinity;
  return byWindow < byStage ? { fps: byWindow, bottleneck: 'in-flight' } : { fps: byStage, bottleneck: stage };
}

export interface SharedCloud {
  edges: number;
  /** the cloud's utilisation (>= 1: saturated) */
  rho: number;
  fps_per_edge: number;
  fps_total: number;
  /** mean wait in the cloud's queue, ms */
  queue_cloud_ms: number;
  model: QueueModel;
}

export type QueueModel = 'D/D/1' | 'M/D/1' | 'saturated';

/**
 * N edges on one cloud. `rate`: frames/s each edge offers (stream / server); null for `max`
 * (each edge offers what its pipeline takes).
 */
export function sharedCloud(s: StageTimes, edges: number, inFlight: number, rate: number | null, poisson = false): SharedCloud {
  const alone = pipelineFps(s, inFlight).fps;
  const lambda = rate === null ? alone : Math.min(rate, alone);
  const rho = (edges * lambda * s.cloud) / 1000;
  if (rho < 1) {
    const steady = edges === 1 && !poisson;
    return { edges, rho, fps_per_edge: lambda, fps_total: edges * lambda, queue_cloud_ms: steady ? 0 : (rho * s.cloud) / (2 * (1 - rho)), model: steady ? 'D/D/1' : 'M/D/1' };
  }
  const total = s.cloud > 0 ? 1000 / s.cloud : Infinity;
  const queue = Math.max(0, edges * Math.max(1, inFlight) * s.cloud - (s.edge + s.transfer + s.cloud));
  return { edges, rho, fps_per_edge: total / edges, fps_total: total, queue_cloud_ms: queue, model: 'saturated' };
}

/** Poisson arrivals: the `server:RATE` scenario. */
export function isPoisson(scenario: string): boolean {
  return scenario.startsWith('server:');
}

/** The rate a scenario label offers per edge: `stream:15` -> 15, `server:20` -> 20, `max` (or unknown) -> null. */
export function offeredRate(scenario: string): number | null {
  const m = /^(stream|server):(\d+(?:\.\d+)?)$/.exec(scenario);
  return m ? Number(m[2]) : null;
}
