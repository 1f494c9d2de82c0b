// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import { encode } from '@msgpack/msgpack';
import t from 'tap';
import { MESSAGE_CODES, PAYLOAD_ALIGN, PREFIX_BYTES, alignUp } from '../../src/protocol/constants.js';
import { type Message, encodeMessage } from '../../src/protocol/messages.js';
import { TENSOR_HEADER_BYTES, tensorFrameBytes } from '../../src/protocol/tensor-frame.js';
import type { Tensor } from '../../src/protocol/tensor.js';
import { feed, randInt, randomChunks, randomTensor, rng } from '../helpers/protocol.js';

/** INFER and RESULT with random tensors, ids and times, between control messages of varying length. */
function randomMessages(seed: number, count: number): { sent: Message[]; bytes: Buffer } {
  const r = rng(seed);
  const sent: Message[] = [];
  for (let i = 0; i < count; i++) {
    const tensor = randomTensor(r);
    const pick = r();
    if (pick < 0.45) sent.push({ type: 'INFER', id: randInt(r, 0, 2 ** 32 - 1), cut: randInt(r, 0, 300), tensor });
    else if (pick < 0.9) {
      // every received RESULT carries its queue time and stress (0 and none when the sender left them out)
      const stress = { cpu: randInt(r, 0, 100), mem: randInt(r, 0, 100), epoch: randInt(r, 0, 2 ** 32 - 1) };
      sent.push({ type: 'RESULT', id: i, cloudUs: r() * 1e6, queueUs: randInt(r, 0, 2 ** 32 - 1), stress, tensor });
    } else if (pick < 0.95) sent.push({ type: 'ERROR', code: 'UNKNOWN_CUT', message: 'x'.repeat(randInt(r, 0, 300)) });
    else sent.push({ type: 'ERROR', code: 'QUEUE_FULL', message: 'x'.repeat(randInt(r, 0, 300)), id: randInt(r, 0, 2 ** 32 - 1) });
  }
  return { sent, bytes: Buffer.concat(sent.flatMap((m) => encodeMessage(m))) };
}

/** Comparable plain form: tensors as arrays (the exact float32 values survive), the codec left out. */
function plain(messages: Message[]): unknown[] {
  return messages.map((m) => {
    if (m.type !== 'INFER' && m.type !== 'RESULT') return m;
    const { codec: _, tensor, ...rest } = m;
    return { ...rest, tensor: { shape: tensor.shape, data: Array.from(tensor.data) } };
  });
}

t.test('round trip of random shapes (empty tensors, scalars, up to 4 dims) in one chunk', (t) => {
  const { sent, bytes } = randomMessages(1, 60);
  const tensors = sent.flatMap((m) => ('tensor' in m ? [m.tensor] : []));
  t.ok(tensors.some((x) => x.data.length === 0), 'some tensors are empty');
  t.ok(tensors.some((x) => x.shape.length === 0), 'some are scalars');
  const { messages, errors, reader } = feed([bytes]);
  t.same(errors, []);
  t.same(plain(messages), plain(sent));
  t.ok(messages.every((m) => !('tensor' in m) || m.codec?.id === 0), 'every received tensor names its codec: raw');
  t.equal(reader.slicedFrames, 60, 'all sliced from the one chunk');
  t.equal(reader.assembledFrames, 0);
  t.equal(reader.payloadCopies, 0, 'no payload copied');
  t.end();
});

t.test('fed one byte at a time', (t) => {
  const { sent, bytes } = randomMessages(2, 8);
  const { messages, errors, reader } = feed(Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)));
  t.same(errors, []);
  t.same(plain(messages), plain(sent));
  t.equal(reader.assembledFrames, 8);
  t.equal(reader.payloadCopies, 0, 'assembled frames are aligned');
  t.end();
});

