import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AttributeType, DataType, decodeModel, encodeModel, type ModelProto } from '../../src/model/onnx/proto.js';
import { FIXTURES } from '../helpers/cli.js';

const SQUEEZENET = path.join(FIXTURES, 'onnx/squeezenet1_1.onnx');

t.test('a PyTorch export decodes and encodes back byte for byte', async (t) => {
  const bytes = new Uint8Array(readFileSync(SQUEEZENET));
  const m = decodeModel(bytes);
  t.equal(m.irVersion, 7);
  t.same(m.opsetImport, [{ version: 13 }]);
  t.equal(m.producerName, 'pytorch');
  const g = m.graph!;
  t.equal(g.node.length, 83);
  t.equal(g.initializer.length, 34);
  t.same(g.input.map((v) => v.type?.tensorType?.shape?.dim.map((d) => d.dimValue)), [[1, 3, 224, 224]]);
  const conv = g.node.find((n) => n.opType === 'Conv')!;
  t.same(conv.attribute!.find((a) => a.name === 'kernel_shape')!.ints, [3n, 3n]);
  t.equal(conv.attribute!.find((a) => a.name === 'group')!.i, 1n);
  const w = g.initializer.find((i) => i.name === conv.input[1]) ?? g.initializer[0]!;
  t.equal(w.dataType, DataType.FLOAT);
  t.equal(w.rawData!.length, 4 * w.dims.reduce((a, b) => a * b, 1), 'raw_data holds the weights');
  const again = encodeModel(m);
  t.equal(Buffer.compare(Buffer.from(again), Buffer.from(bytes)), 0, 'identical bytes');
});

t.test('hand-built models round-trip every modelled field, int64 extremes and external data', async (t) => {
  const m: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
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
          { name: 't', type: AttributeType.TENSOR, t: { dims: [2], dataType: DataType.INT64, int64Data: [-5n, 1n << 60n] } },
        ],
      }],
      initializer: [{
        dims: [4, 1, 1, 1], dataType: DataType.FLOAT, name: 'w', dataLocation: 1,
        externalData: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '0' }, { key: 'length', value: '16' }],
      }, { dims: [2], dataType: DataType.FLOAT, name: 'fd', floatData: [0.25, -1], doubleData: [], int32Data: [-3] }],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 1 }] } } } }],
      output: [{ name: 'y' }],
    },
  };
  const bytes = encodeModel(m);
  const d = decodeModel(bytes);
  t.equal(d.graph!.node[0]!.attribute![0]!.i, 0n, 'an explicit 0 stays present (proto2)');
  t.same(d.graph!.node[0]!.attribute![1]!.ints, [-1n, 9223372036854775807n, -9223372036854775808n]);
  t.same(d.graph!.node[0]!.attribute![3]!.floats, [1.5, -2]);
  t.same(d.graph!.node[0]!.attribute![5]!.t!.int64Data, [-5n, 1n << 60n]);
  t.same(d.graph!.initializer[0]!.externalData!.map((e) => e.value), ['weights.bin', '0', '16']);
  t.same(d.graph!.initializer[1]!.floatData, [0.25, -1]);
  t.same(d.graph!.initializer[1]!.int32Data, [-3]);
  t.same(d.graph!.input[0]!.type!.tensorType!.shape!.dim, [{ dimParam: 'N' }, { dimValue: 1 }]);
  t.equal(Buffer.compare(Buffer.from(encodeModel(d)), Buffer.from(bytes)), 0, 'decoded form encodes to the same bytes');
});

t.test('fields the codec does not model survive verbatim', async (t) => {
  const base = encodeModel({ irVersion: 7, opsetImport: [], graph: { node: [], initializer: [], input: [], output: [] } });
  // field 25 (functions), length-delimited, 3 bytes of payload
  const extra = Uint8Array.from([(25 << 3 | 2) & 0x7f | 0x80, (25 << 3 | 2) >> 7, 3, 1, 2, 3]);
  const withExtra = Buffer.concat([Buffer.from(base), Buffer.from(extra)]);
  const d = decodeModel(new Uint8Array(withExtra));
  t.equal(d.unknown?.length, 1);
  t.equal(Buffer.compare(Buffer.from(encodeModel(d)), withExtra), 0);
});

t.test('corrupt or foreign bytes give a ProtoError, not a crash', async (t) => {
  const bytes = new Uint8Array(readFileSync(SQUEEZENET)).subarray(0, 5000);
  t.throws(() => decodeModel(bytes), { name: 'ProtoError', message: /not a valid ONNX model: truncated/ });
  t.throws(() => decodeModel(new TextEncoder().encode('{"modelTopology": {}}')), { name: 'ProtoError', message: /not a valid ONNX model/ });
});
