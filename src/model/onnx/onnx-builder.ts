import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { AttributeType, DataType, TensorProtoSchema, floatTensor, type TensorProto } from './onnx-codec.js';
import type { NodeProtoSchema, AttributeProtoSchema } from './gen/onnx_pb.js';

/**
 * What converting a TF.js Layers span to ONNX writes into: nodes with unique value names, and
 * initializers from a WeightSink. Nodes and attributes are plain initializers of the generated
 * messages (create() turns them into messages once, when the model is assembled).
 */

export type NodeInit = MessageInitShape<typeof NodeProtoSchema>;
export type AttributeInit = MessageInitShape<typeof AttributeProtoSchema>;

/** Where initializers come from: converts a weight once and hands out TensorProtos that refer to it. */
export interface WeightSink {
  /** `key` names the weight uniquely within the model; `values` computes it (called at most once per key) */
  tensor(key: string, dims: number[], values: () => Float32Array): TensorProto;
}

/** Initializers held in the graph itself (small models, tests). */
export class InlineWeights implements WeightSink {
  tensor(key: string, dims: number[], values: () => Float32Array): TensorProto {
    const v = values();
    return floatTensor(key, dims, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
}

export type Layout = 'nchw' | 'keras';
export interface Value {
  name: string;
  /** rank-4 values are NCHW inside the graph; everything else keeps Keras's layout */
  layout: Layout;
  /** Keras shape, batch included (batch is null in Keras, 1 here) */
  shape: number[];
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

export const ints = (name: string, v: number[]): AttributeInit => ({ name, type: AttributeType.INTS, ints: v.map(BigInt) });
export const int = (name: string, v: number): AttributeInit => ({ name, type: AttributeType.INT, i: BigInt(v) });
export const float = (name: string, v: number): AttributeInit => ({ name, type: AttributeType.FLOAT, f: v });

/** Accumulates nodes and initializers with unique value names. */
export class Builder {
  readonly nodes: NodeInit[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used = new Set<string>();
  private count = 0;

  constructor(private readonly weights: WeightSink) {}

  fresh(hint: string): string {
    let name = hint.replace(/[^A-Za-z0-9_/.:-]/g, '_');
    while (this.used.has(name)) name = `${hint}_${++this.count}`;
    this.used.add(name);
    return name;
  }

  op(opType: string, inputs: string[], hint: string, attribute: AttributeInit[] = []): string {
    const out = this.fresh(hint);
    this.nodes.push({ opType, input: inputs, output: [out], name: out, attribute });
    return out;
  }

  weight(key: string, dims: number[], values: () => Float32Array): string {
    const t = this.weights.tensor(key, dims, values);
    if (!this.initializers.some((i) => i.name === t.name)) this.initializers.push(t);
    return t.name;
  }

  /** A small int64 constant (shapes, pads). */
  int64s(hint: string, v: number[]): string {
    const name = this.fresh(hint);
    this.initializers.push(create(TensorProtoSchema, { name, dims: [BigInt(v.length)], dataType: DataType.INT64, int64Data: v.map(BigInt) }));
    return name;
  }

  /** The graph input as a Value: rank 4 is transposed to NCHW once, here. */
  fromKeras(name: string, shape: number[]): Value {
    this.used.add(name);
    if (shape.length !== 4) return { name, layout: 'keras', shape };
    return { name: this.op('Transpose', [name], `${name}_nchw`, [ints('perm', NHWC_TO_NCHW)]), layout: 'nchw', shape };
  }

  /** Writes `v` to the graph output `name` in Keras layout. */
  toKeras(v: Value, name: string): void {
    this.used.add(name);
    if (v.layout === 'nchw') this.nodes.push({ opType: 'Transpose', input: [v.name], output: [name], name, attribute: [ints('perm', NCHW_TO_NHWC)] });
    else this.nodes.push({ opType: 'Identity', input: [v.name], output: [name], name });
  }

  keras(v: Value): string {
    return v.layout === 'nchw' ? this.op('Transpose', [v.name], `${v.name}_nhwc`, [ints('perm', NCHW_TO_NHWC)]) : v.name;
  }

  /** A Keras-layout value of rank 4 moved to NCHW (after a Reshape). */
  nchw(name: string, shape: number[]): Value {
    if (shape.length !== 4) return { name, layout: 'keras', shape };
    return { name: this.op('Transpose', [name], `${name}_nchw`, [ints('perm', NHWC_TO_NCHW)]), layout: 'nchw', shape };
  }
}
