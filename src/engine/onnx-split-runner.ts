import type * as tf from '@tensorflow/tfjs';
import { rmSync } from 'node:fs';
import { disposeNetwork, type LayersNetwork } from '../model/network.js';
import { layerTensor, type CutPoint } from '../model/partition.js';
import { spanToOnnx } from '../model/onnx/from-layers.js';
import type { ModelProto } from '../model/onnx/onnx-codec.js';
import { WeightFile, weightBytes } from '../model/onnx/weight-file.js';
import type { HostTensor, Timed } from './host-tensor.js';
import { collectGarbage } from './gc.js';
import { OnnxSession, SessionCache, timedRun } from './onnx-runtime.js';

type Span = { key: string; model: () => ModelProto } | null;

/**
 * The onnx backend: each half is the TF.js layer graph between two tensors converted to an ONNX
 * graph (NHWC in and out, so it interoperates with TF.js ends), its weights in one file written
 * once. Sessions live in a SessionCache bounded by weight bytes. Creating the runner converts the
 * whole model and releases the TF.js copy of the weights: from then on the file holds them.
 */
export class OnnxSplitRunner {
  private readonly weights = new WeightFile();
  private readonly sessions: SessionCache;
  /** weight bytes of the whole model */
  readonly modelBytes: number;

  constructor(
    readonly network: LayersNetwork,
    readonly threads: number,
    private readonly opts: { sessionBudget?: number; minSessionBytes?: number; lowMemory?: boolean } = {},
  ) {
    const full = this.spanModel('full', this.network.graph.input, this.network.graph.output);
    this.modelBytes = weightBytes(full);
    this.sessions = new SessionCache(SessionCache.budgetFor(this.modelBytes, opts.sessionBudget ?? 2, opts.minSessionBytes));
    // every weight is in the file now: later halves only refer to it
    disposeNetwork(network);
    // the TF.js copy is garbage now: give it back before sessions map the file (VGG16: 528 MB)
    collectGarbage();
  }

  private spanModel(name: string, from: tf.SymbolicTensor, to: tf.SymbolicTensor): ModelProto {
    return spanToOnnx(this.network.graph, from, to, this.weights, `${this.network.id}_${name}`);
  }

  private full_(): Span {
    return { key: 'full', model: () => this.spanModel('full', this.network.graph.input, this.network.graph.output) };
  }

  private edgeSpan(cut: CutPoint): Span {
    if (cut.kind === 'input') return null;
    if (cut.kind === 'output') return this.full_();
    return { key: `edge:${cut.layer}`, model: () => this.spanModel(`edge_${cut.layer}`, this.network.graph.input, layerTensor(cut)) };
  }

  private cloudSpan(cut: CutPoint): Span {
    if (cut.kind === 'output') return null;
    if (cut.kind === 'input') return this.full_();
    return { key: `cloud:${cut.layer}`, model: () => this.spanModel(`cloud_${cut.layer}`, layerTensor(cut), this.network.graph.output) };
  }

  /** The middle tier's span; an end at the input or output point is a half, sharing its session. */
  private middleSpan(from: CutPoint, to: CutPoint): Span {
    if (from.layer === to.layer) return null;
    if (from.kind === 'input') return this.edgeSpan(to);
    if (to.kind === 'output') return this.cloudSpan(from);
    const name = `middle_${from.layer}_${to.layer}`;
    return { key: `middle:${from.layer}|${to.layer}`, model: () => this.spanModel(name, layerTensor(from), layerTensor(to)) };
  }

  private session(span: NonNullable<Span>): Promise<OnnxSession> {
    return this.sessions.get(span.key, () => {
      const model = span.model();
      return {
        bytes: weightBytes(model),
        create: async () => {
          const file = this.weights.writeModel(model);
          try {
            return await OnnxSession.create(file, { threads: this.threads, noPrepacking: this.opts.lowMemory });
          } finally {
            rmSync(file, { force: true });
          }
        },
      };
    });
  }

  private async run(span: Span, x: HostTensor): Promise<Timed<HostTensor>> {
    return timedRun(span === null ? null : await this.session(span), x);
  }

  edge(cut: CutPoint, input: HostTensor): Promise<Timed<HostTensor>> {
    return this.run(this.edgeSpan(cut), input);
  }

  cloud(cut: CutPoint, x: HostTensor): Promise<Timed<HostTensor>> {
    return this.run(this.cloudSpan(cut), x);
  }

  middle(from: CutPoint, to: CutPoint, x: HostTensor): Promise<Timed<HostTensor>> {
    return this.run(this.middleSpan(from, to), x);
  }

  full(input: HostTensor): Promise<Timed<HostTensor>> {
    return this.run(this.full_(), input);
  }

  /** sessions created so far and kept now (for tests and benches) */
  get cacheStats(): { created: number; kept: number } {
    return { created: this.sessions.created, kept: this.sessions.size };
  }

  async dispose(): Promise<void> {
    await this.sessions.clear();
    this.weights.remove();
  }
}
