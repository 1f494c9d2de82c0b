import type { Device } from '../conditions/device.js';
import { benchmarkInput, type SplitRunner } from '../engine/split-runner.js';
import type { Network } from '../model/network.js';
import { median } from '../stats.js';
import { calibrateSlowdown, type SlowdownProbe, type SlowdownResult } from './calibrate.js';
import type { CloudLink } from './cloud-link.js';
import { measureOnce } from './measure.js';

/**
 * --edge-slowdown on a live link: measures both ends' full model the way the sweep and the
 * adaptive stream do (through the link, alternating edge-only and cloud-only), sets the edge
 * device's CPU time, and says what it reached. Shared by the sweep and the adaptive run.
 */

/**
 * Warm-up before the first step: alternating pairs until the edge's time settles (the median of the
 * last WINDOW runs within SETTLED of the WINDOW before), for at most MAX_WARMUP_MS. A fixed handful was not enough on wasm, whose code is compiled again, faster, after
 * tens of runs: the calibration then measured a slower edge than the sweep did (4.8x against 3.8x).
 */
const WINDOW = 5;
const SETTLED = 0.05;
const MAX_WARMUP_MS = 10_000;
/** Pairs thrown away after each change of quota: the first run straddles the old and the new one. */
const CALIBRATION_SETTLE = 1;
const CALIBRATION_REPS = 9;

/** Calibrates the edge device when --edge-slowdown asks for it; undefined when it does not. */
export async function calibrateEdgeSlowdown(
  o: { slowdown?: number; edge?: Device; log: (line: string) => void },
  runner: SplitRunner,
  link: CloudLink,
  network: Network,
): Promise<SlowdownResult | undefined> {
  if (o.slowdown === undefined || !o.edge) return undefined;
  const target = o.slowdown;
  const r = await calibrateSlowdown(target, o.edge.cpuList.length, slowdownProbe(runner, link, network, o.edge), o.log);
  o.log(
    r.unreachable
      ? `--edge-slowdown ${target}: the edge is ${r.reached.toFixed(2)}x slower than the cloud already at full speed; measuring at that (lower the target or give the edge more CPUs)`
      : `--edge-slowdown ${target}: reached ${r.reached.toFixed(2)}x with ${r.cores.toFixed(3)} cores of CPU time (full model ${r.edgeMs.toFixed(1)} ms on the edge, ${r.cloudMs.toFixed(1)} ms on the cloud)`,
  );
  return r;
}

/** The calibration's figures in the run's setup metadata: the edge device's calibrated quota and what it reached. */
export function calibrationSetup(setup: Record<string, unknown>, r: SlowdownResult | undefined): Record<string, unknown> {
  if (!r) return {};
  const devices = (setup.devices ?? {}) as { edge?: Record<string, unknown> };
  const slowdown = { target: r.target, reached: +r.reached.toFixed(3), edge_ms: +r.edgeMs.toFixed(2), cloud_ms: +r.cloudMs.toFixed(2) };
  return { devices: { ...devices, edge: { ...devices.edge, cpus: +r.cores.toFixed(4), slowdown } } };
}

/** Full model on each end, as the sweep measures it: cloud compute at the cloud-only point, edge compute at the edge-only point, alternately. */
function slowdownProbe(runner: SplitRunner, link: CloudLink, network: Network, edge: Device): SlowdownProbe {
  const first = network.cuts[0]!;
  const last = network.cuts[network.cuts.length - 1]!;
  const input = benchmarkInput(network.inputShape, network.seed);
  const pair = async () => {
    const e = await measureOnce(runner, link, last, input);
    const c = await measureOnce(runner, link, first, input);
    return { edgeMs: e.edge / 1000, cloudMs: c.cloud / 1000 };
  };
  let warm = false;
  return {
    measure: async () => {
      if (!warm) {
        const edgeXs: number[] = [];
        const t0 = Date.now();
        while (!settled(edgeXs)) {
          edgeXs.push((await pair()).edgeMs);
          if (Date.now() - t0 > MAX_WARMUP_MS) break;
        }
        warm = true;
      }
      const edgeXs: number[] = [];
      const cloudXs: number[] = [];
      for (let i = 0; i < CALIBRATION_SETTLE + CALIBRATION_REPS; i++) {
        const p = await pair();
        if (i < CALIBRATION_SETTLE) continue;
        edgeXs.push(p.edgeMs);
        cloudXs.push(p.cloudMs);
      }
      return { edgeMs: median(edgeXs), cloudMs: median(cloudXs) };
    },
    setCores: (cores) => edge.setCpus(cores),
  };
}

/** The last WINDOW times' median is within SETTLED of the WINDOW before. */
function settled(xs: number[]): boolean {
  if (xs.length < 2 * WINDOW) return false;
  const last = median(xs.slice(-WINDOW));
  const before = median(xs.slice(-2 * WINDOW, -WINDOW));
  return Math.abs(last / before - 1) <= SETTLED;
}
