import { create, fromBinary, isFieldSet, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import {
  GraphProtoSchema, ModelProtoSchema, TensorProtoSchema, TensorProto_DataType, TensorShapeProtoSchema, ValueInfoProtoSchema,
  type GraphProto, type ModelProto, type TensorProto, type TensorShapeProto, type ValueInfoProto,
} from './gen/onnx_pb.js';

/**
 * Reads and writes .onnx files (a serialized ModelProto) with the code generated from the
 * vendored onnx.proto (proto/README.md). Decoding is @bufbuild/protobuf's: bytes fields
 * (raw_data...) are views into the file, not copies, and fields this onnx.proto does not know
 * are kept and written back. Encoding is the library's too, except that the path from the model
 * to each initializer's raw_data is assembled here: the library builds each nested message in a
 * buffer of its own, which would copy every weight once per level (tensor, graph, model).
 */

export {
  AttributeProto_AttributeType as AttributeType,
  TensorProto_DataLocation as DataLocation,
  TensorProto_DataType as DataType,
  GraphProtoSchema,
  ModelProtoSchema,
  TensorProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from './gen/onnx_pb.js';

export class OnnxDecodeError extends Error {
  override name = 'OnnxDecodeError';
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  try {
    return fromBinary(ModelProtoSchema, bytes);
  } catch (e) {
    throw new OnnxDecodeError(`not a valid ONNX model: ${(e as Error).message}`);
  }
}

/** Pieces of a message's bytes, in order; `length` is their sum. */
interface Chunks {
  parts: Uint8Array[];
  length: number;
}

/** The model's bytes: every weight copied once, into the result. */
export function encodeModel(m: ModelProto): Uint8Array {
  const c = isFieldSet(m, ModelProtoSchema.field.graph) ? around(ModelProtoSchema, m, ModelProtoSchema.field.graph.number, [encodeGraph(m.graph!)]) : whole(ModelProtoSchema, m);
  const out = new Uint8Array(c.length);
  let at = 0;
  for (const p of c.parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function encodeGraph(g: GraphProto): Chunks {
  return around(GraphProtoSchema, g, GraphProtoSchema.field.initializer.number, g.initializer.map(encodeTensor));
}

function encodeTensor(t: TensorProto): Chunks {
  if (!isFieldSet(t, TensorProtoSchema.field.rawData)) return whole(TensorProtoSchema, t);
  return around(TensorProtoSchema, t, TensorProtoSchema.field.rawData.number, [{ parts: [t.rawData], length: t.rawData.length }]);
}

function whole<D extends DescMessage>(schema: D, msg: MessageShape<D>): Chunks {
  const b = toBinary(schema, msg);
  return { parts: [b], length: b.length };
}

/**
 * `msg` with its length-delimited field `no` written from `inner` (already encoded, kept by
 * reference): the library writes the fields before it and those after it, in field-number order
 * as protobuf's C++ serializer does, unknown fields last.
 */
function around<D extends DescMessage>(schema: D, msg: MessageShape<D>, no: number, inner: Chunks[]): Chunks {
  const parts: Uint8Array[] = [toBinary(schema, pick(schema, msg, (n) => n < no, false))];
  for (const c of inner) parts.push(new BinaryWriter().tag(no, WireType.LengthDelimited).uint32(c.length).finish(), ...c.parts);
  parts.push(toBinary(schema, pick(schema, msg, (n) => n > no, true)));
  return { parts, length: parts.reduce((a, p) => a + p.length, 0) };
}

/** A message with the set fields of `msg` whose number passes `keep` (values shared, not copied). */
function pick<D extends DescMessage>(schema: D, msg: MessageShape<D>, keep: (no: number) => boolean, unknown: boolean): MessageShape<D> {
  const out = create(schema) as Record<string, unknown>;
  const from = msg as Record<string, unknown>;
  for (const f of schema.fields) if (keep(f.number) && isFieldSet(msg, f)) out[f.localName] = from[f.localName];
  if (unknown && msg.$unknown) out.$unknown = msg.$unknown;
  return out as MessageShape<D>;
}

/** A copy of `msg` that shares its field values (lists, sub-messages, bytes): change a field of one, not the other. */
export function shallowCopy<D extends DescMessage>(schema: D, msg: MessageShape<D>): MessageShape<D> {
  return pick(schema, msg, () => true, true);
}

/** `model` with another graph; everything else (opsets, metadata, unknown fields) shared. */
export function withGraph(model: ModelProto, graph: GraphProto): ModelProto {
  const m = pick(ModelProtoSchema, model, (n) => n !== ModelProtoSchema.field.graph.number, true);
  m.graph = graph;
  return m;
}

/** int64 counts and dimensions as numbers (exact below 2^53, which no tensor reaches). */
export function dimsOf(t: TensorProto): number[] {
  return t.dims.map(Number);
}

/** A value's tensor type, when it is a tensor. */
export function tensorTypeOf(v: ValueInfoProto) {
  return v.type?.value.case === 'tensorType' ? v.type.value.value : undefined;
}

/** A value's dimensions: a number when fixed, the parameter's name when dynamic, undefined when unknown. */
export function shapeOf(v: ValueInfoProto): (number | string | undefined)[] | undefined {
  return tensorTypeOf(v)?.shape?.dim.map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : d.value.value));
}

export function fixedShape(dims: (number | string)[]): TensorShapeProto {
  return create(TensorShapeProtoSchema, {
    dim: dims.map((d) => ({ value: typeof d === 'number' ? { case: 'dimValue' as const, value: BigInt(d) } : { case: 'dimParam' as const, value: d } })),
  });
}

/** A float32 initializer whose bytes are `raw` (kept, not copied). */
export function floatTensor(name: string, dims: number[], raw: Uint8Array): TensorProto {
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: TensorProto_DataType.FLOAT, rawData: raw });
}

/** A tensor value as a graph input or output: float32 of the given shape (batch included), or of no declared shape. */
export function floatValue(name: string, dims: (number | string)[] | undefined): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: { value: { case: 'tensorType', value: { elemType: TensorProto_DataType.FLOAT, ...(dims ? { shape: fixedShape(dims) } : {}) } } },
  });
}
