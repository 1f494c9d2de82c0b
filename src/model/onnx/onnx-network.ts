import { createHash } from 'node:crypto';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { UserError, errorMessage, firstLine } from '../../errors.js';
import { loadOnnxRuntime } from '../../engine/onnx-runtime.js';
import type { LoadOptions, OnnxFileNetwork } from '../network.js';
import type { CutPoint } from '../partition.js';
import { extractModel, floatValue, fullModelBytes, loadOnnxModel, modelInput, modelOutput, paramsOf, type OnnxModel } from './onnx-model.js';
import type { ModelProto } from './proto.js';
import { nodesFor } from './onnx-graph.js';

/**
 * An ONNX file as a network: its points are the values every input-to-output path passes
 * through. Their shapes come from ONNX Runtime itself (one run of the model with every point as
 * an extra output), so no shape inference of our own can disagree with what runs; a point
 * whose value is not float32, or not batch 1, cannot cross and is left out.
 */
export async function loadOnnxNetwork(spec: string, opts: LoadOptions): Promise<OnnxFileNetwork> {
  const t0 = performance.now();
  const model = await loadOnnxModel(spec, opts.inputShape);
  const shapes = await probeShapes(model);
  const graph = model.proto.graph!;
  const cuts: CutPoint[] = [];
  for (const value of model.points) {
    const probed = shapes.get(value);
    if (!probed || probed.type !== 'float32' || probed.dims[0] !== 1) continue;
    const shape = probed.dims.slice(1);
    const index = model.flow.producer.get(value) ?? -1;
    const kind = value === model.input ? 'input' : value === model.output ? 'output' : 'inner';
    cuts.push({
      index,
      layer: value,
      shape,
      bytes: 4 * shape.reduce((a, b) => a * b, 1),
      kind,
      edgeParams: kind === 'input' ? 0 : paramsOf(model, nodesFor(model.flow, graph, [value], new Set([model.input]))),
    });
  }
  const base = path.basename(spec).replace(/\.onnx$/i, '');
  return {
    id: base,
    source: 'onnx',
    file: path.resolve(spec),
    onnx: model,
    cuts,
    layers: graph.node.length,
    params: paramsOf(model, graph.node.map((_, i) => i)),
    inputShape: model.inputDims.slice(1),
    seed: opts.seed,
    weights: 'file',
    fingerprint: createHash('sha256').update(`onnx:${model.digest}:${model.inputDims.join('x')}`).digest('hex').slice(0, 32),
    buildMs: performance.now() - t0,
  };
}

interface Probed {
  type: string;
  dims: number[];
}

/** Runs the model once with every point as an output and reads their types and shapes. */
async function probeShapes(model: OnnxModel): Promise<Map<string, Probed>> {
  let ort: typeof Ort;
  try {
    ort = await loadOnnxRuntime();
  } catch (e) {
    throw new UserError(`ONNX models need onnxruntime-node, which does not load here (${firstLine(errorMessage(e))}); reinstall dependencies with \`npm ci\``);
  }
  const where = `'${path.basename(model.file)}'`;
  let session: Ort.InferenceSession;
  try {
    // One thread, set explicitly: ORT's default pins a pool thread per core and fails (loudly) on a
    // CPU outside this process's set, e.g. in a lab device.
    session = await ort.InferenceSession.create(fullModelBytes(model, model.points), { graphOptimizationLevel: 'basic', logSeverityLevel: 3, intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (e) {
    throw new UserError(`ONNX Runtime cannot load ${where}: ${firstLine(errorMessage(e), 200)}`);
  }
  try {
    const n = model.inputDims.reduce((a, b) => a * b, 1);
    const x = new Float32Array(n).fill(0.5);
    let out: Ort.InferenceSession.ReturnType;
    try {
      out = await session.run({ [model.input]: new ort.Tensor('float32', x, model.inputDims) });
    } catch (e) {
      throw new UserError(`ONNX Runtime cannot run ${where} on input ${model.inputDims.join('x')}: ${firstLine(errorMessage(e), 200)}`);
    }
    const shapes = new Map<string, Probed>([[model.input, { type: 'float32', dims: model.inputDims }]]);
    for (const [name, t] of Object.entries(out)) {
      shapes.set(name, { type: t.type, dims: t.dims.slice() });
      t.dispose();
    }
    return shapes;
  } finally {
    await session.release();
  }
}



/**
 * The two sub-models of one point of an ONNX file, as in halves.ts: `null` = nothing to run on
 * that side (the edge of the cloud-only point, the cloud of the edge-only point).
 */
export function onnxHalves(network: OnnxFileNetwork, cut: CutPoint): { edge: ModelProto | null; cloud: ModelProto | null } {
  const m = network.onnx;
  const full = m.proto;
  if (cut.kind === 'input') return { edge: null, cloud: full };
  if (cut.kind === 'output') return { edge: full, cloud: null };
  const crossing = floatValue(cut.layer, [1, ...cut.shape]);
  return {
    edge: extractModel(m, modelInput(m), crossing, `${network.id}_edge`),
    cloud: extractModel(m, crossing, modelOutput(m), `${network.id}_cloud`),
  };
}
