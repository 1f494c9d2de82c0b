import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { UserError, errorMessage, firstLine } from '../errors.js';
import { fullModelBytes, type OnnxModel } from '../model/onnx/onnx-model.js';
import type { ProbedValue } from '../model/onnx/onnx-network.js';
import { loadOnnxRuntime } from './onnx-runtime.js';

/** Runs the model once with every point as an output and reads their types and shapes. */
export async function probeShapes(model: OnnxModel): Promise<Map<string, ProbedValue>> {
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
    const shapes = new Map<string, ProbedValue>([[model.input, { type: 'float32', dims: model.inputDims }]]);
    for (const [name, t] of Object.entries(out)) {
      shapes.set(name, { type: t.type, dims: t.dims.slice() });
      t.dispose();
    }
    return shapes;
  } finally {
    await session.release();
  }
}
