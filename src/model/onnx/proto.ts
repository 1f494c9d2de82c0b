import { ProtoError, Reader, WireType, Writer, expectWire, type RawField } from './wire.js';

/**
 * The ONNX model format (onnx.proto, proto2 syntax) as plain objects: decodeModel() reads a
 * .onnx file, encodeModel() writes one. It covers what a feed-forward model needs (graph,
 * nodes, attributes, initializers with raw or typed data or external-data references, value
 * info, opset imports, metadata); any other field (sparse initializers, functions, training
 * info...) is kept verbatim in `unknown` and written back, so decode -> encode reproduces the
 * file byte for byte.
 *
 * Field names follow onnx.proto in camelCase. A scalar field is `undefined` when the file does
 * not set it (proto2 tracks presence: an explicit 0 is kept). Repeated fields are arrays; the
 * decoder always fills them (possibly empty), hand-built objects may leave the optional ones out.
 * int64 values that may exceed 2^53 (attribute ints, int64/uint64 data) are bigints; counts,
 * dims and versions are numbers.
 */

export interface ModelProto {
  irVersion?: number;
  opsetImport: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntryProto[];
  unknown?: RawField[];
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: number;
  unknown?: RawField[];
}

export interface StringStringEntryProto {
  key?: string;
  value?: string;
  unknown?: RawField[];
}

export interface GraphProto {
  node: NodeProto[];
  name?: string;
  initializer: TensorProto[];
  docString?: string;
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
  metadataProps?: StringStringEntryProto[];
  unknown?: RawField[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  opType?: string;
  domain?: string;
  overload?: string;
  attribute?: AttributeProto[];
  docString?: string;
  metadataProps?: StringStringEntryProto[];
  unknown?: RawField[];
}

export const AttributeType = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8,
  TENSORS: 9, GRAPHS: 10, SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
} as const;

export interface AttributeProto {
  name?: string;
  f?: number;
  i?: bigint;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: bigint[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  docString?: string;
  tp?: TypeProto;
  type?: number;
  refAttrName?: string;
  unknown?: RawField[];
}

export const DataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8,
  BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;

export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

export interface TensorProto {
  dims: number[];
  dataType?: number;
  /** segment (field 3) is kept raw: no exporter we read writes it */
  floatData?: number[];
  int32Data?: number[];
  stringData?: Uint8Array[];
  int64Data?: bigint[];
  name?: string;
  rawData?: Uint8Array;
  doubleData?: number[];
  uint64Data?: bigint[];
  docString?: string;
  /** location / offset / length / checksum of weights held in a separate file */
  externalData?: StringStringEntryProto[];
  dataLocation?: number;
  metadataProps?: StringStringEntryProto[];
  unknown?: RawField[];
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  docString?: string;
  metadataProps?: StringStringEntryProto[];
  unknown?: RawField[];
}

/** Only tensor types are modelled; sequence/map/optional types stay in `unknown`. */
export interface TypeProto {
  tensorType?: TensorTypeProto;
  denotation?: string;
  unknown?: RawField[];
}

export interface TensorTypeProto {
  elemType?: number;
  shape?: TensorShapeProto;
  unknown?: RawField[];
}

export interface TensorShapeProto {
  dim: DimensionProto[];
  unknown?: RawField[];
}

export interface DimensionProto {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
  unknown?: RawField[];
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Reads a .onnx file's bytes. Bytes fields (raw_data...) are views into `bytes`, not copies. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  try {
    return readModel(new Reader(bytes));
  } catch (e) {
    if (e instanceof ProtoError || e instanceof TypeError) throw new ProtoError(`not a valid ONNX model: ${e.message}`);
    throw e;
  }
}

/** Calls `onField` for each field of a message; fields it does not handle are kept as raw. */
function readFields(r: Reader, onField: (field: number, wire: WireType) => boolean): RawField[] {
  const unknown: RawField[] = [];
  while (!r.done()) {
    const { field, wire, start } = r.tag();
    if (field === 0) throw new ProtoError('field number 0');
    if (!onField(field, wire)) unknown.push(r.raw(field, wire, start));
  }
  return unknown;
}

