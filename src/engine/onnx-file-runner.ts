import type { OnnxFileNetwork } from '../model/network.js';
import type { CutPoint } from '../model/partition.js';
import { onnxHalves, onnxMiddle } from '../model/onnx/onnx-network.js';
import { encodeModel, type ModelProto } from '../model/onnx/onnx-codec.js';
import { weightBytes } from '../model/onnx/weight-file.js';
import type { HostTensor, Timed } from './host-tensor.js';
import { OnnxSession, SessionCache, timedRun } from './onnx-runtime.js';
import type { SplitRunner } from './runner.js';

/**
 * Runs the halves of an ONNX file's points on ONNX Runtime: each half is the subgraph extracted
 * from the file (weights embedded), its session built on first use and kept in a SessionCache
 * bounded by weight bytes, as for zoo models on the onnx backend.
 */
export class OnnxFileRunner implements SplitRunner {
  private readonly sessions: SessionCache;
  readonly modelBytes: number;

  constructor(
    readonly network: OnnxFileNetwork,
    readonly threads: number,
    private readonly opts: { sessionBudget?: number; minSessionBytes?: number; lowMemory?: boolean } = {},
  ) {
    this.modelBytes = weightBytes(network.onnx.proto);
    this.sessions = new SessionCache(SessionCache.budgetFor(this.modelBytes, opts.sessionBudget ?? 2, opts.minSessionBytes));
  }

  private session(key: string, model: () => ModelProto): Promise<OnnxSession> {
    return this.sessions.get(key, () => {
      const m = model();
      return { bytes: weightBytes(m), create: () => OnnxSession.create(encodeModel(m), { threads: this.threads, noPrepacking: this.opts.lowMemory }) };
    });
  }

  private async run(key: string, model: (() => ModelProto) | null, x: HostTensor): Promise<Timed<HostTensor>> {
    return timedRun(model === null ? null : await this.session(key, model), x);
  }

  /** The same full-model session serves the edge of the edge-only point and the cloud of the cloud-only one. */
  private key(cut: CutPoint, side: 'edge' | 'cloud'): string {
    if ((side === 'edge' && cut.kind === 'output') || (side === 'cloud' && cut.kind === 'input')) return 'full';
    return `${side}:${cut.layer}`;
  }

  edge(cut: CutPoint, input: HostTensor): Promise<Timed<HostTensor>> {
    const half = cut.kind === 'input' ? null : () => onnxHalves(this.network, cut).edge!;
    return this.run(this.key(cut, 'edge'), half, input);
  }

  cloud(cut: CutPoint, x: HostTensor): Promise<Timed<HostTensor>> {
    const half = cut.kind === 'output' ? null : () => onnxHalves(this.network, cut).cloud!;
    return this.run(this.key(cut, 'cloud'), half, x);
  }

  middle(from: CutPoint, to: CutPoint, x: HostTensor): Promise<Timed<HostTensor>> {
    if (from.layer === to.layer) return this.run('none', null, x);
    // an end at the input or output point is a half: it shares that half's (or the full model's) session
    if (from.kind === 'input') return this.edge(to, x);
    if (to.kind === 'output') return this.cloud(from, x);
    return this.run(`middle:${from.layer}|${to.layer}`, () => onnxMiddle(this.network, from, to)!, x);
  }

  full(input: HostTensor): Promise<Timed<HostTensor>> {
    return this.run('full', () => this.network.onnx.proto, input);
  }

  async dispose(): Promise<void> {
    await this.sessions.clear();
  }
}
