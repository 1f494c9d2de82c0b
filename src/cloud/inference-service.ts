import type { Network } from '../model/network.js';
import { selectCuts, type CutPoint } from '../model/partition.js';
import { createSplitRunner, benchmarkInput, type HostTensor, type SplitRunner, type Timed } from '../engine/split-runner.js';
import type { RefusalCode } from '../protocol/errors.js';
import type { ResultMessage } from '../protocol/messages.js';
import type { RunnerOptions } from '../engine/runner.js';

/** A request the server cannot serve; answered with an ERROR naming the reason. */
export class BadRequest extends Error {
  constructor(message: string, readonly code: RefusalCode | 'BAD_TENSOR') {
    super(message);
  }
}

/** An inference's output and its time; a relay adds the RESULT fields the cloud reported to it, and its own. */
export interface Served extends Timed<HostTensor> {
  reply?: Pick<ResultMessage, 'cloudUs' | 'decodeUs' | 'queueUs' | 'stress' | 'relay'>;
}

/** What a server serves: the cloud's halves (InferenceService), or a relay's middle tier (src/relay/). */
export interface ServedModel {
  readonly network: Network;
  /** the point an INFER starts from, checked as the request arrives; `cut2`: its second cut (a relay's) */
  check(cut: string, shape: readonly number[], cut2?: string): CutPoint;
  infer(cut: string, x: HostTensor, cut2?: string): Promise<Served>;
}

/**
 * The cloud's inference side: every cloud half built once and warmed up at start, then
 * `infer(cut, tensor)` on whatever arrives. Knows nothing of sockets.
 */
export class InferenceService implements ServedModel {
  protected readonly runner: SplitRunner;
  private readonly byName = new Map<string, CutPoint>();

  // onnx: keep sessions worth one model's weights, so memory does not grow with the points
  constructor(readonly network: Network, runnerOptions: RunnerOptions = { sessionBudget: 1, lowMemory: true }) {
    this.runner = createSplitRunner(network, runnerOptions);
    for (const c of network.cuts) this.byName.set(c.layer, c);
  }

  /**
   * Builds every cloud half (or those of the points `only` selects, --cuts syntax; names it does
   * not know are the edge's to report) and runs each once on a tensor of its point's shape, so
   * set-up errors show at start and (within the onnx session budget) requests pay no set-up.
   * Returns how many halves it ran.
   */
  async warmUp(only?: string, onPoint?: (cut: CutPoint, ms: number) => void): Promise<number> {
    const points = only === undefined ? this.network.cuts : selectCuts(this.network.cuts, only).selected;
    let n = 0;
    for (const cut of points) {
      if (cut.kind === 'output') continue;
      const r = await this.runner.cloud(cut, benchmarkInput(cut.shape, 1));
      onPoint?.(cut, r.ms);
      n++;
    }
    return n;
  }

  /** The point named `cut` (the server maps INFER's index in its WELCOME list to this name). */
  resolve(cut: string): CutPoint {
    const c = this.byName.get(cut);
    if (!c) throw new BadRequest(`'${cut}' is not a partition point of ${this.network.id} (see dnn-cut ${this.network.id})`, 'UNKNOWN_CUT');
    return c;
  }

  /**
   * The point `cut` if a tensor of `shape` fits it (batch 1) and it has cloud work to do, else a
   * BadRequest: the cloud checks a request this way as it arrives, before queueing it.
   */
  check(cut: string, shape: readonly number[], cut2?: string): CutPoint {
    if (cut2 !== undefined) throw new BadRequest(`this is a dnn-cloud: an INFER naming a second cut ('${cut2}') goes to a dnn-relay`, 'UNKNOWN_CUT');
    const point = this.resolve(cut);
    const want = [1, ...point.shape];
    if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
      throw new BadRequest(`tensor of shape [${String(shape)}] does not fit point '${point.layer}', which takes [${want}]`, 'BAD_SHAPE');
    }
    if (point.kind === 'output') {
      throw new BadRequest(`'${point.layer}' is the edge-only point: there is no cloud work to do`, 'UNKNOWN_CUT');
    }
    return point;
  }

  /** Runs the cloud half of `cut`; the tensor must have the point's shape with batch 1. */
  infer(cut: string, x: HostTensor): Promise<Served> {
    return this.runner.cloud(this.check(cut, x.shape), x);
  }

  dispose(): Promise<void> {
    return this.runner.dispose();
  }
}