function withUnknown<T extends { unknown?: RawField[] }>(msg: T, unknown: RawField[]): T {
  if (unknown.length > 0) msg.unknown = unknown;
  return msg;
}

function str(r: Reader, wire: WireType): string {
  expectWire(wire, WireType.Bytes);
  return r.string();
}

function num(r: Reader, wire: WireType): number {
  expectWire(wire, WireType.Varint);
  return r.varint();
}

function readModel(r: Reader): ModelProto {
  const m: ModelProto = { opsetImport: [], metadataProps: [] };
  const unknown = readFields(r, (f, w) => {
    switch (f) {
      case 1: m.irVersion = num(r, w); return true;
      case 2: m.producerName = str(r, w); return true;
      case 3: m.producerVersion = str(r, w); return true;
      case 4: m.domain = str(r, w); return true;
      case 5: m.modelVersion = num(r, w); return true;
      case 6: m.docString = str(r, w); return true;
      case 7: expectWire(w, WireType.Bytes); m.graph = readGraph(r.sub()); return true;
      case 8: expectWire(w, WireType.Bytes); m.opsetImport.push(readOpset(r.sub())); return true;
      case 14: expectWire(w, WireType.Bytes); m.metadataProps!.push(readEntry(r.sub())); return true;
      default: return false;
    }
  });
  return withUnknown(m, unknown);
}

function readOpset(r: Reader): OperatorSetIdProto {
  const o: OperatorSetIdProto = {};
  const unknown = readFields(r, (f, w) => {
    if (f === 1) o.domain = str(r, w);
    else if (f === 2) o.version = num(r, w);
    else return false;
    return true;
  });
  return withUnknown(o, unknown);
}

function readEntry(r: Reader): StringStringEntryProto {
  const e: StringStringEntryProto = {};
  const unknown = readFields(r, (f, w) => {
    if (f === 1) e.key = str(r, w);
    else if (f === 2) e.value = str(r, w);
    else return false;
    return true;
  });
  return withUnknown(e, unknown);
}

function readGraph(r: Reader): GraphProto {
  const g: GraphProto = { node: [], initializer: [], input: [], output: [], valueInfo: [], metadataProps: [] };
  const unknown = readFields(r, (f, w) => {
    if (f !== 2 && f !== 10) expectWire(w, WireType.Bytes);
    switch (f) {
      case 1: g.node.push(readNode(r.sub())); return true;
      case 2: g.name = str(r, w); return true;
      case 5: g.initializer.push(readTensor(r.sub())); return true;
      case 10: g.docString = str(r, w); return true;
      case 11: g.input.push(readValueInfo(r.sub())); return true;
      case 12: g.output.push(readValueInfo(r.sub())); return true;
      case 13: g.valueInfo!.push(readValueInfo(r.sub())); return true;
      case 16: g.metadataProps!.push(readEntry(r.sub())); return true;
      default: return false;
    }
  });
  return withUnknown(g, unknown);
}

function readNode(r: Reader): NodeProto {
  const n: NodeProto = { input: [], output: [], attribute: [], metadataProps: [] };
  const unknown = readFields(r, (f, w) => {
    switch (f) {
      case 1: n.input.push(str(r, w)); return true;
      case 2: n.output.push(str(r, w)); return true;
      case 3: n.name = str(r, w); return true;
      case 4: n.opType = str(r, w); return true;
      case 5: expectWire(w, WireType.Bytes); n.attribute!.push(readAttribute(r.sub())); return true;
      case 6: n.docString = str(r, w); return true;
      case 7: n.domain = str(r, w); return true;
      case 8: n.overload = str(r, w); return true;
      case 9: expectWire(w, WireType.Bytes); n.metadataProps!.push(readEntry(r.sub())); return true;
      default: return false;
    }
  });
  return withUnknown(n, unknown);
}

