import t from 'tap';
import { create, toBinary } from '@bufbuild/protobuf';
import { execa } from 'execa';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AttributeType, DataType, ModelProtoSchema, decodeModel, dimsOf, encodeModel, floatValue, shapeOf, type ModelProto,
} from '../../src/model/onnx/onnx-codec.js';
import { FIXTURES } from '../helpers/cli.js';

const SQUEEZENET = path.join(FIXTURES, 'onnx/squeezenet1_1.onnx');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

t.test('a PyTorch export decodes and encodes back byte for byte; weights stay views of the file', async (t) => {
  const bytes = new Uint8Array(readFileSync(SQUEEZENET));
  const m = decodeModel(bytes);
  t.equal(m.irVersion, 7n);
  t.same(m.opsetImport.map((o) => [o.domain, o.version]), [['', 13n]]);
  t.equal(m.producerName, 'pytorch');
  const g = m.graph!;
  t.equal(g.node.length, 83);
  t.equal(g.initializer.length, 34);
  t.same(g.input.map(shapeOf), [[1, 3, 224, 224]]);
  const conv = g.node.find((n) => n.opType === 'Conv')!;
  t.same(conv.attribute.find((a) => a.name === 'kernel_shape')!.ints, [3n, 3n]);
  t.equal(conv.attribute.find((a) => a.name === 'group')!.i, 1n);
  const w = g.initializer.find((i) => i.name === conv.input[1]) ?? g.initializer[0]!;
  t.equal(w.dataType, DataType.FLOAT);
  t.equal(w.rawData.length, 4 * dimsOf(w).reduce((a, b) => a * b, 1), 'raw_data holds the weights');
  t.equal(w.rawData.buffer, bytes.buffer, 'raw_data is a view of the file, not a copy');
  t.ok(same(encodeModel(m), bytes), 'identical bytes');
  t.ok(same(encodeModel(m), toBinary(ModelProtoSchema, m)), 'the same bytes as the library\'s own serializer');
});

t.test('hand-built models round-trip every field we write, int64 extremes and external data', async (t) => {
  const m: ModelProto = create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [{ domain: '', version: 13n }],
    producerName: 'test',
    graph: {
      name: 'g',
      node: [{
        input: ['x', 'w'], output: ['y'], name: 'n0', opType: 'Conv',
        attribute: [
          { name: 'i', type: AttributeType.INT, i: 0n },
          { name: 'ints', type: AttributeType.INTS, ints: [-1n, 9223372036854775807n, -9223372036854775808n] },
          { name: 'f', type: AttributeType.FLOAT, f: 0.5 },
          { name: 'floats', type: AttributeType.FLOATS, floats: [1.5, -2] },
          { name: 's', type: AttributeType.STRING, s: new TextEncoder().encode('NOTSET') },
          { name: 't', type: AttributeType.TENSOR, t: { dims: [2n], dataType: DataType.INT64, int64Data: [-5n, 1n << 60n] } },
        ],
      }],
      initializer: [{
        dims: [4n, 1n, 1n, 1n], dataType: DataType.FLOAT, name: 'w', dataLocation: 1,
        externalData: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '0' }, { key: 'length', value: '16' }],
      }, { dims: [2n], dataType: DataType.FLOAT, name: 'fd', floatData: [0.25, -1], doubleData: [], int32Data: [-3] },
      { dims: [1n], dataType: DataType.FLOAT, name: 'r', rawData: new Uint8Array(4) }],
      input: [floatValue('x', ['N', 1])],
      output: [{ name: 'y' }],
    },
  });
  const bytes = encodeModel(m);
  t.ok(same(bytes, toBinary(ModelProtoSchema, m)), 'the same bytes as the library\'s own serializer');
  const d = decodeModel(bytes);
  t.equal(d.graph!.node[0]!.attribute[0]!.i, 0n, 'an explicit 0 is written (proto2)');
  t.same(d.graph!.node[0]!.attribute[1]!.ints, [-1n, 9223372036854775807n, -9223372036854775808n]);
  t.same(d.graph!.node[0]!.attribute[3]!.floats, [1.5, -2]);
  t.same(d.graph!.node[0]!.attribute[5]!.t!.int64Data, [-5n, 1n << 60n]);
  t.same(d.graph!.initializer[0]!.externalData.map((e) => e.value), ['weights.bin', '0', '16']);
  t.same(d.graph!.initializer[1]!.floatData, [0.25, -1]);
  t.same(d.graph!.initializer[1]!.int32Data, [-3]);
  t.same(shapeOf(d.graph!.input[0]!), ['N', 1]);
  t.ok(same(encodeModel(d), bytes), 'decoded form encodes to the same bytes');
});

t.test('fields this onnx.proto does not know survive verbatim', async (t) => {
  // NodeProto.overload (field 8, ONNX 1.16) and a ModelProto field no version defines (30)
  const overload = Uint8Array.from([8 << 3 | 2, 2, 0x6f, 0x6b]);
  const node = Uint8Array.from([4 << 3 | 2, 3, 0x41, 0x64, 0x64, ...overload]);
  const graph = Uint8Array.from([1 << 3 | 2, node.length, ...node]);
  const bytes = Uint8Array.from([1 << 3, 7, 7 << 3 | 2, graph.length, ...graph, (30 << 3 | 2) & 0x7f | 0x80, (30 << 3 | 2) >> 7, 3, 1, 2, 3]);
  const d = decodeModel(bytes);
  t.equal(d.graph!.node[0]!.opType, 'Add');
  t.equal(d.graph!.node[0]!.$unknown?.length, 1);
  t.equal(d.$unknown?.length, 1);
  t.ok(same(encodeModel(d), bytes));
});

t.test('corrupt or foreign bytes give an OnnxDecodeError, not a crash', async (t) => {
  const bytes = new Uint8Array(readFileSync(SQUEEZENET)).subarray(0, 5000);
  t.throws(() => decodeModel(bytes), { name: 'OnnxDecodeError', message: /^not a valid ONNX model: / });
  t.throws(() => decodeModel(new TextEncoder().encode('{"modelTopology": {}}')), { name: 'OnnxDecodeError', message: /^not a valid ONNX model/ });
});

const protoc = (await execa('protoc', ['--version'], { reject: false }).catch(() => ({ exitCode: 1 }))).exitCode === 0;

t.test('the committed generated code is what npm run gen:onnx writes from proto/onnx.proto', { skip: protoc ? false : 'protoc is not installed (apt-get install protobuf-compiler)' }, async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'onnx-gen-'));
  const script = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts['gen:onnx'] as string;
  await execa('sh', ['-c', script.replace('--es_out=src/model/onnx/gen', `--es_out=${out}`)], { cwd: ROOT });
  const fresh = readFileSync(path.join(out, 'onnx_pb.ts'), 'utf8');
  const committed = readFileSync(path.join(ROOT, 'src/model/onnx/gen/onnx_pb.ts'), 'utf8');
  t.equal(committed, fresh, 'src/model/onnx/gen/onnx_pb.ts is stale or hand-edited: run npm run gen:onnx');
});
