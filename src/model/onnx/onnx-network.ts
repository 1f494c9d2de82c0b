import { createHash } from 'node:crypto';
import path from 'node:path';
import type { LoadOptions, OnnxFileNetwork } from '../network.js';
import type { CutPoint } from '../partition.js';
import type { ModelProto } from './onnx-codec.js';
import { floatValue } from './onnx-codec.js';
import { extractModel, modelInput, modelOutput, paramsOf, type OnnxModel } from './onnx-model.js';
import { nodesFor } from './onnx-graph.js';

/** A value's element type and dimensions (batch included) as ONNX Runtime computed them. */
export interface ProbedValue {
  type: string;
  dims: number[];
}

/**
 * An ONNX file as a network: its points are the values every input-to-output path passes
 * through. Their shapes are `shapes`, measured by a run of the model (engine/onnx-shapes.ts), so
 * no shape inference of our own can disagree with what runs; a point whose value is not float32,
 * or not batch 1, cannot cross and is left out.
 */
export function onnxNetwork(spec: string, model: OnnxModel, shapes: ReadonlyMap<string, ProbedValue>, opts: LoadOptions, t0: number): OnnxFileNetwork {
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

/**
 * The middle tier's sub-model of an ONNX file (three tiers): the nodes after point `from` up to
 * point `to`; `null` when they are the same point (nothing to run).
 */
export function onnxMiddle(network: OnnxFileNetwork, from: CutPoint, to: CutPoint): ModelProto | null {
  if (from.layer === to.layer) return null;
  const m = network.onnx;
  const start = from.kind === 'input' ? modelInput(m) : floatValue(from.layer, [1, ...from.shape]);
  const end = to.kind === 'output' ? modelOutput(m) : floatValue(to.layer, [1, ...to.shape]);
  if (from.kind === 'input' && to.kind === 'output') return m.proto;
  return extractModel(m, start, end, `${network.id}_middle`);
}
