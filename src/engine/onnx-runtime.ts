import os from 'node:os';
import type * as Ort from 'onnxruntime-node';
import type { HostTensor, Timed } from './host-tensor.js';

/**
 * ONNX Runtime (onnxruntime-node, CPU execution provider): loading the native library, creating
 * sessions from model bytes or files, running them on float32 tensors, and a bounded cache of
 * sessions. Knows nothing of TF.js or of partition points.
 */

let ort: typeof Ort | undefined;

/** Loads the native binding once; throws a plain Error when it is missing or does not load. */
export async function loadOnnxRuntime(): Promise<typeof Ort> {
  if (!ort) {
    const m = (await import('onnxruntime-node')) as typeof Ort & { default?: typeof Ort };
    ort = m.default ?? m;
  }
  return ort;
}

/** The CPUs this process may run on (affinity included): the default for --threads. */
export function defaultThreads(): number {
  return os.availableParallelism();
}

/**
 * Execution providers, in order of preference: `DNN_ONNX_PROVIDERS` (e.g. `cuda,cpu` once the CUDA
 * provider is installed, see docs/backends.md), else the CPU provider that ships in the npm package.
 */
export function executionProviders(): string[] {
  const list = (process.env.DNN_ONNX_PROVIDERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return list.length > 0 ? list : ['cpu'];
}

export interface SessionOptions {
  /** intra-op threads */
  threads: number;
  /**
   * No weight pre-packing: a session then reads its weights straight from the mapped weight file
   * instead of holding a second, re-laid-out copy. For VGG16 (528 MB of weights) the peak while
   * creating its full session drops from ~1.9x to ~1.3x the weight bytes, and creation takes a fifth
   * of the time; batch-1 inference time did not measurably change (docs/backends.md, "Memory").
   */
  noPrepacking?: boolean;
}

/** A model loaded into ONNX Runtime with one float32 input and one float32 output. */
export class OnnxSession {
  private constructor(
    private readonly session: Ort.InferenceSession,
    readonly inputName: string,
    readonly outputName: string,
  ) {}

  /** `model`: the serialized ModelProto, or the path of a .onnx file (needed when it refers to external data). */
  static async create(model: Uint8Array | string, opts: SessionOptions): Promise<OnnxSession> {
    const rt = await loadOnnxRuntime();
    const options: Ort.InferenceSession.SessionOptions = {
      executionProviders: executionProviders(),
      intraOpNumThreads: opts.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      // No spinning: idle intra-op threads that spin burn a device's CPU quota (--edge-cpus) and
      // compete with the stressors, so latencies would measure the spin, not the work.
      extra: { session: { 'intra_op.allow_spinning': '0', ...(opts.noPrepacking ? { disable_prepacking: '1' } : {}) } },
    };
    const session = typeof model === 'string' ? await rt.InferenceSession.create(model, options) : await rt.InferenceSession.create(model, options);
    return new OnnxSession(session, session.inputNames[0]!, session.outputNames[0]!);
  }

  /** Runs the model; the result is copied to host memory (a Float32Array the caller owns). */
  async run(x: HostTensor): Promise<HostTensor> {
    const rt = ort!;
    const feeds = { [this.inputName]: new rt.Tensor('float32', x.data, x.shape) };
    const out = (await this.session.run(feeds))[this.outputName]!;
    const data = out.data as Float32Array;
    const shape = out.dims.slice();
    out.dispose();
    return { data, shape };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Sessions by key, least recently used evicted first, so that the weights held by all cached
 * sessions stay within `budgetBytes` (one session larger than the budget is still kept alone).
 * ONNX Runtime sessions do not share weights: without a bound, a cloud keeping every half of
 * VGG16 would hold its 528 MB of weights about a dozen times over.
 */
const MIN_BUDGET_BYTES = 512 * 1024 * 1024;

export class SessionCache {
  private readonly entries = new Map<string, { session: Promise<OnnxSession>; bytes: number }>();
  private held = 0;
  /** sessions created so far (a figure for tests and benches) */
  created = 0;

  constructor(readonly budgetBytes: number) {}

  /**
   * The budget for a model of `modelBytes` weights: `share` times them, but never under
   * MIN_BUDGET_BYTES. Measurement cycles through the points rep by rep, so a cache smaller than
   * the halves of a small model would rebuild a session on every request; a small model's halves
   * all fit, and only large models (VGG16) are held to their weights' size.
   */
  static budgetFor(modelBytes: number, share: number, minBytes = MIN_BUDGET_BYTES): number {
    return Math.max(share * modelBytes, minBytes);
  }

  /** `prepare` returns the model's weight bytes and a function creating its session. */
  async get(key: string, prepare: () => { bytes: number; create: () => Promise<OnnxSession> }): Promise<OnnxSession> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit); // most recent last
      return hit.session;
    }
    const { bytes, create } = prepare();
    await this.evictFor(bytes);
    const session = create();
    this.entries.set(key, { session, bytes });
    this.held += bytes;
    this.created++;
    try {
      return await session;
    } catch (e) {
      this.entries.delete(key);
      this.held -= bytes;
      throw e;
    }
  }

  private async evictFor(bytes: number): Promise<void> {
    for (const [key, e] of this.entries) {
      if (this.held + bytes <= this.budgetBytes) break;
      this.entries.delete(key);
      this.held -= e.bytes;
      await (await e.session).release();
    }
  }

  async clear(): Promise<void> {
    await this.evictFor(Infinity);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Sessions that have run once (see timedRun). */
const warmed = new WeakSet<OnnxSession>();

/**
 * Runs a half and times the run; no session (a point with nothing on this side) copies its input.
 * A session's first run allocates its buffers and arena, which is not what a deployed half costs:
 * it runs once unmeasured first. After a cache eviction (large models, points interleaved) every
 * measured run would otherwise be a first one.
 */
export async function timedRun(session: OnnxSession | null, x: HostTensor): Promise<Timed<HostTensor>> {
  if (session === null) {
    const t0 = performance.now();
    const data = x.data.slice();
    return { value: { data, shape: x.shape.slice() }, ms: performance.now() - t0 };
  }
  if (!warmed.has(session)) {
    await session.run(x);
    warmed.add(session);
  }
  const t0 = performance.now();
  const value = await session.run(x);
  return { value, ms: performance.now() - t0 };
}
