import type { Network } from '../model/network.js';
import { selectCuts, type CutPoint } from '../model/partition.js';
import { createSplitRunner, benchmarkInput, type HostTensor, type SplitRunner, type Timed } from '../engine/split-runner.js';
import type { RefusalCode } from '../protocol/errors.js';

/** A request the cloud cannot serve; answered with an ERROR naming the reason. */
export class BadRequest extends Error {
  constructor(message: string, readonly code: Extract<RefusalCode, 'UNKNOWN_CUT' | 'BAD_SHAPE'> | 'BAD_TENSOR') {
    super(message);
  }
}

/**
 * The cloud's inference side: every cloud half built once and warmed up at start, then
 * `infer(cut, tensor)` on whatever arrives. Knows nothing of sockets.
 */
export class InferenceService {
  private readonly runner: SplitRunner;
  private readonly byName = new Map<string, CutPoint>();

  constructor(readonly network: Network) {
    // onnx: keep sessions worth one model's weights, so memory does not grow with the points
    this.runner = createSplitRunner(network, { sessionBudget: 1, lowMemory: true });
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
  check(cut: string, shape: readonly number[]): CutPoint {
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
  infer(cut: string, x: HostTensor): Promise<Timed<HostTensor>> {
    return this.runner.cloud(this.check(cut, x.shape), x);
  }

  dispose(): Promise<void> {
    return this.runner.dispose();
  }
}
