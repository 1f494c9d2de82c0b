/**
 * --edge-slowdown X: an emulated device class. The edge's CPU time limit is set so that the full
 * model on the edge takes X times as long as on the cloud. Inference time scales with the inverse
 * of the CPU quota (the model runs on one core), so each step predicts the quota from the last
 * measurement and measures again, until the ratio is within TOLERANCE of X.
 * Each step measures both ends, alternating the edge-only and the cloud-only point as the sweep
 * does: a throttled edge measured back to back (always busy, never idle between inferences) ran
 * 1.3-1.6x slower than the same quota inside the sweep, so a back-to-back calibration overshot.
 */
export interface SlowdownProbe {
  /**
   * Medians (ms) of the full model on the edge under its current limit (edge-only point, edge
   * compute) and on the cloud (cloud-only point, cloud compute), measured alternately.
   */
  measure(): Promise<{ edgeMs: number; cloudMs: number }>;
  /** sets the edge's CPU time in cores */
  setCores(cores: number): void;
}

export interface SlowdownResult {
  target: number;
  /** edge time / cloud time as last measured */
  reached: number;
  cores: number;
  edgeMs: number;
  cloudMs: number;
  /** the ratio at full speed already exceeded the target: no limit could reach it */
  unreachable: boolean;
}

const TOLERANCE = 0.05;
const MAX_STEPS = 5;
export const MIN_CORES = 0.01;

/** The quota that should turn `ratio` measured at `cores` into `target` (clamped to what the device has). */
export function nextCores(cores: number, ratio: number, target: number, maxCores: number): number {
  return Math.min(maxCores, Math.max(MIN_CORES, (cores * ratio) / target));
}

export async function calibrateSlowdown(target: number, maxCores: number, probe: SlowdownProbe, log: (line: string) => void, flag = '--edge-slowdown'): Promise<SlowdownResult> {
  let cores = maxCores;
  probe.setCores(cores);
  let { edgeMs, cloudMs } = await probe.measure();
  let ratio = edgeMs / cloudMs;
  log(`calibrating ${flag} ${target}: full model ${cloudMs.toFixed(1)} ms on the cloud, ${edgeMs.toFixed(1)} ms on the edge at ${cores} core${cores === 1 ? '' : 's'} (${ratio.toFixed(2)}x)`);
  if (ratio > target * (1 + TOLERANCE)) {
    return { target, reached: ratio, cores, edgeMs, cloudMs, unreachable: true };
  }
  const miss = (r: number) => Math.abs(r / target - 1);
  let best = { cores, edgeMs, cloudMs, ratio };
  for (let step = 0; step < MAX_STEPS && miss(ratio) > TOLERANCE; step++) {
    const next = nextCores(cores, ratio, target, maxCores);
    if (Math.abs(next - cores) < 1e-3) break;
    cores = next;
    probe.setCores(cores);
    ({ edgeMs, cloudMs } = await probe.measure());
    ratio = edgeMs / cloudMs;
    log(`  ${cores.toFixed(3)} cores: ${edgeMs.toFixed(1)} ms on the edge, ${cloudMs.toFixed(1)} ms on the cloud (${ratio.toFixed(2)}x)`);
    if (miss(ratio) < miss(best.ratio)) best = { cores, edgeMs, cloudMs, ratio };
  }
  if (miss(ratio) > TOLERANCE && best.cores !== cores) {
    // A full model that fits in one quota slice (~1 ms per 10 ms period) is not slowed by a quota:
    // the steps would only starve the edge. Keep the closest step instead of the last one.
    log(`  not within ${TOLERANCE * 100} % of ${target}x: keeping the closest step, ${best.cores.toFixed(3)} cores (${best.ratio.toFixed(2)}x): the timings are noisy, or a full model of ${best.edgeMs.toFixed(1)} ms is too short for a CPU quota to slow it evenly`);
    probe.setCores(best.cores);
  }
  return { target, reached: best.ratio, cores: best.cores, edgeMs: best.edgeMs, cloudMs: best.cloudMs, unreachable: false };
}
