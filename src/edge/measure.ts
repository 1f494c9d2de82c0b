import type { CutPoint } from '../model/partition.js';
import type { HostTensor, SplitRunner } from '../engine/split-runner.js';
import type { CloudLink } from './cloud-link.js';
import type { Sample } from './samples.js';

/**
 * One inference split at `cut`: edge half, hand-off, cloud half. Times:
 * edge = edge compute including reading the crossing tensor back; cloud = as the cloud reports it;
 * transfer = round trip at the edge minus the cloud's compute; total = measured end to end.
 * The edge-only point has no transfer and no cloud work: nothing is sent.
 */
export async function measureOnce(runner: SplitRunner, link: CloudLink, cut: CutPoint, input: HostTensor, o: { probe?: boolean } = {}): Promise<Sample> {
  const t0 = performance.now();
  // A link probe sends zeros of the point's shape: no edge compute, the cloud half runs as usual.
  const edge = o.probe ? { value: { data: new Float32Array(cut.bytes / 4), shape: [1, ...cut.shape] }, ms: 0 } : await runner.edge(cut, input);
  if (cut.kind === 'output') {
    const total = performance.now() - t0;
    return { edge: edge.ms * 1000, transfer: 0, cloud: 0, total: total * 1000 };
  }
  const t1 = performance.now();
  const reply = await link.infer(cut, edge.value);
  const t2 = performance.now();
  return {
    edge: edge.ms * 1000,
    cloud: reply.cloudMs * 1000,
    transfer: (t2 - t1 - reply.cloudMs) * 1000,
    total: (t2 - t0) * 1000,
  };
}
