import { clearField, create } from '@bufbuild/protobuf';
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError, errorMessage } from '../../errors.js';
import { buildFlow, dominatingValues, nodesFor, nodeReads, type OnnxFlow } from './onnx-graph.js';
import {
  DataLocation, DataType, GraphProtoSchema, OnnxDecodeError, TensorProtoSchema, ValueInfoProtoSchema, decodeModel, dimsOf, encodeModel, fixedShape, shallowCopy, shapeOf, tensorTypeOf, withGraph,
  type GraphProto, type ModelProto, type TensorProto, type ValueInfoProto,
} from './onnx-codec.js';

/** Opsets of the default domain that ONNX Runtime 1.x runs (ai.onnx 7 = ONNX 1.2, 2018). */
export const MIN_OPSET = 7;
export const MAX_OPSET = 23;

/**
 * A user's ONNX model, read and checked: one float input with every dimension fixed (batch 1),
 * one output, weights in memory (external data read in), and its graph analysed for points.
 */
export interface OnnxModel {
  file: string;
  /** the model with its input dimensions fixed and external data embedded */
  proto: ModelProto;
  flow: OnnxFlow;
  input: string;
  output: string;
  /** input shape, batch (1) included */
  inputDims: number[];
  /** values every path from the input to the output passes through, input first */
  points: string[];
  opset: number;
  /** sha256 of the model bytes and its external data: both ends must load the same model */
  digest: string;
}

function graphOf(m: ModelProto): GraphProto {
  return m.graph!;
}

/** Reads and checks an ONNX file; `inputShape` (batch excluded) fixes dynamic input dimensions. */
export async function loadOnnxModel(file: string, inputShape?: number[]): Promise<OnnxModel> {
  let bytes: Uint8Array;
  try {
    // a view of the file's buffer: the weights stay views into it, never copied
    const buf = await readFile(file);
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new UserError(`cannot read model file '${file}': ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}; check the path`);
  }
  let proto: ModelProto;
  try {
    proto = decodeModel(bytes);
  } catch (e) {
    if (e instanceof OnnxDecodeError) throw new UserError(`'${file}' ${e.message.replace(/^not/, 'is not')}; expected a .onnx file (a serialized ModelProto)`);
    throw e;
  }
  const where = `'${path.basename(file)}'`;
  const graph = proto.graph;
  if (!graph || graph.node.length === 0) throw new UserError(`${where} holds no graph; expected a .onnx model exported by PyTorch, tf2onnx or similar`);

  const found = proto.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
  const opset = found === undefined ? undefined : Number(found);
  if (opset === undefined || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new UserError(`${where} uses opset ${opset ?? '(none)'}; supported: ${MIN_OPSET} to ${MAX_OPSET} (convert it with onnx.version_converter.convert_version(model, 13))`);
  }

  // Older exporters list the initializers among the inputs too: those are weights, not inputs.
  const weights = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input.filter((v) => !weights.has(v.name));
  if (inputs.length !== 1 || graph.output.length !== 1) {
    throw new UserError(`${where} has ${inputs.length} inputs (${inputs.map((v) => v.name).join(', ')}) and ${graph.output.length} outputs; only models with one input and one output can be partitioned`);
  }
  const input = inputs[0]!;
  const output = graph.output[0]!;
  const elem = tensorTypeOf(input)?.elemType;
  if (elem !== DataType.FLOAT) {
    throw new UserError(`${where}: input '${input.name}' is of ONNX type ${elem ?? 'unknown'}; only float32 inputs are supported`);
  }
  const inputDims = fixInputDims(where, input, inputShape);

  const digest = createHash('sha256').update(bytes);
  await embedExternalData(file, graph, digest);
  return analyse({ file, proto, input: input.name, output: output.name, inputDims, opset, digest: digest.digest('hex') });
}

function analyse(m: Omit<OnnxModel, 'flow' | 'points'>): OnnxModel {
  const graph = graphOf(m.proto);
  const flow = buildFlow(graph, m.input, m.output);
  if (!flow.live.has(m.output)) {
    throw new UserError(`'${path.basename(m.file)}': the output '${m.output}' does not depend on the input '${m.input}'`);
  }
  return { ...m, flow, points: dominatingValues(flow, graph) };
}

/**
 * The input's dimensions with the dynamic ones fixed: the batch to 1, the others from
 * --input-shape. Writes them into the model, so every half is built for that one shape.
 */
function fixInputDims(where: string, input: ValueInfoProto, inputShape: number[] | undefined): number[] {
  const tensor = tensorTypeOf(input)!;
  const declared = shapeOf(input);
  if (!declared || !tensor.shape) throw new UserError(`${where}: input '${input.name}' has no shape; its rank is needed to fix it`);
  const dims = declared.map((d) => (typeof d === 'number' && d > 0 ? d : undefined));
  const show = declared.map((d) => d ?? '?').join('x');
  if (dims.length === 0) throw new UserError(`${where}: input '${input.name}' is a scalar; expected a batch of tensors`);
  if (dims[0] !== undefined && dims[0] !== 1) {
    throw new UserError(`${where}: input '${input.name}' has a fixed batch of ${dims[0]} (${show}); export the model with batch 1 or a dynamic batch`);
  }
  let fixed: number[];
  if (inputShape) {
    if (inputShape.length !== dims.length - 1) {
      throw new UserError(`--input-shape ${inputShape.join('x')} has ${inputShape.length} dimensions; input '${input.name}' (${show}) needs ${dims.length - 1} (batch excluded)`);
    }
    inputShape.forEach((d, i) => {
      const own = dims[i + 1];
      if (own !== undefined && own !== d) {
        throw new UserError(`--input-shape ${inputShape.join('x')} does not match the fixed dimensions of input '${input.name}' (${show})`);
      }
    });
    fixed = [1, ...inputShape];
  } else {
    if (dims.slice(1).some((d) => d === undefined)) {
      throw new UserError(`${where}: input '${input.name}' has dynamic dimensions (${show}); fix them with --input-shape (batch excluded, e.g. --input-shape ${dims.slice(1).map((d) => d ?? 224).join('x')})`);
    }
    fixed = [1, ...(dims.slice(1) as number[])];
  }
  tensor.shape = fixedShape(fixed);
  return fixed;
}

