import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clearField, create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema } from '../../src/model/onnx/gen/onnx_pb.js';
import {
  AttributeType, DataLocation, DataType, ModelProtoSchema, TensorProtoSchema, encodeModel, floatTensor as rawFloatTensor, floatValue, type ModelProto, type TensorProto,
} from '../../src/model/onnx/onnx-codec.js';

/** Debian's python3-onnx, when installed: the reference checker of ONNX files. */
const PYTHON = '/usr/bin/python3';

export async function onnxCheckerMissing(): Promise<string | false> {
  const r = await execa(PYTHON, ['-c', 'import onnx'], { reject: false });
  return r.exitCode === 0 ? false : 'python3-onnx is not installed (apt-get install python3-onnx)';
}

/** Runs onnx.checker.check_model(full_check=True) on each model; returns its stderr when one fails. */
export async function checkOnnx(models: ModelProto[]): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onnx-check-'));
  const files = models.map((m, i) => {
    const f = path.join(dir, `m${i}.onnx`);
    writeFileSync(f, encodeModel(m));
    return f;
  });
  const script = 'import onnx, sys\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f), full_check=True)\nprint("ok")';
  const r = await execa(PYTHON, ['-c', script, ...files], { reject: false });
  return r.exitCode === 0 ? 'ok' : r.stderr.split('\n').slice(-3).join(' ');
}

export function floats(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

export function floatTensor(name: string, dims: number[], seed: number): TensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  return rawFloatTensor(name, dims, floats(Array.from({ length: n }, (_, i) => Math.sin(seed * 31 + i) / 2)));
}

const ints = (name: string, v: number[]) => ({ name, type: AttributeType.INTS, ints: v.map(BigInt) });

/**
 * A small model with what real exports have: a Constant node feeding the first op, a Conv,
 * a residual block (the Conv inside it is no point), pooling and Flatten. `dims` of the input
 * may hold strings (dynamic dimensions). Points: x, scaled, conv, relu, sum, pool, y.
 */
export function toyModel(dims: (number | string)[] = [1, 2, 4, 4], opset = 13): ModelProto {
  return create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [{ domain: '', version: BigInt(opset) }],
    producerName: 'dnn-partition-bench test',
    graph: {
      name: 'toy',
      node: [
        { input: [], output: ['half'], opType: 'Constant', attribute: [{ name: 'value', type: AttributeType.TENSOR, t: { dataType: DataType.FLOAT, rawData: floats([0.5]) } }] },
        { input: ['x', 'half'], output: ['scaled'], opType: 'Mul' },
        { input: ['scaled', 'w1', 'b1'], output: ['conv'], opType: 'Conv', attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])] },
        { input: ['conv'], output: ['relu'], opType: 'Relu' },
        { input: ['relu', 'w2'], output: ['inner'], opType: 'Conv', attribute: [ints('kernel_shape', [1, 1])] },
        { input: ['relu', 'inner'], output: ['sum'], opType: 'Add' },
        { input: ['sum'], output: ['pool'], opType: 'GlobalAveragePool' },
        { input: ['pool'], output: ['y'], opType: 'Flatten' },
      ],
      initializer: [floatTensor('w1', [3, 2, 3, 3], 1), floatTensor('b1', [3], 2), floatTensor('w2', [3, 3, 1, 1], 3)],
      input: [floatValue('x', dims)],
      output: [floatValue('y', [1, 3])],
    },
  });
}

/** Writes a model into a new temporary folder; `external` moves that initializer's bytes to a side file. */
export function writeModel(m: ModelProto, opts: { external?: string; name?: string } = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onnx-model-'));
  if (opts.external) {
    const t = m.graph!.initializer.find((i) => i.name === opts.external)!;
    const pad = new Uint8Array(16); // data need not start at 0
    writeFileSync(path.join(dir, 'weights.bin'), Buffer.concat([pad, t.rawData]));
    t.externalData = [
      { key: 'location', value: 'weights.bin' }, { key: 'offset', value: '16' }, { key: 'length', value: String(t.rawData.length) },
    ].map((e) => create(StringStringEntryProtoSchema, e));
    t.dataLocation = DataLocation.EXTERNAL;
    clearField(t, TensorProtoSchema.field.rawData);
  }
  const file = path.join(dir, opts.name ?? 'toy.onnx');
  writeFileSync(file, encodeModel(m));
  return file;
}
