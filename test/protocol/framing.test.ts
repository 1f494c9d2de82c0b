import { decode } from '@msgpack/msgpack';
import t from 'tap';
import { MESSAGE_CODES, PAYLOAD_ALIGN, PREFIX_BYTES, alignUp } from '../../src/protocol/constants.js';
import type { RawFrame } from '../../src/protocol/frame-reader.js';
import { encodeFrame } from '../../src/protocol/frame-writer.js';
import type { Tensor } from '../../src/protocol/tensor.js';
import { feed, randInt, randomChunks, randomTensor, rng } from './helpers.js';

const INFER = MESSAGE_CODES.INFER;

interface Sent {
  fields: Record<string, unknown>;
  tensors: Tensor[];
}

function randomFrames(seed: number, count: number): { sent: Sent[]; bytes: Buffer } {
  const r = rng(seed);
  const sent: Sent[] = [];
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const tensors = Array.from({ length: randInt(r, 0, 4) }, () => randomTensor(r));
    const fields = { id: i, cut: `layer_${randInt(r, 0, 1e6)}`, note: 'x'.repeat(randInt(r, 0, 300)) };
    sent.push({ fields, tensors });
    parts.push(...encodeFrame(INFER, fields, tensors));
  }
  return { sent, bytes: Buffer.concat(parts) };
}

/** Comparable plain form: header fields and tensors as arrays (the exact float32 values survive). */
function plain(fields: Record<string, unknown>, tensors: Tensor[]): unknown {
  const { id, cut, note } = fields;
  return { id, cut, note, tensors: tensors.map((x) => ({ shape: x.shape, data: Array.from(x.data) })) };
}

function same(got: RawFrame[], sent: Sent[]): [unknown, unknown] {
  return [got.map((g) => plain(g.header, g.tensors)), sent.map((s) => plain(s.fields, s.tensors))];
}

t.test('round trip of random shapes (empty tensors, several tensors per frame) in one chunk', (t) => {
  const { sent, bytes } = randomFrames(1, 60);
  t.ok(sent.some((s) => s.tensors.some((x) => x.data.length === 0)), 'some tensors are empty');
  t.ok(sent.some((s) => s.tensors.length >= 3), 'some frames carry several tensors');
  const { frames, errors, reader } = feed([bytes]);
  t.same(errors, []);
  t.same(...same(frames, sent));
  t.equal(reader.slicedFrames, 60, 'all sliced from the one chunk');
  t.equal(reader.assembledFrames, 0);
  t.equal(reader.payloadCopies, 0, 'no payload copied');
  t.end();
});

t.test('fed one byte at a time', (t) => {
  const { sent, bytes } = randomFrames(2, 8);
  const { frames, errors, reader } = feed(Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)));
  t.same(errors, []);
  t.same(...same(frames, sent));
  t.equal(reader.assembledFrames, 8);
  t.equal(reader.payloadCopies, 0, 'assembled frames are aligned');
  t.end();
});

t.test('fed in random chunkings', (t) => {
  const { sent, bytes } = randomFrames(3, 40);
  const r = rng(33);
  for (const max of [3, 17, 100, 1000, 5000]) {
    const { frames, errors } = feed(randomChunks(r, bytes, max));
    t.same(errors, [], `chunks up to ${max}`);
    t.same(...same(frames, sent));
  }
  t.end();
});

t.test('a frame in one chunk yields views on that chunk, aligned as written', (t) => {
  const tensors: Tensor[] = [
    { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    { shape: [1, 64, 64], data: new Float32Array(4096).fill(7) },
  ];
  const chunks = encodeFrame(INFER, { id: 7 }, tensors);
  // The large payload goes out as a view on the tensor's own memory, not a copy.
  t.ok(chunks.some((c) => c.buffer === tensors[1]!.data.buffer), 'writer sends the tensor memory itself');
  const chunk = Buffer.concat(chunks);
  const { frames, reader } = feed([chunk]);
  const got = frames[0]!.tensors;
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
  const frame = Buffer.concat(encodeFrame(INFER, { id: 1 }, tensors));
  const backing = Buffer.alloc(frame.length + 1);
  frame.copy(backing, 1);
  const { frames, errors, reader } = feed([backing.subarray(1)]);
  t.same(errors, []);
  t.same(frames[0]!.tensors.map((x) => Array.from(x.data)), [[1.5, -2, 3], [], [9, 10]]);
  t.equal(reader.payloadCopies, 2, 'the two non-empty payloads were copied');
  t.end();
});

t.test('a scalar (shape []) and zero-sized dims round trip', (t) => {
  const tensors: Tensor[] = [
    { shape: [], data: Float32Array.from([42]) },
    { shape: [3, 0, 2], data: new Float32Array(0) },
  ];
  const { frames } = feed([Buffer.concat(encodeFrame(INFER, {}, tensors))]);
  t.same(frames[0]!.tensors.map((x) => [x.shape, Array.from(x.data)]), [[[], [42]], [[3, 0, 2], []]]);
  t.end();
});

t.test('the writer refuses a tensor whose shape does not match its data', (t) => {
  t.throws(() => encodeFrame(INFER, {}, [{ shape: [2, 2], data: new Float32Array(3) }]), RangeError);
  t.throws(() => encodeFrame(INFER, {}, [{ shape: [-1], data: new Float32Array(0) }]), RangeError);
  t.throws(() => encodeFrame(INFER, {}, [{ shape: [100], data: new Float32Array(100) }], 256), { code: 'FRAME_TOO_LARGE' });
  t.end();
});

t.test('one message always encodes to the same bytes, whatever was encoded before', (t) => {
  const message = (): [Record<string, unknown>, Tensor[]] => [{ id: 5, cut: 'block_3' }, [{ shape: [1, 8, 8, 4], data: new Float32Array(256).fill(0.5) }]];
  const first = Buffer.concat(encodeFrame(INFER, ...message()));
  // A longer header of the same type (the old writer remembered where its payload started).
  encodeFrame(INFER, { id: 6, cut: 'block_3', note: 'x'.repeat(200) }, [{ shape: [40000], data: new Float32Array(40000) }]);
  t.same(Buffer.concat(encodeFrame(INFER, ...message())), first, 'same bytes after a longer message');
  const r = rng(11);
  for (let i = 0; i < 200; i++) {
    const fields = { id: randInt(r, 0, 1e9), cut: 'c'.repeat(randInt(r, 0, 400)) };
    const tensors = Array.from({ length: randInt(r, 0, 5) }, () => randomTensor(r));
    const a = Buffer.concat(encodeFrame(INFER, fields, tensors));
    encodeFrame(INFER, { note: 'y'.repeat(randInt(r, 0, 3000)) }, [randomTensor(r), randomTensor(r)]);
    const b = Buffer.concat(encodeFrame(INFER, fields, tensors));
    if (!a.equals(b)) {
      t.fail(`message ${i} encoded to ${a.length}, then ${b.length} bytes`);
      break;
    }
    // The payloads start right at the aligned end of the header: no padding left from a guess.
    const headerEnd = PREFIX_BYTES + a.readUInt32LE(12);
    const header = decode(a.subarray(PREFIX_BYTES, headerEnd)) as { tensors?: { offset: number }[] };
    const payloadStart = header.tensors?.[0]?.offset ?? alignUp(headerEnd, PAYLOAD_ALIGN);
    if (payloadStart !== alignUp(headerEnd, PAYLOAD_ALIGN)) {
      t.fail(`message ${i}: payload at ${payloadStart}, header ends at ${headerEnd}`);
      break;
    }
  }
  t.pass('200 random messages encode the same twice, with no slack after the header');
  t.end();
});
