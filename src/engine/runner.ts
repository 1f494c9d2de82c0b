import type { CutPoint } from '../model/partition.js';
import type { HostTensor, Timed } from './host-tensor.js';

/**
 * Runs the edge and cloud halves of a network's partition points on the selected backend. Every
 * time covers the half's compute and the copy of its result to host memory; building a half
 * (on first use) is never timed.
 */
export interface SplitRunner {
  /** Edge half on the input: the crossing tensor. */
  edge(cut: CutPoint, input: HostTensor): Promise<Timed<HostTensor>>;
  /** Cloud half on a received tensor: the model output. */
  cloud(cut: CutPoint, x: HostTensor): Promise<Timed<HostTensor>>;
  /**
   * The middle tier's part (three tiers): the layers after point `from` up to point `to`'s output,
   * on the crossing tensor of `from`. `from` must not come after `to`; `from` = `to` runs nothing
   * (the tensor is copied, like a half with nothing to run); the input point as `from` is an edge
   * half, the output point as `to` a cloud half.
   */
  middle(from: CutPoint, to: CutPoint, x: HostTensor): Promise<Timed<HostTensor>>;
  /** The full model, for reference timings. */
  full(input: HostTensor): Promise<Timed<HostTensor>>;
  /** Frees what the runner built (sessions, temporary files). */
  dispose(): Promise<void>;
}

export interface RunnerOptions {
  /**
   * onnx backend: bound on the weight bytes of the sessions kept, in multiples of the model's
   * weight bytes (default 2: a full model and a pair of halves). Sessions do not share weights.
   */
  sessionBudget?: number;
  /** onnx backend: the budget is never below this many bytes (default 512 MiB: a small model's halves all stay) */
  minSessionBytes?: number;
  /** onnx backend: sessions without weight pre-packing (the cloud: see SessionOptions.noPrepacking) */
  lowMemory?: boolean;
}