function readAttribute(r: Reader): AttributeProto {
  const a: AttributeProto = { floats: [], ints: [], strings: [], tensors: [], graphs: [] };
  const unknown = readFields(r, (f, w) => {
    switch (f) {
      case 1: a.name = str(r, w); return true;
      case 2: expectWire(w, WireType.Fixed32); a.f = r.float(); return true;
      case 3: expectWire(w, WireType.Varint); a.i = r.int64(); return true;
      case 4: expectWire(w, WireType.Bytes); a.s = r.bytes(); return true;
      case 5: expectWire(w, WireType.Bytes); a.t = readTensor(r.sub()); return true;
      case 6: expectWire(w, WireType.Bytes); a.g = readGraph(r.sub()); return true;
      case 7: r.repeated(w, WireType.Fixed32, () => r.float(), a.floats!); return true;
      case 8: r.repeated(w, WireType.Varint, () => r.int64(), a.ints!); return true;
      case 9: expectWire(w, WireType.Bytes); a.strings!.push(r.bytes()); return true;
      case 10: expectWire(w, WireType.Bytes); a.tensors!.push(readTensor(r.sub())); return true;
      case 11: expectWire(w, WireType.Bytes); a.graphs!.push(readGraph(r.sub())); return true;
      case 13: a.docString = str(r, w); return true;
      case 14: expectWire(w, WireType.Bytes); a.tp = readType(r.sub()); return true;
      case 20: a.type = num(r, w); return true;
      case 21: a.refAttrName = str(r, w); return true;
      default: return false;
    }
  });
  return withUnknown(a, unknown);
}

function readTensor(r: Reader): TensorProto {
  const t: TensorProto = {
    dims: [], floatData: [], int32Data: [], stringData: [], int64Data: [], doubleData: [], uint64Data: [],
    externalData: [], metadataProps: [],
  };
  const unknown = readFields(r, (f, w) => {
    switch (f) {
      case 1: r.repeated(w, WireType.Varint, () => r.varint(), t.dims); return true;
      case 2: t.dataType = num(r, w); return true;
      case 4: r.repeated(w, WireType.Fixed32, () => r.float(), t.floatData!); return true;
      case 5: r.repeated(w, WireType.Varint, () => r.int32(), t.int32Data!); return true;
      case 6: expectWire(w, WireType.Bytes); t.stringData!.push(r.bytes()); return true;
      case 7: r.repeated(w, WireType.Varint, () => r.int64(), t.int64Data!); return true;
      case 8: t.name = str(r, w); return true;
      case 9: expectWire(w, WireType.Bytes); t.rawData = r.bytes(); return true;
      case 10: r.repeated(w, WireType.Fixed64, () => r.double(), t.doubleData!); return true;
      case 11: r.repeated(w, WireType.Varint, () => r.uint64(), t.uint64Data!); return true;
      case 12: t.docString = str(r, w); return true;
      case 13: expectWire(w, WireType.Bytes); t.externalData!.push(readEntry(r.sub())); return true;
      case 14: t.dataLocation = num(r, w); return true;
      case 16: expectWire(w, WireType.Bytes); t.metadataProps!.push(readEntry(r.sub())); return true;
      default: return false;
    }
  });
  return withUnknown(t, unknown);
}

function readValueInfo(r: Reader): ValueInfoProto {
  const v: ValueInfoProto = { metadataProps: [] };
  const unknown = readFields(r, (f, w) => {
    switch (f) {
      case 1: v.name = str(r, w); return true;
      case 2: expectWire(w, WireType.Bytes); v.type = readType(r.sub()); return true;
      case 3: v.docString = str(r, w); return true;
      case 4: expectWire(w, WireType.Bytes); v.metadataProps!.push(readEntry(r.sub())); return true;
      default: return false;
    }
  });
  return withUnknown(v, unknown);
}