t.test('fed in random chunkings', (t) => {
  const { sent, bytes } = randomMessages(3, 40);
  const r = rng(33);
  for (const max of [3, 17, 100, 1000, 5000]) {
    const { messages, errors } = feed(randomChunks(r, bytes, max));
    t.same(errors, [], `chunks up to ${max}`);
    t.same(plain(messages), plain(sent));
  }
  t.end();
});

t.test('a frame in one chunk yields a view on that chunk, aligned as written', (t) => {
  const small: Tensor = { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
  const large: Tensor = { shape: [1, 64, 64], data: new Float32Array(4096).fill(7) };
  const chunks = encodeMessage({ type: 'INFER', id: 7, cut: 3, tensor: large });
  // The large payload goes out as a view on the tensor's own memory, not a copy.
  t.ok(chunks.some((c) => c.buffer === large.data.buffer), 'writer sends the tensor memory itself');
  t.equal(encodeMessage({ type: 'RESULT', id: 7, cloudUs: 1, tensor: small }).length, 1, 'a small payload goes in the head buffer');
  const chunk = Buffer.concat([...encodeMessage({ type: 'RESULT', id: 7, cloudUs: 1, tensor: small }), ...chunks]);
  const { messages, reader } = feed([chunk]);
  const got = messages.map((m) => (m as Extract<Message, { tensor: Tensor }>).tensor);
  for (const g of got) {
    t.equal(g.data.buffer, chunk.buffer, 'same underlying ArrayBuffer');
    t.equal((g.data.byteOffset - chunk.byteOffset) % PAYLOAD_ALIGN, 0, `payload ${PAYLOAD_ALIGN}-byte aligned in the frame`);
  }
  t.same(Array.from(got[0]!.data), [1, 2, 3, 4, 5, 6]);
  t.equal(reader.payloadCopies, 0);
  t.end();
});

t.test('a misaligned chunk costs one counted copy per payload, and decodes the same', (t) => {
  const tensors: Tensor[] = [
    { shape: [3], data: Float32Array.from([1.5, -2, 3]) },
    { shape: [0, 4], data: new Float32Array(0) },
    { shape: [2], data: Float32Array.from([9, 10]) },
  ];
  const frames = Buffer.concat(tensors.flatMap((tensor, id) => encodeMessage({ type: 'INFER', id, cut: 0, tensor })));
  const backing = Buffer.alloc(frames.length + 1);
  frames.copy(backing, 1);
  const { messages, errors, reader } = feed([backing.subarray(1)]);
  t.same(errors, []);
  t.same(messages.map((m) => Array.from((m as Extract<Message, { tensor: Tensor }>).tensor.data)), [[1.5, -2, 3], [], [9, 10]]);
  t.equal(reader.payloadCopies, 2, 'the two non-empty payloads were copied');
  t.end();
});

t.test('a scalar (shape []), zero-sized dims and 8 dims round trip', (t) => {
  const tensors: Tensor[] = [
    { shape: [], data: Float32Array.from([42]) },
    { shape: [3, 0, 2], data: new Float32Array(0) },
    { shape: [1, 2, 1, 2, 1, 2, 1, 3], data: Float32Array.from({ length: 24 }, (_, i) => i) },
  ];
  const { messages } = feed([Buffer.concat(tensors.flatMap((tensor) => encodeMessage({ type: 'RESULT', id: 1, cloudUs: 0, tensor })))]);
  t.same(
    messages.map((m) => [(m as Extract<Message, { tensor: Tensor }>).tensor.shape, Array.from((m as Extract<Message, { tensor: Tensor }>).tensor.data)]),
    tensors.map((x) => [x.shape, Array.from(x.data)]),
  );
  t.end();
});

t.test('the writer refuses a bad tensor, id, cut, time or codec, and an oversize frame', (t) => {
  const infer = (over: Record<string, unknown>): Buffer[] => encodeMessage({ type: 'INFER', id: 1, cut: 0, tensor: { shape: [2], data: new Float32Array(2) }, ...over } as Message);
  t.throws(() => infer({ tensor: { shape: [2, 2], data: new Float32Array(3) } }), RangeError);
  t.throws(() => infer({ tensor: { shape: [-1], data: new Float32Array(0) } }), RangeError);
  t.throws(() => infer({ tensor: { shape: [2 ** 32, 0], data: new Float32Array(0) } }), RangeError, 'a dim beyond the u32 the wire carries');
  t.throws(() => infer({ tensor: { shape: [1, 1, 1, 1, 1, 1, 1, 1, 2], data: new Float32Array(2) } }), RangeError, 'rank 9');
  t.throws(() => infer({ tensor: { shape: [2], data: [1, 2] } }), TypeError);
  t.throws(() => encodeMessage({ type: 'INFER', id: 1, cut: 0, tensor: { shape: [100], data: new Float32Array(100) } }, 256), { code: 'FRAME_TOO_LARGE' });
  t.throws(() => infer({ id: 2 ** 32 }), RangeError);
  t.throws(() => infer({ id: -1 }), RangeError);
  t.throws(() => infer({ cut: 1.5 }), RangeError);
  t.throws(() => encodeMessage({ type: 'RESULT', id: 1, cloudUs: NaN, tensor: { shape: [0], data: new Float32Array(0) } }), RangeError);
  t.throws(() => infer({ codec: { id: 99, scale: 0, zeroPoint: 0, params: new Uint8Array(0) } }), { code: 'UNKNOWN_CODEC' });
  t.throws(() => infer({ codec: { id: 0, scale: 0.5, zeroPoint: 0, params: new Uint8Array(0) } }), { code: 'BAD_HEADER' }, 'raw takes no scale');
  t.end();
});

t.test('one message always encodes to the same bytes, whatever was encoded before, with no slack after the header', (t) => {
  const message = (): Message => ({ type: 'INFER', id: 5, cut: 3, tensor: { shape: [1, 8, 8, 4], data: new Float32Array(256).fill(0.5) } });
  const first = Buffer.concat(encodeMessage(message()));
  // A longer message of the same type, and a control message, in between.
  encodeMessage({ type: 'INFER', id: 6, cut: 1, tensor: { shape: [40000], data: new Float32Array(40000) } });
  encodeMessage({ type: 'ERROR', code: 'BAD_SHAPE', message: 'y'.repeat(3000) });
  t.same(Buffer.concat(encodeMessage(message())), first, 'same bytes after a longer message');
  const r = rng(11);
  for (let i = 0; i < 200; i++) {
    const m: Message = { type: 'INFER', id: randInt(r, 0, 1e9), cut: randInt(r, 0, 400), tensor: randomTensor(r) };
    const a = Buffer.concat(encodeMessage(m));
    encodeMessage({ type: 'RESULT', id: 1, cloudUs: r(), tensor: randomTensor(r) });
    const b = Buffer.concat(encodeMessage(m));
    if (!a.equals(b)) {
      t.fail(`message ${i} encoded to ${a.length}, then ${b.length} bytes`);
      break;
    }
    // The payload starts right at the aligned end of the header, and the frame ends at the aligned end of the payload.
    const headerLength = a.readUInt32LE(12);
    const want = alignUp(alignUp(PREFIX_BYTES + headerLength, PAYLOAD_ALIGN) + m.tensor.data.byteLength, 16);
    if (headerLength !== TENSOR_HEADER_BYTES || a.length !== want || a.readUInt32LE(4) !== a.length || a.length !== tensorFrameBytes(m.tensor.data.byteLength)) {
      t.fail(`message ${i}: header ${headerLength}, frame ${a.length} bytes, ${want} expected`);
      break;
    }
  }
  t.pass('200 random messages encode the same twice, with no slack');
  t.end();
});

t.test('the INFER and RESULT header, byte by byte', (t) => {
  const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const infer = Buffer.concat(encodeMessage({ type: 'INFER', id: 0x01020304, cut: 7, tensor: { shape: [1, 2, 3], data } }));
  const hex = (b: Buffer, from: number, to: number): string => b.subarray(from, to).toString('hex');
  t.equal(infer.length, 96 + 32, 'prefix 16 + header 80, payload 24 + padding 8');
  t.equal(hex(infer, 0, 16), '444e4e50' + '80000000' + '04' + '00' + '0000' + '50000000', 'prefix: magic, length 128, INFER, flags, reserved, header length 80');
  t.equal(hex(infer, 16, 20), '04030201', 'id, little-endian');
  t.equal(hex(infer, 20, 24), '07000000', 'cut index');
  t.equal(hex(infer, 24, 32), '0000000000000000', 'no cloud time in an INFER');
  t.equal(hex(infer, 32, 36), '00' + '00' + '03' + '00', 'float32, codec raw, rank 3, flags');
  t.equal(hex(infer, 36, 40), '18000000', 'payload bytes 24');
  t.equal(hex(infer, 40, 52), '00'.repeat(12), 'scale, zero point, no codec parameters');
  t.equal(hex(infer, 52, 84), '01000000' + '02000000' + '03000000' + '00'.repeat(20), 'dims, then zeros to 8');
  t.equal(hex(infer, 84, 96), '00'.repeat(12), 'no queue time, stress or epoch in an INFER; reserved 0');
  t.ok(infer.subarray(96, 120).equals(Buffer.from(data.buffer)), 'payload at 96');
  t.equal(hex(infer, 120, 128), '00'.repeat(8), 'padding to 16');
  const result = Buffer.concat(
    encodeMessage({ type: 'RESULT', id: 9, cloudUs: 812.5, queueUs: 0x0a0b0c0d, stress: { cpu: 100, mem: 25, epoch: 0x11223344 }, tensor: { shape: [], data: Float32Array.from([1]) } }),
  );
  t.equal(result[8], MESSAGE_CODES.RESULT);
  t.equal(result.readUInt32LE(12), 80, 'header length 80');
  t.equal(hex(result, 20, 24), '00000000', 'no cut in a RESULT');
  t.equal(result.readDoubleLE(24), 812.5, 'cloud time, f64 little-endian');
  t.equal(result[34], 0, 'rank 0: a scalar');
  t.equal(hex(result, 84, 88), '0d0c0b0a', 'queue µs at 84, u32 little-endian');
  t.equal(hex(result, 88, 92), '64' + '19' + '0000', 'stress cpu 100 %, mem 25 %, reserved u16 0');
  t.equal(hex(result, 92, 96), '44332211', 'stress epoch at 92, u32 little-endian');
  t.equal(hex(result, 96, 100), '0000803f', 'payload at 96: 1.0f');
  t.equal(result.length, 112);
  t.same(feed([result]).messages[0], { type: 'RESULT', id: 9, cloudUs: 812.5, queueUs: 0x0a0b0c0d, stress: { cpu: 100, mem: 25, epoch: 0x11223344 }, tensor: { shape: [], data: Float32Array.from([1]) }, codec: { id: 0, scale: 0, zeroPoint: 0, params: new Uint8Array(0) } });
  t.end();
});

t.test('control messages carry their fields as @msgpack/msgpack writes them', (t) => {
  const ping: Message = { type: 'PING', nonce: 3, time: 1.5 };
  const frame = Buffer.concat(encodeMessage(ping));
  const header = Buffer.from(encode({ nonce: 3, time: 1.5 }));
  t.equal(frame.readUInt32LE(12), header.length);
  t.ok(frame.subarray(PREFIX_BYTES, PREFIX_BYTES + header.length).equals(header));
  t.equal(frame.length, alignUp(PREFIX_BYTES + header.length, 16));
  t.same(feed([frame]).messages, [ping]);
  t.end();
});
