import { benchmarkInput, createSplitRunner, type HostTensor, type SplitRunner } from '../../src/engine/split-runner.js';
import { disposeNetwork } from '../../src/model/network.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import type { CloudLink, CloudStressAck, InferReply, LinkFailure } from '../../src/edge/cloud-link.js';
import type { CutPoint } from '../../src/model/partition.js';

/**
 * A cloud in this process: INFER runs the cloud half with the same SplitRunner. `failAt(n)` says
 * whether the n-th infer call (from 1) fails, and how; a failed call does no work and needs a reconnect.
 */
export class InProcessLink implements CloudLink {
  calls = 0;
  /** the point of every call, in order */
  readonly layers: string[] = [];
  reconnects = 0;
  connected = true;
  constructor(
    private readonly runner: SplitRunner,
    private readonly failAt: (call: number) => LinkFailure | Error | null,
  ) {}

  async infer(cut: CutPoint, tensor: HostTensor): Promise<InferReply> {
    this.calls++;
    this.layers.push(cut.layer);
    if (!this.connected) throw new Error('infer on a dropped link: the sweep did not reconnect');
    const failure = this.failAt(this.calls);
    if (failure) {
      this.connected = false;
      throw failure;
    }
    const r = await this.runner.cloud(cut, tensor);
    return { output: r.value, cloudMs: r.ms };
  }

  async setCloudStress(): Promise<CloudStressAck | null> {
    return null;
  }

  async reconnect(): Promise<void> {
    this.reconnects++;
    this.connected = true;
  }

  async close(): Promise<void> {
    this.connected = false;
  }
}

/** LeNet with one runner for both halves and its benchmark input, disposed when the test `t` ends. */
export async function lenetHere(t: { teardown(fn: () => Promise<void>): void }) {
  const network = await loadNetwork('lenet', { seed: 1 });
  const runner = createSplitRunner(network);
  const input = benchmarkInput(network.inputShape, network.seed);
  t.teardown(async () => {
    await runner.dispose();
    disposeNetwork(network);
  });
  return { network, runner, input };
}