function readType(r: Reader): TypeProto {
  const t: TypeProto = {};
  const unknown = readFields(r, (f, w) => {
    if (f === 1) {
      expectWire(w, WireType.Bytes);
      t.tensorType = readTensorType(r.sub());
    } else if (f === 6) t.denotation = str(r, w);
    else return false;
    return true;
  });
  return withUnknown(t, unknown);
}

function readTensorType(r: Reader): TensorTypeProto {
  const t: TensorTypeProto = {};
  const unknown = readFields(r, (f, w) => {
    if (f === 1) t.elemType = num(r, w);
    else if (f === 2) {
      expectWire(w, WireType.Bytes);
      t.shape = readShape(r.sub());
    } else return false;
    return true;
  });
  return withUnknown(t, unknown);
}

function readShape(r: Reader): TensorShapeProto {
  const s: TensorShapeProto = { dim: [] };
  const unknown = readFields(r, (f, w) => {
    if (f !== 1) return false;
    expectWire(w, WireType.Bytes);
    s.dim.push(readDim(r.sub()));
    return true;
  });
  return withUnknown(s, unknown);
}

function readDim(r: Reader): DimensionProto {
  const d: DimensionProto = {};
  const unknown = readFields(r, (f, w) => {
    if (f === 1) d.dimValue = num(r, w);
    else if (f === 2) d.dimParam = str(r, w);
    else if (f === 3) d.denotation = str(r, w);
    else return false;
    return true;
  });
  return withUnknown(d, unknown);
}

// ---------------------------------------------------------------------------------------------
// Encoding: fields in field-number order, as protobuf's C++ serializer (and so PyTorch and onnx)
// writes them; unknown fields last, as protobuf keeps them.

export function encodeModel(m: ModelProto): Uint8Array {
  const w = new Writer();
  writeModel(w, m);
  return w.finish();
}

function optNum(w: Writer, field: number, v: number | undefined): void {
  if (v === undefined) return;
  w.tag(field, WireType.Varint);
  w.varint(v);
}

function optStr(w: Writer, field: number, v: string | undefined): void {
  if (v !== undefined) w.stringField(field, v);
}

function each<T>(w: Writer, field: number, list: readonly T[] | undefined, write: (w: Writer, v: T) => void): void {
  for (const v of list ?? []) w.message(field, (sub) => write(sub, v));
}

function writeUnknown(w: Writer, unknown: RawField[] | undefined): void {
  for (const u of unknown ?? []) w.append(u.bytes);
}

function writeModel(w: Writer, m: ModelProto): void {
  optNum(w, 1, m.irVersion);
  optStr(w, 2, m.producerName);
  optStr(w, 3, m.producerVersion);
  optStr(w, 4, m.domain);
  optNum(w, 5, m.modelVersion);
  optStr(w, 6, m.docString);
  if (m.graph) w.message(7, (sub) => writeGraph(sub, m.graph!));
  each(w, 8, m.opsetImport, writeOpset);
  each(w, 14, m.metadataProps, writeEntry);
  writeUnknown(w, m.unknown);
}

function writeOpset(w: Writer, o: OperatorSetIdProto): void {
  optStr(w, 1, o.domain);
  optNum(w, 2, o.version);
  writeUnknown(w, o.unknown);
}

function writeEntry(w: Writer, e: StringStringEntryProto): void {
  optStr(w, 1, e.key);
  optStr(w, 2, e.value);
  writeUnknown(w, e.unknown);
}

function writeGraph(w: Writer, g: GraphProto): void {
  each(w, 1, g.node, writeNode);
  optStr(w, 2, g.name);
  each(w, 5, g.initializer, writeTensor);
  optStr(w, 10, g.docString);
  each(w, 11, g.input, writeValueInfo);
  each(w, 12, g.output, writeValueInfo);
  each(w, 13, g.valueInfo, writeValueInfo);
  each(w, 16, g.metadataProps, writeEntry);
  writeUnknown(w, g.unknown);
}

