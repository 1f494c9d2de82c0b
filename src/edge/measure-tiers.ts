import type { SplitRunner } from '../engine/split-runner.js';
import type { TierConfig } from '../model/tier-configs.js';
import type { CloudLink } from './cloud-link.js';
import { modelInput, type SampleInput } from './measure.js';

/**
 * One three-tier sample, µs: device = preprocessing + the device's compute up to x (reading the
 * crossing back included); device_transfer = the device's round trip to the relay minus the
 * relay's own time for the request as it reports it (its compute, its round trip to the cloud);
 * edge = the relay's compute after x up to y; transfer = the relay's round trip to the cloud minus
 * the cloud's decode and compute (0 when the cloud is unused); cloud = the cloud's compute;
 * total = the device's end to end. Tiers unused are 0.
 */
export interface TierSample {
  device: number;
  device_transfer: number;
  edge: number;
  transfer: number;
  cloud: number;
  total: number;
}

/**
 * Measures configuration (x, y) once: the device computes up to x, sends x's crossing (raw
 * float32) to the relay naming y as the second cut, and waits for the output. x = the output point:
 * the device does everything and nothing is sent. The cloud's decode time (0 for the raw crossing
 * the relay forwards) is counted with device_transfer, so the parts add up to the total up to the
 * device's own bookkeeping between them.
 */
export async function measureTiers(runner: SplitRunner, link: CloudLink, config: TierConfig, input: SampleInput): Promise<TierSample> {
  const { x, y } = config;
  const t0 = performance.now();
  const { x: modelIn, ms: preMs } = modelInput(input);
  const dev = await runner.edge(x, modelIn);
  const device = (preMs + dev.ms) * 1000;
  if (x.kind === 'output') {
    return { device, device_transfer: 0, edge: 0, transfer: 0, cloud: 0, total: (performance.now() - t0) * 1000 };
  }
  const t1 = performance.now();
  const reply = await link.infer(x, dev.value, undefined, { cut2: y });
  const t2 = performance.now();
  if (!reply.relay) throw new Error(`bug: the reply to a two-cut INFER (${x.layer}|${y.layer}) carries no relay times`);
  const { edgeMs, transferMs } = reply.relay;
  const relayOwn = edgeMs + transferMs + (reply.decodeMs ?? 0) + reply.cloudMs;
  return {
    device,
    device_transfer: (t2 - t1 - relayOwn) * 1000,
    edge: edgeMs * 1000,
    transfer: transferMs * 1000,
    cloud: reply.cloudMs * 1000,
    total: (t2 - t0) * 1000,
  };
}
