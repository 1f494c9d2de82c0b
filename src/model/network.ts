import tf from '../tfjs.cjs';
import path from 'node:path';
import { ZOO, zooEntry } from '../../models/index.js';
import { UserError } from '../errors.js';
import { buildGraph, GraphShapeError, type LayerGraph } from './graph.js';
import { findCutPoints, type CutPoint } from './partition.js';
import { loadModelFile } from './topology-file.js';
import { assignSeededWeights, fingerprint, hashWeights } from './weights.js';
import type { OnnxModel } from './onnx/onnx-model.js';

/**
 * A network ready to benchmark: the model, its partition points and its identity. TF.js layers
 * models (the zoo, model.json, Keras JSON) carry their layer graph; ONNX files their ONNX graph.
 */
export type Network = LayersNetwork | OnnxFileNetwork;

export interface LayersNetwork extends NetworkCommon {
  source: 'zoo' | 'tfjs-layers' | 'keras-json';
  model: tf.LayersModel;
  graph: LayerGraph;
}

export interface OnnxFileNetwork extends NetworkCommon {
  source: 'onnx';
  onnx: OnnxModel;
}

interface NetworkCommon {
  /** zoo name, or the file's base name for bring-your-own models */
  id: string;
  /** the model file, for bring-your-own models */
  file?: string;
  cuts: CutPoint[];
  /** layers (ONNX: nodes) of the model */
  layers: number;
  params: number;
  /** input shape without batch */
  inputShape: number[];
  seed: number;
  weights: 'seeded' | 'file';
  /** topology + weights identity; both ends of a benchmark must agree on it */
  fingerprint: string;
  buildMs: number;
  /** something the user should know (e.g. missing weight shards) */
  note?: string;
}

export interface LoadOptions {
  seed: number;
  /** zoo models only: build at another input size (e.g. for quick tests) */
  inputShape?: number[];
}

export function looksLikePath(spec: string): boolean {
  return spec.includes('/') || spec.includes(path.sep) || spec.endsWith('.json') || isOnnxPath(spec);
}

export function isOnnxPath(spec: string): boolean {
  return /\.onnx$/i.test(spec);
}

/**
 * Fails fast (before any backend or model is loaded) when `<network>` is neither a zoo name nor a
 * path, or when an ONNX model is asked to run on a TF.js backend (which cannot run ONNX graphs).
 */
export function assertNetworkSpec(spec: string, backend?: string): void {
  if (!zooEntry(spec) && !looksLikePath(spec)) {
    throw new UserError(`unknown network '${spec}'; use one of ${ZOO.map((e) => e.name).join(', ')}, or a path to a TF.js model.json, a Keras model.to_json() file or an .onnx model`);
  }
  if (isOnnxPath(spec) && backend !== undefined && backend !== 'auto' && backend !== 'onnx') {
    throw new UserError(`'${spec}' is an ONNX model: it runs on the onnx backend only; use --backend onnx (or auto), not ${backend}`);
  }
}

/**
 * Resolves `<network>` to a TF.js layers model: a zoo name, a model.json or a Keras JSON file.
 * engine/load-network.ts's loadNetwork takes ONNX files too.
 */
export async function loadLayersNetwork(spec: string, opts: LoadOptions): Promise<LayersNetwork> {
  if (isOnnxPath(spec)) throw new UserError(`'${spec}' is an ONNX model; this needs a TF.js layers model`);
  const t0 = performance.now();
  const entry = zooEntry(spec);
  let model: tf.LayersModel;
  let source: LayersNetwork['source'];
  let weightsFromFile = false;
  let note: string | undefined;
  let id: string;
  let file: string | undefined;
  if (entry) {
    if (opts.inputShape && entry.smallInputShape === undefined && opts.inputShape.join() !== entry.inputShape.join()) {
      throw new UserError(`${entry.name} only accepts its default input ${entry.inputShape.join('x')} (its Flatten/Dense layers fix the size)`);
    }
    model = entry.build(opts.inputShape);
    source = 'zoo';
    id = entry.name;
  } else if (looksLikePath(spec)) {
    const loaded = await loadModelFile(spec);
    model = normalise(loaded.model);
    source = loaded.format;
    weightsFromFile = loaded.weightsFromFile;
    note = loaded.note;
    file = path.resolve(spec);
    id = path.basename(spec).replace(/\.json$/i, '') === 'model' ? path.basename(path.dirname(path.resolve(spec))) : path.basename(spec).replace(/\.json$/i, '');
  } else {
    assertNetworkSpec(spec);
    throw new Error('unreachable');
  }

  let graph: LayerGraph;
  try {
    graph = buildGraph(model);
  } catch (e) {
    if (e instanceof GraphShapeError) throw new UserError(`cannot partition '${spec}': ${e.message}`);
    throw e;
  }
  const digest = weightsFromFile ? `file:${hashWeights(model)}` : `seed:${assignSeededWeights(model, opts.seed)}`;
  const inputShape = (model.inputs[0]!.shape.slice(1) as (number | null)[]);
  if (inputShape.some((d) => d === null)) {
    throw new UserError(`'${spec}' has an input of unknown size (${JSON.stringify(model.inputs[0]!.shape)}); give the model a fixed input shape`);
  }
  return {
    id,
    source,
    file,
    model,
    graph,
    cuts: findCutPoints(model, graph),
    layers: model.layers.length,
    params: model.countParams(),
    inputShape: inputShape as number[],
    seed: opts.seed,
    weights: weightsFromFile ? 'file' : 'seeded',
    fingerprint: fingerprint(model, digest),
    buildMs: performance.now() - t0,
    note,
  };
}

/**
 * A Sequential model's layer list leaves out its InputLayer; rebuilding it as a functional model
 * over the same layers makes index 0 the input, as for every other model.
 */
function normalise(model: tf.LayersModel): tf.LayersModel {
  if (model instanceof tf.Sequential) return tf.model({ inputs: model.inputs, outputs: model.outputs, name: model.name });
  return model;
}

/**
 * Frees the network's weights. The wasm backend's heap is bounded (a few GB), so processes that
 * build several large networks in turn (tests, benches) must release each before the next.
 */
export function disposeNetwork(n: Network): void {
  if (n.source === 'onnx') return; // its weights are plain bytes, freed with the network
  for (const layer of n.model.layers) {
    // the onnx backend releases them as soon as they are converted
    for (const w of layer.weights) if (!(w as unknown as { val: tf.Variable }).val.isDisposed) w.dispose();
  }
}
