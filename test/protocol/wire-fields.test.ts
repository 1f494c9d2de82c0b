// The fields the wiring of codecs added to protocol version 2: RESULT's decode time at offset 20 and
// HELLO's optional preprocessing; and the frame sizes the cost model takes for encoded crossings.
import t from 'tap';
import { CODECS } from '../../src/codecs/index.js';
import { PROTOCOL_VERSION } from '../../src/protocol/constants.js';
import { inferFrameBytes, resultFrameBytes } from '../../src/protocol/frame-size.js';
import { type HelloMessage, type Message, type ResultMessage, encodeControlFrame, encodeMessage } from '../../src/protocol/messages.js';
import { MESSAGE_CODES } from '../../src/protocol/constants.js';
import { TENSOR_HEADER } from '../../src/protocol/tensor-frame.js';
import { hostInfo } from '../../src/host-info.js';
import { feed } from '../helpers/protocol.js';

const frame = (m: Message) => Buffer.concat(encodeMessage(m));
const tensor = { shape: [1, 4], data: Float32Array.from([1, 2, 3, 4]) };

t.test("RESULT carries the cloud's decode time in µs at offset 20 (u32, rounded)", async (t) => {
  const f = frame({ type: 'RESULT', id: 3, cloudUs: 1500.25, decodeUs: 812.6, tensor });
  t.equal(f.readUInt32LE(TENSOR_HEADER.decodeUs), 813, 'rounded to whole µs');
  t.equal(f.readDoubleLE(TENSOR_HEADER.cloudUs), 1500.25, 'compute time apart, at 24');
  const [m] = feed([f]).messages as ResultMessage[];
  t.equal(m!.decodeUs, 813);
  t.equal(m!.cloudUs, 1500.25);
  const raw = frame({ type: 'RESULT', id: 3, cloudUs: 5, tensor });
  t.equal(raw.readUInt32LE(TENSOR_HEADER.decodeUs), 0, 'none: 0 on the wire');
  t.equal((feed([raw]).messages[0] as ResultMessage).decodeUs, undefined, 'and absent when read, as when sent');
  const big = frame({ type: 'RESULT', id: 3, cloudUs: 5, decodeUs: 0xffffffff, tensor });
  t.equal((feed([big]).messages[0] as ResultMessage).decodeUs, 0xffffffff, 'the whole u32 range');
  t.throws(() => frame({ type: 'RESULT', id: 3, cloudUs: 5, decodeUs: 2 ** 32, tensor }), RangeError, 'past u32: the sender fails');
  t.throws(() => frame({ type: 'RESULT', id: 3, cloudUs: 5, decodeUs: -1, tensor }), RangeError, 'negative: the sender fails');
});

t.test("INFER's offset 20 is its cut and its cloud time stays reserved", async (t) => {
  const f = frame({ type: 'INFER', id: 1, cut: 9, tensor });
  t.equal(f.readUInt32LE(20), 9);
  f.writeDoubleLE(3, TENSOR_HEADER.cloudUs);
  t.equal(feed([f]).errors[0]?.code, 'BAD_HEADER', 'an INFER with a cloud time');
});

const hello = (over: Partial<HelloMessage> = {}): HelloMessage => ({ type: 'HELLO', version: PROTOCOL_VERSION, network: 'lenet', fingerprint: 'f', seed: 1, backend: 'cpu', client: hostInfo(), ...over });

t.test('HELLO may say how the edge preprocesses camera frames', async (t) => {
  const [plain] = feed([frame(hello())]).messages as HelloMessage[];
  t.equal(plain!.preprocess, undefined, 'absent: no camera frames announced');
  const [m] = feed([frame(hello({ preprocess: { mode: 'torch', layout: 'nchw' } }))]).messages as HelloMessage[];
  t.same(m!.preprocess, { mode: 'torch', layout: 'nchw' });
  const fields = { version: PROTOCOL_VERSION, network: 'lenet', fingerprint: 'f', seed: 1, backend: 'cpu', client: hostInfo() };
  const bad = (preprocess: unknown) => feed([Buffer.concat(encodeControlFrame(MESSAGE_CODES.HELLO, { ...fields, preprocess }))]).errors[0]?.message;
  t.match(bad({ mode: 'tf', layout: 'hwc' }), /HELLO field 'preprocess.layout' must be one of nhwc, nchw/);
  t.match(bad({ layout: 'nhwc' }), /HELLO field 'preprocess.mode' must be a string \(missing\)/);
  t.match(bad('tf'), /HELLO field 'preprocess' must be a map/);
});

t.test('frame sizes of encoded crossings: a codec payload per element and its parameter bytes', async (t) => {
  const dims = [1, 28, 28, 16];
  const values = Float32Array.from({ length: 28 * 28 * 16 }, (_, i) => Math.sin(i));
  for (const [name, per] of [['f32', 4], ['f16', 2], ['int8', 1], ['int8-ch', 1]] as const) {
    const codec = CODECS.get(name)!;
    const e = codec.encode(values, dims);
    const sent = frame({ type: 'INFER', id: 1, cut: 0, tensor: { shape: dims, data: codec.id === 0 ? values : new Float32Array(0) }, ...(codec.id === 0 ? {} : { codec: { id: codec.id, scale: e.scale, zeroPoint: e.zeroPoint, params: e.params }, payload: e.payload }) });
    t.equal(inferFrameBytes(dims, per, e.params.length), sent.length, `${name}: ${sent.length} bytes`);
    t.equal(resultFrameBytes(dims, per, e.params.length), sent.length);
  }
  t.equal(inferFrameBytes(dims, 1, 8 + 5 * 16) - inferFrameBytes(dims, 1), 80, 'int8-ch: its 88 parameter bytes after the 84-byte header move the payload from 96 to 176');
  t.throws(() => inferFrameBytes(dims, 1, -1), RangeError);
});
