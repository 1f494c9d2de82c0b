// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { MAX_HEADER_BYTES, MESSAGE_CODES, PREFIX_BYTES, PROTOCOL_VERSION } from '../../src/protocol/constants.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { type Message, encodeMessage } from '../../src/protocol/messages.js';
import { TENSOR_HEADER, TENSOR_HEADER_BYTES } from '../../src/protocol/tensor-frame.js';
import { codeOf, feed, handFrame, randInt, randomChunks, rng } from '../helpers/protocol.js';

const INFER = MESSAGE_CODES.INFER;
const CODES = new Set(['BAD_MAGIC', 'FRAME_TOO_LARGE', 'BAD_LENGTH', 'UNKNOWN_TYPE', 'BAD_HEADER', 'BAD_TENSOR', 'UNKNOWN_CODEC', 'TRUNCATED']);

t.test('random bytes: one typed error, never an exception', (t) => {
  const r = rng(11);
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const bytes = Buffer.from(Array.from({ length: randInt(r, 1, 400) }, () => randInt(r, 0, 255)));
    const { messages, errors } = feed(randomChunks(r, bytes, 50));
    t.equal(messages.length, 0);
    t.equal(errors.length, 1, 'exactly one error, then nothing');
    t.ok(errors[0] instanceof ProtocolError && CODES.has(errors[0].code) && errors[0].cause === undefined);
    seen.add(errors[0]!.code);
  }
  t.ok(seen.has('BAD_MAGIC'));
  t.end();
});

t.test('mutated valid frames: decode or fail with a ProtocolError, never throw', (t) => {
  const r = rng(12);
  const valid: Message[] = [
    { type: 'INFER', id: 3, cut: 17, tensor: { shape: [2, 3, 4], data: new Float32Array(24).fill(1) } },
    { type: 'RESULT', id: 3, cloudUs: 812.5, tensor: { shape: [1, 10], data: new Float32Array(10).fill(1) } },
    { type: 'HELLO', version: PROTOCOL_VERSION, network: 'lenet', fingerprint: 'f'.repeat(32), seed: 1, backend: 'wasm', client: { host: 'h', cpu: 'c', cores: 2, mem: 2 ** 34 } },
  ];
  const seen = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const bytes = Buffer.concat(encodeMessage(valid[i % valid.length]!));
    for (let k = randInt(r, 1, 3); k > 0; k--) bytes[randInt(r, 0, Math.min(bytes.length - 1, 120))] = randInt(r, 0, 255);
    const { messages, errors } = feed([bytes]);
    t.equal(messages.length + errors.length, 1, 'one outcome');
    if (errors[0]?.cause !== undefined) t.fail(`decoding hit an unforeseen exception: ${String(errors[0].cause)}`);
    if (errors[0]) seen.add(errors[0].code);
  }
  t.ok(seen.size >= 6, `several error kinds reached: ${[...seen].join(', ')}`);
  t.end();
});

t.test('oversize length is refused from the prefix alone, before any allocation', (t) => {
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.writeUInt32LE(0x504e4e44, 0);
  prefix.writeUInt32LE(0xfffffff0, 4);
  prefix[8] = INFER;
  prefix.writeUInt32LE(10, 12);
  const before = process.memoryUsage().arrayBuffers;
  const { errors, reader } = feed([prefix], undefined, false);
  t.equal(errors[0]?.code, 'FRAME_TOO_LARGE', 'fires on the 16 prefix bytes, no body needed');
  t.ok(process.memoryUsage().arrayBuffers - before < 1 << 20, 'no frame buffer allocated');
  // After the error the reader consumes nothing more.
  reader.push(Buffer.concat(encodeMessage({ type: 'PING', nonce: 1, time: 0 })));
  reader.end();
  t.equal(errors.length, 1);
  t.equal(reader.frames, 0);

  // A configured limit below the default applies too.
  const frame = Buffer.concat(encodeMessage({ type: 'INFER', id: 1, cut: 0, tensor: { shape: [512], data: new Float32Array(512) } }));
  t.equal(feed([frame], 1024).errors[0]?.code, 'FRAME_TOO_LARGE');
  t.same(feed([frame], 4096).errors, []);
  t.end();
});

t.test('truncated frame at end of stream', (t) => {
  const frame = Buffer.concat(encodeMessage({ type: 'INFER', id: 1, cut: 0, tensor: { shape: [8], data: new Float32Array(8) } }));
  t.equal(feed([frame.subarray(0, frame.length - 1)]).errors[0]?.code, 'TRUNCATED', 'body cut short');
  t.equal(feed([frame.subarray(0, TENSOR_HEADER.dims + 6)]).errors[0]?.code, 'TRUNCATED', 'ends inside the dims');
  t.equal(feed([frame.subarray(0, 5)]).errors[0]?.code, 'TRUNCATED', 'prefix cut short');
  t.same(feed([frame, frame]).errors, [], 'whole frames then end: no error');
  t.same(feed([]).errors, [], 'empty stream: no error');
  t.end();
});