function writeNode(w: Writer, n: NodeProto): void {
  for (const s of n.input) w.stringField(1, s);
  for (const s of n.output) w.stringField(2, s);
  optStr(w, 3, n.name);
  optStr(w, 4, n.opType);
  each(w, 5, n.attribute, writeAttribute);
  optStr(w, 6, n.docString);
  optStr(w, 7, n.domain);
  optStr(w, 8, n.overload);
  each(w, 9, n.metadataProps, writeEntry);
  writeUnknown(w, n.unknown);
}

function writeAttribute(w: Writer, a: AttributeProto): void {
  optStr(w, 1, a.name);
  if (a.f !== undefined) { w.tag(2, WireType.Fixed32); w.float(a.f); }
  if (a.i !== undefined) { w.tag(3, WireType.Varint); w.varintBig(a.i); }
  if (a.s !== undefined) w.bytesField(4, a.s);
  if (a.t) w.message(5, (sub) => writeTensor(sub, a.t!));
  if (a.g) w.message(6, (sub) => writeGraph(sub, a.g!));
  // proto2 without [packed=true]: one tag per value, as onnx writes them
  for (const v of a.floats ?? []) { w.tag(7, WireType.Fixed32); w.float(v); }
  for (const v of a.ints ?? []) { w.tag(8, WireType.Varint); w.varintBig(v); }
  for (const v of a.strings ?? []) w.bytesField(9, v);
  each(w, 10, a.tensors, writeTensor);
  each(w, 11, a.graphs, writeGraph);
  optStr(w, 13, a.docString);
  if (a.tp) w.message(14, (sub) => writeType(sub, a.tp!));
  optNum(w, 20, a.type);
  optStr(w, 21, a.refAttrName);
  writeUnknown(w, a.unknown);
}

function writeTensor(w: Writer, t: TensorProto): void {
  for (const d of t.dims) { w.tag(1, WireType.Varint); w.varint(d); }
  optNum(w, 2, t.dataType);
  w.packed(4, t.floatData, (s, v) => s.float(v));
  w.packed(5, t.int32Data, (s, v) => s.varint(v));
  for (const v of t.stringData ?? []) w.bytesField(6, v);
  w.packed(7, t.int64Data, (s, v) => s.varintBig(v));
  optStr(w, 8, t.name);
  if (t.rawData !== undefined) w.bytesField(9, t.rawData);
  w.packed(10, t.doubleData, (s, v) => s.double(v));
  w.packed(11, t.uint64Data, (s, v) => s.varintBig(v));
  optStr(w, 12, t.docString);
  each(w, 13, t.externalData, writeEntry);
  optNum(w, 14, t.dataLocation);
  each(w, 16, t.metadataProps, writeEntry);
  writeUnknown(w, t.unknown);
}

function writeValueInfo(w: Writer, v: ValueInfoProto): void {
  optStr(w, 1, v.name);
  if (v.type) w.message(2, (sub) => writeType(sub, v.type!));
  optStr(w, 3, v.docString);
  each(w, 4, v.metadataProps, writeEntry);
  writeUnknown(w, v.unknown);
}

function writeType(w: Writer, t: TypeProto): void {
  if (t.tensorType) w.message(1, (sub) => writeTensorType(sub, t.tensorType!));
  optStr(w, 6, t.denotation);
  writeUnknown(w, t.unknown);
}

function writeTensorType(w: Writer, t: TensorTypeProto): void {
  optNum(w, 1, t.elemType);
  if (t.shape) w.message(2, (sub) => writeShape(sub, t.shape!));
  writeUnknown(w, t.unknown);
}

function writeShape(w: Writer, s: TensorShapeProto): void {
  each(w, 1, s.dim, writeDim);
  writeUnknown(w, s.unknown);
}

function writeDim(w: Writer, d: DimensionProto): void {
  optNum(w, 1, d.dimValue);
  optStr(w, 2, d.dimParam);
  optStr(w, 3, d.denotation);
  writeUnknown(w, d.unknown);
}
