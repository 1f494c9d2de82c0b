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
export function modelInput(input: SampleInput): { x: HostTensor; ms: number } {
  if (input.tensor) return { x: input.tensor, ms: 0 };
  if (!input.frame || !input.preprocess) throw new Error('bug: a sample input needs a tensor, or a frame and its preprocessing');
  const t0 = performance.now();
  const x = input.preprocess(input.frame);
  return { x, ms: performance.now() - t0 };
}

/** What the edge stage of one inference produced: the crossing to send (none at the edge-only point) and its times, ms. */
export interface EdgeOutput {
  /** undefined at the edge-only point: nothing is sent */
  tensor?: HostTensor;
  encoded?: EncodedCrossing;
  /** preprocessing of a camera frame + edge compute including reading the crossing back */
  edgeMs: number;
  /** the edge encoding the crossing */
  encodeMs: number;
  /** the INFER frame on the wire (0: nothing sent) */
  bytes: number;
  /** performance.now() when edge compute ended (encoding follows it) */
  edgeEnd: number;
}

/**
 * The edge's part of one inference of `arm`: preprocessing, edge half, readback, encoding. At the
 * input point with an image codec the edge only encodes the camera's frame. A link probe sends
 * zeros of the point's shape: no edge compute.
 */
export async function edgeStage(runner: SplitRunner, arm: Arm, input: SampleInput, o: { probe?: boolean } = {}): Promise<EdgeOutput> {
  const { cut, codec } = arm;
  const dims = [1, ...cut.shape];
  if (codec.kind === 'image') {
    if (!input.frame) throw new Error(`bug: ${codec.label} at ${cut.layer} needs a camera frame`);
    const edgeEnd = performance.now();
    const payload = await codec.encode(input.frame);
    const encoded = { codec: { id: codec.id, scale: 0, zeroPoint: 0, params: new Uint8Array(0) }, payload };
    return { tensor: { data: EMPTY, shape: dims }, encoded, edgeMs: 0, encodeMs: performance.now() - edgeEnd, bytes: tensorFrameBytes(payload.byteLength, 0), edgeEnd };
  }
  let edgeMs = 0;
  let tensor: HostTensor;
  if (o.probe) {
    tensor = { data: new Float32Array(cut.bytes / 4), shape: dims };
  } else {
    const { x, ms } = modelInput(input);
    const edge = await runner.edge(cut, x);
    edgeMs = ms + edge.ms;
    tensor = edge.value;
  }
  const edgeEnd = performance.now();
  if (cut.kind === 'output') return { edgeMs, encodeMs: 0, bytes: 0, edgeEnd };
  if (codec.codec.id === 0) return { tensor, edgeMs, encodeMs: 0, bytes: tensorFrameBytes(tensor.data.byteLength), edgeEnd };
  const e = codec.codec.encode(tensor.data, tensor.shape, codec.options);
  const encoded = { codec: { id: codec.codec.id, scale: e.scale, zeroPoint: e.zeroPoint, params: e.params }, payload: e.payload };
  return { tensor: { data: EMPTY, shape: tensor.shape }, encoded, edgeMs, encodeMs: performance.now() - edgeEnd, bytes: tensorFrameBytes(e.payload.byteLength, e.params.byteLength), edgeEnd };
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
  const t0 = performance.now();
  const out = await edgeStage(runner, arm, input, o);
  if (!out.tensor) {
    const total = performance.now() - t0;
    return { edge: out.edgeMs * 1000, transfer: 0, cloud: 0, total: total * 1000, encode: 0, decode: 0, bytes: 0 };
  }
  const t1 = performance.now();
  const reply = await link.infer(arm.cut, out.tensor, out.encoded);
  const t2 = performance.now();
  const decodeMs = reply.decodeMs ?? 0;
  return {
    edge: out.edgeMs * 1000,
    cloud: reply.cloudMs * 1000,
    transfer: (t2 - t1 - reply.cloudMs - decodeMs) * 1000,
    total: (t2 - t0) * 1000,
    encode: out.encodeMs * 1000,
    decode: decodeMs * 1000,
    bytes: out.bytes,
  };
}