t.test('prefix violations', (t) => {
  t.equal(codeOf(handFrame({ type: 200, header: {} })), 'UNKNOWN_TYPE');
  t.equal(codeOf(handFrame({ type: 0, header: {} })), 'UNKNOWN_TYPE');
  t.equal(codeOf(handFrame({ type: INFER, header: {}, magic: 0x12345678 })), 'BAD_MAGIC');
  t.equal(codeOf(handFrame({ type: INFER, header: {}, headerLength: 0 })), 'BAD_LENGTH');
  t.equal(codeOf(handFrame({ type: INFER, header: { a: 1 }, frameLength: PREFIX_BYTES + 1 })), 'BAD_LENGTH');
  t.equal(codeOf(handFrame({ type: MESSAGE_CODES.PING, header: { nonce: 1, time: 2 }, headerLength: MAX_HEADER_BYTES + 1, frameLength: MAX_HEADER_BYTES + 64 })), 'BAD_LENGTH', 'header over the limit');
  t.end();
});

t.test('control header violations are BAD_HEADER', (t) => {
  const garbage = handFrame({ type: MESSAGE_CODES.PING, header: {} });
  garbage[PREFIX_BYTES] = 0xc1; // the one byte msgpack never uses
  t.equal(codeOf(garbage), 'BAD_HEADER', 'not msgpack');
  t.equal(codeOf(handFrame({ type: MESSAGE_CODES.PING, header: [1, 2] })), 'BAD_HEADER', 'not a map');
  t.equal(codeOf(handFrame({ type: MESSAGE_CODES.PING, header: { nonce: 1 } })), 'BAD_HEADER', 'field missing');
  t.equal(codeOf(handFrame({ type: MESSAGE_CODES.PING, header: { nonce: '1', time: 2 } })), 'BAD_HEADER', 'wrong type');
  t.equal(codeOf(handFrame({ type: MESSAGE_CODES.CONDITION, header: { id: 1, cpu: 150, mem: 0 } })), 'BAD_HEADER', 'percent > 100');
  t.equal(codeOf(handFrame({ type: MESSAGE_CODES.PING, header: { nonce: 1, time: 2 }, payload: Buffer.alloc(16) })), 'BAD_LENGTH', 'a control frame carries no payload');
  const hello = { version: PROTOCOL_VERSION, network: 'vgg16', fingerprint: 'f', seed: 1, backend: 'wasm', client: { host: 'h', cpu: 'c', cores: '2', mem: 1 } };
  const e = feed([handFrame({ type: MESSAGE_CODES.HELLO, header: hello })]).errors[0];
  t.equal(e?.code, 'BAD_HEADER');
  t.match(e?.message, /HELLO field 'client\.cores' must be a non-negative integer/, 'names the field');
  // Odd msgpack the decoder refuses or that is not a header, each with a typed error.
  const odd: [string, number[]][] = [
    ['__proto__ key', [0x81, 0xa9, ...Buffer.from('__proto__'), 0x01]],
    ['bin header', [0xc4, 0x02, 0x01, 0x02]],
    ['ext', [0xd4, 0x01, 0x00]],
    ['array over the limit', [0xdd, 0x00, 0x01, 0x00, 0x01]],
    ['map cut short', [0x82, 0xa1, 0x61]],
    ['extra bytes after the map', [0x80, 0x00]],
    ['deep nesting', [...Array<number>(100).fill(0x91), 0x00]],
  ];
  for (const [what, bytes] of odd) {
    const frame = Buffer.alloc(Math.ceil((PREFIX_BYTES + bytes.length) / 16) * 16);
    frame.writeUInt32LE(0x504e4e44, 0);
    frame.writeUInt32LE(frame.length, 4);
    frame[8] = MESSAGE_CODES.PING;
    frame.writeUInt32LE(bytes.length, 12);
    Buffer.from(bytes).copy(frame, PREFIX_BYTES);
    const { errors } = feed([frame]);
    t.equal(errors[0]?.code, 'BAD_HEADER', what);
    t.equal(errors[0]?.cause, undefined, `${what}: foreseen`);
  }
  t.end();
});

