import { codecById } from '../codecs/registry.js';
import type { HostTensor } from '../engine/split-runner.js';
import { CODEC_IDS, codecName } from '../protocol/codecs.js';
import type { InferMessage, PreprocessSpec } from '../protocol/messages.js';
import { errorMessage } from '../errors.js';
import { BadRequest } from './inference-service.js';
import { imageToTensor, isImageCodec } from './image-input.js';
import { PREPROCESS_MODES } from '../inputs/index.js';

/**
 * The model-side tensor of an INFER: raw float32 as it arrived (a view on the frame, no copy); a
 * tensor codec's payload decoded (src/codecs/); a camera frame (image codec, input point only)
 * decoded and preprocessed with the convention the edge announced in its HELLO. A payload that does
 * not decode is a BadRequest (BAD_TENSOR) for this request alone.
 */
export async function decodeInfer(m: InferMessage, preprocess: PreprocessSpec | undefined): Promise<HostTensor> {
  const { codec, tensor } = m;
  if (codec === undefined || codec.id === CODEC_IDS.raw) return { data: tensor.data, shape: tensor.shape };
  const name = codecName(codec.id);
  try {
    if (isImageCodec(codec.id)) {
      if (!preprocess) throw new Error('the edge sent a camera frame but announced no preprocessing in its HELLO');
      if (!(PREPROCESS_MODES as readonly string[]).includes(preprocess.mode)) throw new Error(`the edge announced preprocessing '${preprocess.mode}', which this cloud does not know (${PREPROCESS_MODES.join(', ')})`);
      return await imageToTensor(codec.id, m.payload!, tensor.shape, preprocess);
    }
    const data = codecById(codec.id).decode({ payload: m.payload!, scale: codec.scale, zeroPoint: codec.zeroPoint, params: codec.params }, tensor.shape);
    return { data, shape: tensor.shape };
  } catch (e) {
    if (e instanceof BadRequest) throw e;
    throw new BadRequest(`${name} payload of ${m.payload?.byteLength ?? 0} bytes for [${String(tensor.shape)}] does not decode: ${errorMessage(e)}`, 'BAD_TENSOR');
  }
}
