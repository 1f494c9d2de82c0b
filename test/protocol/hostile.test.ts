import t from 'tap';
import { MESSAGE_CODES, PREFIX_BYTES } from '../../src/protocol/constants.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { encodeFrame } from '../../src/protocol/frame-writer.js';
import { decodeHot } from '../../src/protocol/hot-messages.js';
import { type Message, encodeMessage, parseMessage } from '../../src/protocol/messages.js';
import { feed, handFrame, randInt, randomChunks, rng } from './helpers.js';

const INFER = MESSAGE_CODES.INFER;
const CODES = new Set(['BAD_MAGIC', 'FRAME_TOO_LARGE', 'BAD_LENGTH', 'UNKNOWN_TYPE', 'BAD_HEADER', 'BAD_TENSOR', 'TRUNCATED']);

/** Feeds bytes to a message-parsing reader (what Connection uses); anything thrown out of push fails the test. */
function feedMessages(chunks: Buffer[], maxFrame?: number): { messages: Message[]; errors: ProtocolError[]; reader: FrameReader<Message> } {
  const messages: Message[] = [];
  const errors: ProtocolError[] = [];
  const reader = new FrameReader<Message>({ parse: parseMessage, decodeFast: decodeHot, onMessage: (m) => messages.push(m), onError: (e) => errors.push(e), maxFrame });
  for (const c of chunks) reader.push(c);
  reader.end();
  return { messages, errors, reader };
}

function codeOf(frame: Buffer): string | undefined {
  const { errors } = feedMessages([frame]);
  return errors[0]?.code;
}

t.test('random bytes: one typed error, never an exception', (t) => {
  const r = rng(11);
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const bytes = Buffer.from(Array.from({ length: randInt(r, 1, 400) }, () => randInt(r, 0, 255)));
    const { messages, errors } = feedMessages(randomChunks(r, bytes, 50));
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
  const valid = Buffer.concat(
    encodeMessage({ type: 'INFER', id: 3, cut: 'block_3_add', tensor: { shape: [2, 3, 4], data: new Float32Array(24).fill(1) } }),
  );
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const bytes = Buffer.from(valid);
    for (let k = randInt(r, 1, 3); k > 0; k--) bytes[randInt(r, 0, Math.min(bytes.length - 1, 120))] = randInt(r, 0, 255);
    const { messages, errors } = feedMessages([bytes]);
    t.equal(messages.length + errors.length, 1, 'one outcome');
    if (errors[0]?.cause !== undefined) t.fail(`decoding hit an unforeseen exception: ${String(errors[0].cause)}`);
    if (errors[0]) seen.add(errors[0].code);
  }
  t.ok(seen.size >= 4, `several error kinds reached: ${[...seen].join(', ')}`);
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
  reader.push(Buffer.concat(encodeFrame(INFER, { id: 1 })));
  reader.end();
  t.equal(errors.length, 1);
  t.equal(reader.frames, 0);

  // A configured limit below the default applies too.
  const frame = Buffer.concat(encodeFrame(INFER, { id: 1 }, [{ shape: [512], data: new Float32Array(512) }]));
  t.equal(feed([frame], 1024).errors[0]?.code, 'FRAME_TOO_LARGE');
  t.same(feed([frame], 4096).errors, []);
  t.end();
});

t.test('truncated frame at end of stream', (t) => {
  const frame = Buffer.concat(encodeFrame(INFER, { id: 1 }, [{ shape: [8], data: new Float32Array(8) }]));
  t.equal(feed([frame.subarray(0, frame.length - 1)]).errors[0]?.code, 'TRUNCATED', 'body cut short');
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
  t.end();
});

t.test('header violations are BAD_HEADER', (t) => {
  const garbage = handFrame({ type: INFER, header: {} });
  garbage[PREFIX_BYTES] = 0xc1; // the one byte msgpack never uses
  t.equal(codeOf(garbage), 'BAD_HEADER', 'not msgpack');
  t.equal(codeOf(handFrame({ type: MESSAGE_CODES.PING, header: [1, 2] })), 'BAD_HEADER', 'not a map');
  t.equal(codeOf(handFrame({ type: MESSAGE_CODES.PING, header: { nonce: 1 } })), 'BAD_HEADER', 'field missing');
  t.equal(codeOf(handFrame({ type: MESSAGE_CODES.PING, header: { nonce: '1', time: 2 } })), 'BAD_HEADER', 'wrong type');
  t.equal(codeOf(handFrame({ type: MESSAGE_CODES.CONDITION, header: { id: 1, cpu: 150, mem: 0 } })), 'BAD_HEADER', 'percent > 100');
  const hello = { version: 1, network: 'vgg16', fingerprint: 'f', seed: 1, backend: 'wasm', client: { host: 'h', cpu: 'c', cores: '2', mem: 1 } };
  const e = feedMessages([handFrame({ type: MESSAGE_CODES.HELLO, header: hello })]).errors[0];
  t.equal(e?.code, 'BAD_HEADER');
  t.match(e?.message, /HELLO field 'client\.cores' must be a non-negative integer/, 'names the field');
  t.equal(codeOf(handFrame({ type: INFER, header: { id: 1, cut: 'x' } })), 'BAD_HEADER', 'INFER without its tensor');
  t.end();
});

t.test('absurd tensor descriptors are BAD_TENSOR', (t) => {
  const payload = Buffer.alloc(64);
  const at = 128;
  const bad = (desc: Record<string, unknown>): string | undefined =>
    codeOf(handFrame({ type: INFER, header: { id: 1, cut: 0, tensors: [{ dtype: 'float32', shape: [4], byteLength: 16, offset: at, ...desc }] }, payload, payloadAt: at }));
  t.equal(bad({}), undefined, 'the baseline descriptor is valid');
  t.equal(bad({ shape: [-4] }), 'BAD_TENSOR', 'negative dim');
  t.equal(bad({ shape: [2.5] }), 'BAD_TENSOR', 'non-integer dim');
  t.equal(bad({ shape: [5] }), 'BAD_TENSOR', 'product*4 != byteLength');
  t.equal(bad({ shape: [1, 1, 1, 1, 1, 1, 1, 1, 1, 4] }), 'BAD_TENSOR', 'too many dims');
  t.equal(bad({ shape: [2 ** 40, 2 ** 40] }), 'BAD_TENSOR', 'product beyond 2^53');
  t.equal(bad({ shape: 'big' }), 'BAD_TENSOR', 'shape not a list');
  t.equal(bad({ shape: [64], byteLength: 256 }), 'BAD_TENSOR', 'byteLength beyond the frame');
  t.equal(bad({ offset: at + 2 }), 'BAD_TENSOR', 'offset not 4-aligned');
  t.equal(bad({ offset: 8 }), 'BAD_TENSOR', 'offset inside the prefix/header');
  t.equal(bad({ offset: -16 }), 'BAD_TENSOR', 'negative offset');
  t.equal(bad({ dtype: 'float64' }), 'BAD_TENSOR', 'dtype');
  t.equal(bad({ byteLength: -16 }), 'BAD_TENSOR', 'negative byteLength');
  t.equal(codeOf(handFrame({ type: INFER, header: { id: 1, cut: 0, tensors: 'x' } })), 'BAD_TENSOR', 'tensors not a list');
  t.end();
});
