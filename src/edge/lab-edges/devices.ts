import { formatCpuList, parseCpuList, type DeviceLimits } from '../../conditions/cgroup.js';
import { UserError } from '../../errors.js';

/** `--edges N`: from one edge (today's lab) to this many. */
export const MAX_EDGES = 16;
/**
 * The least CPU time an edge device gets: below a tenth of a core a device spends most of each
 * quota period throttled, and its latencies measure the throttling, not the model.
 */
export const MIN_EDGE_CORES = 0.1;

/**
 * Each edge's device when the lab runs N of them. They share the edge CPU set (on a 2-core machine:
 * one CPU for the edges, the other for the cloud), each in its own cgroup with its own CPU time:
 * --edge-cpus as given, or --edge-slowdown's calibrated quota (edge 0 calibrates, every edge gets
 * the same), or else an equal share of the set (its size / N), so that no edge eats another's.
 * Refuses N the machine cannot give devices for. N = 1: the limits as they are (today's lab).
 */
export function edgeDeviceLimits(n: number, edge: DeviceLimits, o: { slowdown?: number; memAvailable: number }): DeviceLimits {
  if (n === 1) return edge;
  const set = parseCpuList(edge.cpuset!);
  const where = `the edges share CPU${set.length > 1 ? 's' : ''} ${formatCpuList(set)}`;
  if (edge.cpus !== undefined && n * edge.cpus > set.length + 1e-9) {
    throw new UserError(`--edges ${n} with --edge-cpus ${edge.cpus}: ${where}, ${set.length} core${set.length > 1 ? 's' : ''} of CPU time, not ${+(n * edge.cpus).toFixed(3)}; use at most ${Math.floor(set.length / edge.cpus)} edges, lower --edge-cpus or widen --edge-cpuset`);
  }
  const share = set.length / n;
  if (edge.cpus === undefined && share < MIN_EDGE_CORES) {
    throw new UserError(`--edges ${n}: ${where}, ${+share.toFixed(3)} cores of CPU time each, below the ${MIN_EDGE_CORES} an edge device needs; use at most ${Math.floor(set.length / MIN_EDGE_CORES)} edges or widen --edge-cpuset`);
  }
  if (edge.memoryBytes !== undefined && n * edge.memoryBytes > o.memAvailable) {
    throw new UserError(`--edges ${n} with --edge-memory ${edge.memoryBytes}: ${n} edges need ${(n * edge.memoryBytes / 2 ** 20).toFixed(0)} MiB, ${(o.memAvailable / 2 ** 20).toFixed(0)} MiB are available; use fewer edges or lower --edge-memory`);
  }
  // --edge-slowdown sets the quota itself once edge 0 has calibrated it
  if (o.slowdown !== undefined || edge.cpus !== undefined) return edge;
  return { ...edge, cpus: +share.toFixed(4) };
}
