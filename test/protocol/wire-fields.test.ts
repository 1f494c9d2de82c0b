// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// The fields the wiring of codecs added to protocol version 2: RESULT's decode time at offset 20 and
// HELLO's optional preprocessing; and the frame sizes the cost model takes for encoded crossings.
// Version 3's: RESULT's queue time and cloud stress at 84..96, ERROR's optional request id.
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
  t.equal(inferFrameBytes(dims, 1, 8 + 5 * 16) - inferFrameBytes(dims, 1), 96, 'int8-ch: its 88 parameter bytes after the 96-byte header move the payload from 96 to 192');
  t.throws(() => inferFrameBytes(dims, 1, -1), RangeError);
});

t.test("RESULT carries its queue time and the cloud stress in force (84..96); INFER keeps them 0", async (t) => {
  const f = frame({ type: 'RESULT', id: 3, cloudUs: 10, queueUs: 4321, stress: { cpu: 50, mem: 0, epoch: 7 }, tensor });
  t.equal(f.readUInt32LE(TENSOR_HEADER.queueUs), 4321);
  t.same([f[TENSOR_HEADER.stressCpu], f[TENSOR_HEADER.stressMem], f.readUInt16LE(TENSOR_HEADER.reserved), f.readUInt32LE(TENSOR_HEADER.stressEpoch)], [50, 0, 0, 7]);
  const [m] = feed([f]).messages as ResultMessage[];
  t.equal(m!.queueUs, 4321);
  t.same(m!.stress, { cpu: 50, mem: 0, epoch: 7 });
  const bare = feed([frame({ type: 'RESULT', id: 3, cloudUs: 5, tensor })]).messages[0] as ResultMessage;
  t.same([bare.queueUs, bare.stress], [0, { cpu: 0, mem: 0, epoch: 0 }], 'left out when sent: 0 and no stress, always present when read');
  for (const [what, bad] of [
    ['cpu over 100', { queueUs: 0, stress: { cpu: 101, mem: 0, epoch: 0 } }],
    ['a fractional percentage', { queueUs: 0, stress: { cpu: 12.5, mem: 0, epoch: 0 } }],
    ['an epoch past u32', { queueUs: 0, stress: { cpu: 0, mem: 0, epoch: 2 ** 32 } }],
    ['a negative queue time', { queueUs: -1 }],
    ['a queue time past u32', { queueUs: 2 ** 32 }],
  ] as const) {
    t.throws(() => frame({ type: 'RESULT', id: 3, cloudUs: 5, tensor, ...bad }), RangeError, `${what}: the sender fails`);
  }
  const edit = (write: (b: Buffer) => void, m: Message = { type: 'RESULT', id: 3, cloudUs: 5, tensor }) => {
    const b = frame(m);
    write(b);
    return feed([b]).errors[0]?.message ?? 'decoded';
  };
  t.match(edit((b) => (b[TENSOR_HEADER.stressMem] = 101)), /BAD_HEADER: RESULT stress cpu 0 % mem 101 % must be percentages/);
  t.match(edit((b) => b.writeUInt16LE(1, TENSOR_HEADER.reserved)), /BAD_HEADER: RESULT reserved field at 90 must be 0/);
  const infer: Message = { type: 'INFER', id: 1, cut: 0, tensor };
  t.match(edit((b) => b.writeUInt32LE(1, TENSOR_HEADER.queueUs), infer), /BAD_HEADER: INFER fields 'queueUs' and 'stress' must be 0/);
  t.match(edit((b) => (b[TENSOR_HEADER.stressCpu] = 1), infer), /must be 0 in an INFER/);
  t.match(edit((b) => b.writeUInt32LE(1, TENSOR_HEADER.stressEpoch), infer), /must be 0 in an INFER/);
});

t.test('ERROR may name the request it answers (u32); without an id it is the connection\'s', async (t) => {
  const [a] = feed([frame({ type: 'ERROR', code: 'QUEUE_FULL', message: 'full', id: 12 })]).messages;
  t.same(a, { type: 'ERROR', code: 'QUEUE_FULL', message: 'full', id: 12 });
  const [b] = feed([frame({ type: 'ERROR', code: 'BAD_MAGIC', message: 'x' })]).messages;
  t.same(b, { type: 'ERROR', code: 'BAD_MAGIC', message: 'x' });
  const bad = (id: unknown) => feed([Buffer.concat(encodeControlFrame(MESSAGE_CODES.ERROR, { code: 'QUEUE_FULL', message: 'm', id }))]).errors[0]?.message;
  t.match(bad(-1), /ERROR field 'id' must be a non-negative integer/);
  t.match(bad(2 ** 32), /ERROR field 'id' must be an integer in \[0, 2\^32\)/);
  t.match(bad('7'), /ERROR field 'id'/);
  const [c] = feed([frame({ type: 'ERROR', code: 'CONDITION_CONFLICT', message: 'held by client 1', id: 0 })]).messages;
  t.match(c, { code: 'CONDITION_CONFLICT', id: 0 }, 'the two new codes read');
});