/** A valid INFER frame with bytes changed: `patch` gets the frame to change. */
function inferWith(patch: (frame: Buffer) => void, shape = [4], type: number = INFER): Buffer {
  const tensor = { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
  const frame = Buffer.concat(encodeMessage(type === INFER ? { type: 'INFER', id: 1, cut: 2, tensor } : { type: 'RESULT', id: 1, cloudUs: 5, tensor }));
  patch(frame);
  return frame;
}

t.test('binary INFER/RESULT header violations: each a typed error naming what is wrong', (t) => {
  const H = TENSOR_HEADER;
  t.equal(codeOf(inferWith(() => {})), undefined, 'the baseline frame is valid');
  t.equal(codeOf(inferWith(() => {}, [4], MESSAGE_CODES.RESULT)), undefined, 'and its RESULT');
  const cases: [string, string, (f: Buffer) => void, number?][] = [
    ['element type float64', 'BAD_TENSOR', (f) => (f[H.elementType] = 1)],
    ['unknown codec', 'UNKNOWN_CODEC', (f) => (f[H.codec] = 255)],
    ['rank 9', 'BAD_TENSOR', (f) => (f[H.rank] = 9)],
    ['rank 255', 'BAD_TENSOR', (f) => (f[H.rank] = 255)],
    ['flags set', 'BAD_HEADER', (f) => (f[H.flags] = 1)],
    ['dim past the rank', 'BAD_HEADER', (f) => f.writeUInt32LE(1, H.dims + 4)],
    ['dims do not match the payload', 'BAD_TENSOR', (f) => f.writeUInt32LE(5, H.dims)],
    ['dims beyond 2^53 elements', 'BAD_TENSOR', (f) => {
      f[H.rank] = 3;
      f.writeUInt32LE(0xffffffff, H.dims);
      f.writeUInt32LE(0xffffffff, H.dims + 4);
      f.writeUInt32LE(0, H.dims + 8);
    }],
    ['payload longer than the frame', 'BAD_LENGTH', (f) => {
      f.writeUInt32LE(64, H.dims);
      f.writeUInt32LE(256, H.payloadBytes);
    }],
    ['payload length 2^32 - 1', 'BAD_TENSOR', (f) => f.writeUInt32LE(0xffffffff, H.payloadBytes)],
    ['header shorter than its fixed part (dims cut off)', 'BAD_HEADER', (f) => f.writeUInt32LE(40, 12)],
    ['header length off its codec parameters', 'BAD_HEADER', (f) => f.writeUInt32LE(TENSOR_HEADER_BYTES + 4, 12)],
    ['huge codec parameter length', 'BAD_HEADER', (f) => f.writeUInt32LE(0xffffffff, H.codecParamsBytes)],
    ['raw with parameters', 'BAD_HEADER', (f) => {
      f.writeUInt32LE(4, H.codecParamsBytes);
      f.writeUInt32LE(TENSOR_HEADER_BYTES + 4, 12);
    }],
    ['raw with a scale', 'BAD_HEADER', (f) => f.writeFloatLE(0.5, H.scale)],
    ['raw with a zero point', 'BAD_HEADER', (f) => f.writeInt32LE(-3, H.zeroPoint)],
    ['INFER with a cloud time', 'BAD_HEADER', (f) => f.writeDoubleLE(1, H.cloudUs)],
    ['RESULT with a NaN time', 'BAD_HEADER', (f) => f.writeDoubleLE(NaN, H.cloudUs), MESSAGE_CODES.RESULT],
    ['RESULT with an infinite time', 'BAD_HEADER', (f) => f.writeDoubleLE(Infinity, H.cloudUs), MESSAGE_CODES.RESULT],
    ['INFER with a queue time', 'BAD_HEADER', (f) => f.writeUInt32LE(1, H.queueUs)],
    ['INFER with a stress epoch', 'BAD_HEADER', (f) => f.writeUInt32LE(1, H.stressEpoch)],
    ['reserved u16 at 90 set', 'BAD_HEADER', (f) => f.writeUInt16LE(0x100, H.reserved), MESSAGE_CODES.RESULT],
    ['RESULT with cpu stress 255 %', 'BAD_HEADER', (f) => (f[H.stressCpu] = 255), MESSAGE_CODES.RESULT],
    ['header of version 2 (68 bytes)', 'BAD_HEADER', (f) => f.writeUInt32LE(68, 12)],
  ];
  for (const [what, code, patch, type] of cases) {
    const { errors, messages } = feed([inferWith(patch, [4], type)]);
    t.same(messages, [], `${what}: no message`);
    t.equal(errors[0]?.code, code, what);
    t.equal(errors[0]?.cause, undefined, `${what}: foreseen`);
  }
  const padded = Buffer.concat([inferWith(() => {}), Buffer.alloc(16)]);
  padded.writeUInt32LE(padded.length, 4);
  t.equal(codeOf(padded), 'BAD_LENGTH', 'frame longer than its header and payload');
  t.match(feed([inferWith((f) => (f[H.codec] = 255))]).errors[0]?.message, /tensor codec 255 is unknown.*0 raw/, 'the error says which codecs exist');
  t.end();
});
