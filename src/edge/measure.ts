import type { HostTensor, SplitRunner } from '../engine/split-runner.js';
import { tensorFrameBytes } from '../protocol/frame-size.js';
import type { CloudLink, EncodedCrossing } from './cloud-link.js';
import type { Arm, Frame } from './arms.js';
import type { Sample } from './samples.js';

/**
 * The input of one sample. Random inputs are the model input itself (nothing to preprocess, as
 * before inputs existed); a camera frame comes with the function that preprocesses it into the
 * model input, which the edge runs (timed) wherever it computes from the input.
 */
export interface SampleInput {
  /** the model input: random values, or undefined for a frame (made per sample by `preprocess`) */
  tensor?: HostTensor;
  frame?: Frame;
  preprocess?: (frame: Frame) => HostTensor;
}

const EMPTY = new Float32Array(0);

/** The model input of a sample and the ms its preprocessing took (0 for random inputs). */
function modelInput(input: SampleInput): { x: HostTensor; ms: number } {
  if (input.tensor) return { x: input.tensor, ms: 0 };
  if (!input.frame || !input.preprocess) throw new Error('bug: a sample input needs a tensor, or a frame and its preprocessing');
  const t0 = performance.now();
  const x = input.preprocess(input.frame);
  return { x, ms: performance.now() - t0 };
}

/**
 * One inference of `arm` (a point and how its crossing is encoded): edge half, encode, hand-off,
 * cloud decode and half. Times, in µs:
 * edge = preprocessing of a camera frame (when the edge computes from it) + edge compute including
 * reading the crossing tensor back; encode = the edge encoding the crossing (a tensor codec, or at
 * the input point the image codec on the camera's frame: the edge then neither preprocesses nor
 * computes); decode, cloud = as the cloud reports them (decoding apart from compute);
 * transfer = round trip at the edge minus the cloud's decode and compute; total = measured end to
 * end; bytes = the INFER frame on the wire. The edge-only point sends nothing. The f32 crossing is
 * sent as it is (no copy) and timed as before codecs existed.
 */
export async function measureOnce(runner: SplitRunner, link: CloudLink, arm: Arm, input: SampleInput, o: { probe?: boolean } = {}): Promise<Sample> {
  const { cut, codec } = arm;
  const t0 = performance.now();
  let edgeMs = 0;
  let encodeMs = 0;
  let tensor: HostTensor;
  let encoded: EncodedCrossing | undefined;
  const dims = [1, ...cut.shape];
  if (codec.kind === 'image') {
    if (!input.frame) throw new Error(`bug: ${codec.label} at ${cut.layer} needs a camera frame`);
    const te = performance.now();
    const payload = await codec.encode(input.frame);
    encodeMs = performance.now() - te;
    tensor = { data: EMPTY, shape: dims };
    encoded = { codec: { id: codec.id, scale: 0, zeroPoint: 0, params: new Uint8Array(0) }, payload };
  } else {
    // A link probe sends zeros of the point's shape: no edge compute, the cloud half runs as usual.
    if (o.probe) {
      tensor = { data: new Float32Array(cut.bytes / 4), shape: dims };
    } else {
      const { x, ms } = modelInput(input);
      const edge = await runner.edge(cut, x);
      edgeMs = ms + edge.ms;
      tensor = edge.value;
    }
    if (cut.kind === 'output') {
      const total = performance.now() - t0;
      return { edge: edgeMs * 1000, transfer: 0, cloud: 0, total: total * 1000, encode: 0, decode: 0, bytes: 0 };
    }
    if (codec.codec.id !== 0) {
      const te = performance.now();
      const e = codec.codec.encode(tensor.data, tensor.shape, codec.options);
      encodeMs = performance.now() - te;
      encoded = { codec: { id: codec.codec.id, scale: e.scale, zeroPoint: e.zeroPoint, params: e.params }, payload: e.payload };
      tensor = { data: EMPTY, shape: tensor.shape };
    }
  }
  const bytes = encoded ? tensorFrameBytes(encoded.payload.byteLength, encoded.codec.params.byteLength) : tensorFrameBytes(tensor.data.byteLength);
  const t1 = performance.now();
  const reply = await link.infer(cut, tensor, encoded);
  const t2 = performance.now();
  const decodeMs = reply.decodeMs ?? 0;
  return {
    edge: edgeMs * 1000,
    cloud: reply.cloudMs * 1000,
    transfer: (t2 - t1 - reply.cloudMs - decodeMs) * 1000,
    total: (t2 - t0) * 1000,
    encode: encodeMs * 1000,
    decode: decodeMs * 1000,
    bytes,
  };
}
