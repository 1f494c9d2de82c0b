import type { Device } from '../conditions/device.js';
import type { SplitRunner } from '../engine/split-runner.js';
import type { Network } from '../model/network.js';
import { median } from '../analysis/stats.js';
import { calibrateSlowdown, type SlowdownProbe, type SlowdownResult } from './calibrate.js';
import type { CloudLink } from './cloud-link.js';
import { fullModelPair, logWarmUp, warmUntilSettled } from './warm-up.js';
import type { RunConditions } from '../results/metadata.js';

/**
 * --edge-slowdown on a live link: measures both ends' full model the way the sweep and the
 * adaptive stream do (through the link, alternating edge-only and cloud-only), sets the edge
 * device's CPU time, and says what it reached. Shared by the sweep and the adaptive run.
 */

/** Pairs thrown away after each change of quota: the first run straddles the old and the new one. */
const CALIBRATION_SETTLE = 1;
const CALIBRATION_REPS = 9;

/** Calibrates the edge device when --edge-slowdown asks for it; undefined when it does not. */
async function calibrateEdgeSlowdown(
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

/**
 * Before a run's first measurement: --edge-slowdown's calibration (which warms up first) or, without
 * it, the warm-up alone, so that the baseline measured next is not measured on a cold edge.
 */
export async function calibrateOrWarmUp(
  o: { slowdown?: number; edge?: Device; log: (line: string) => void },
  runner: SplitRunner,
  link: CloudLink,
  network: Network,
): Promise<SlowdownResult | undefined> {
  const r = await calibrateEdgeSlowdown(o, runner, link, network);
  if (!r) logWarmUp(o.log, await warmUntilSettled(fullModelPair(runner, link, network)));
  return r;
}

/** The calibration's figures in the run's setup metadata: the edge device's calibrated quota and what it reached. */
export function calibrationSetup(setup: RunConditions, r: SlowdownResult | undefined): RunConditions {
  if (!r) return {};
  const slowdown = { target: r.target, reached: +r.reached.toFixed(3), edge_ms: +r.edgeMs.toFixed(2), cloud_ms: +r.cloudMs.toFixed(2) };
  return { devices: { edge: { ...setup.devices?.edge, cpus: +r.cores.toFixed(4), slowdown }, cloud: setup.devices?.cloud ?? null } };
}

/** Full model on each end, alternately; warmed up until the edge settles before the first step. */
function slowdownProbe(runner: SplitRunner, link: CloudLink, network: Network, edge: Device): SlowdownProbe {
  const pair = fullModelPair(runner, link, network);
  let warm = false;
  return {
    measure: async () => {
      if (!warm) {
        await warmUntilSettled(pair);
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
