import { isOnnxPath, loadLayersNetwork, type LoadOptions, type Network } from '../model/network.js';
import { loadOnnxModel } from '../model/onnx/onnx-model.js';
import { onnxNetwork } from '../model/onnx/onnx-network.js';
import { probeShapes } from './onnx-shapes.js';

/**
 * Resolves `<network>` as users type it: a zoo name or a path to a model file. It lives in the
 * engine because an ONNX file's points take their shapes from a run on ONNX Runtime.
 */
export async function loadNetwork(spec: string, opts: LoadOptions): Promise<Network> {
  if (!isOnnxPath(spec)) return loadLayersNetwork(spec, opts);
  const t0 = performance.now();
  const model = await loadOnnxModel(spec, opts.inputShape);
  return onnxNetwork(spec, model, await probeShapes(model), opts, t0);
}