/**
 * Weights kept outside the .onnx file (external data, for models over 2 GB or saved that way)
 * are read into the tensors, so every half is self-contained bytes for ONNX Runtime.
 */
async function embedExternalData(file: string, graph: GraphProto, digest: ReturnType<typeof createHash>): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const tensors = [...graph.initializer, ...graph.node.flatMap((n) => n.attribute.flatMap((a) => (a.t ? [a.t] : [])))];
  for (const t of tensors) {
    if (t.dataLocation !== DataLocation.EXTERNAL) continue;
    const info = new Map(t.externalData.map((e) => [e.key, e.value]));
    const location = info.get('location');
    if (!location) throw new UserError(`'${path.basename(file)}': tensor '${t.name}' has external data without a location`);
    const where = path.resolve(dir, location);
    if (path.relative(dir, where).startsWith('..')) {
      throw new UserError(`'${path.basename(file)}': tensor '${t.name}' points outside the model's folder (${location})`);
    }
    const offset = Number(info.get('offset') ?? 0);
    const length = info.has('length') ? Number(info.get('length')) : elementBytes(t);
    t.rawData = await readRange(file, t, where, offset, length);
    digest.update(t.rawData);
    clearField(t, TensorProtoSchema.field.dataLocation);
    t.externalData = [];
  }
}

async function readRange(file: string, t: TensorProto, where: string, offset: number, length: number): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(where, 'r');
  } catch (e) {
    throw new UserError(`'${path.basename(file)}': cannot read the external data of tensor '${t.name}' from ${where} (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}); keep the data file next to the model`);
  }
  try {
    const buf = new Uint8Array(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    if (bytesRead !== length) throw new UserError(`'${path.basename(file)}': ${where} ends before the data of tensor '${t.name}' (wanted ${length} bytes at ${offset})`);
    return buf;
  } finally {
    await fh.close();
  }
}

const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

function elementBytes(t: TensorProto): number {
  return (ELEMENT_BYTES[t.dataType] ?? 0) * elementCount(t);
}

export function elementCount(t: TensorProto): number {
  return dimsOf(t).reduce((a, b) => a * b, 1);
}

/**
 * The weight elements the given nodes use: each initializer a computing node reads, counted once
 * per use through an Identity (PyTorch stores equal tensors once and aliases them with Identity
 * nodes, so this matches the framework's parameter count).
 */
export function paramsOf(m: OnnxModel, nodes: number[]): number {
  const graph = graphOf(m.proto);
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  const sizeOf = (v: string): number => {
    const t = inits.get(v);
    if (t) return elementCount(t);
    const p = m.flow.producer.get(v);
    const node = p === undefined ? undefined : graph.node[p]!;
    return node?.opType === 'Identity' && node.input[0] ? sizeOf(node.input[0]) : 0;
  };
  const counted = new Set<string>();
  let n = 0;
  for (const i of nodes) {
    const node = graph.node[i]!;
    if (!node.output.some((o) => m.flow.live.has(o))) continue;
    for (const r of nodeReads(node)) {
      if (m.flow.live.has(r) || counted.has(r)) continue;
      counted.add(r);
      n += sizeOf(r);
    }
  }
  return n;
}

/**
 * The sub-model that computes `to` from `from` (two values of the graph): the nodes on the way
 * (constants included) and the weights they read. `from` = the graph input gives the edge half,
 * `to` = the graph output the cloud half. `fromValue`/`toValue` describe the new graph's input
 * and output (type and shape) when they are not the model's own.
 */
export function extractModel(m: OnnxModel, from: ValueInfoProto, to: ValueInfoProto, name: string): ModelProto {
  const graph = graphOf(m.proto);
  const nodes = nodesFor(m.flow, graph, [to.name], new Set([from.name]));
  const picked = nodes.map((i) => graph.node[i]!);
  const used = new Set(picked.flatMap((n) => nodeReads(n)));
  const known = new Set([...picked.flatMap((n) => n.output), ...used]);
  return withGraph(m.proto, create(GraphProtoSchema, {
    name,
    node: picked,
    initializer: graph.initializer.filter((t) => used.has(t.name)),
    input: [from],
    output: [to],
    valueInfo: graph.valueInfo.filter((v) => known.has(v.name) && v.name !== from.name && v.name !== to.name),
  }));
}

/** The model's own input and output declarations (input dims fixed). */
export function modelInput(m: OnnxModel): ValueInfoProto {
  return graphOf(m.proto).input.find((v) => v.name === m.input)!;
}

export function modelOutput(m: OnnxModel): ValueInfoProto {
  return graphOf(m.proto).output[0]!;
}

/** The full model (input fixed, weights embedded) and a variant that also outputs `extra` values. */
export function fullModelBytes(m: OnnxModel, extra: string[] = []): Uint8Array {
  if (extra.length === 0) return encodeModel(m.proto);
  const graph = graphOf(m.proto);
  const outputs = [...graph.output, ...extra.filter((v) => v !== m.output && v !== m.input).map((v) => create(ValueInfoProtoSchema, { name: v }))];
  const probe = shallowCopy(GraphProtoSchema, graph);
  probe.output = outputs;
  return encodeModel(withGraph(m.proto, probe));
}

