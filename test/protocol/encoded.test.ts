// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import { type AddressInfo, createServer } from 'node:net';
import t from 'tap';
import { CODECS, codecById, type Codec } from '../../src/codecs/index.js';
import { CODEC_IDS, RAW_CODEC } from '../../src/protocol/codecs.js';
import { Connection, connect } from '../../src/protocol/connection.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import type { InferMessage, ResultMessage } from '../../src/protocol/message-types.js';
import { type Message, encodeMessage } from '../../src/protocol/messages.js';
import { TENSOR_HEADER, tensorFrameBytes } from '../../src/protocol/tensor-frame.js';
import { activations } from '../helpers/activations.js';
import { rng } from '../helpers/protocol.js';

/** An INFER carrying `values` encoded by `codec`. */
function encodedInfer(codec: Codec, id: number, dims: number[], values: Float32Array, channelAxis?: number): InferMessage {
  const e = codec.encode(values, dims, channelAxis === undefined ? undefined : { channelAxis });
  return { type: 'INFER', id, cut: 0, tensor: { shape: dims, data: new Float32Array(0) }, codec: { id: codec.id, scale: e.scale, zeroPoint: e.zeroPoint, params: e.params }, payload: e.payload };
}

/** The values a received encoded message carries, decoded by its codec (the receiver's job). */
function decoded(m: InferMessage | ResultMessage): Float32Array {
  const codec = codecById(m.codec!.id);
  if (codec.id === CODEC_IDS.raw) return m.tensor.data;
  return codec.decode({ payload: m.payload!, scale: m.codec!.scale, zeroPoint: m.codec!.zeroPoint, params: m.codec!.params }, m.tensor.shape);
}

function frame(m: Message): Buffer {
  return Buffer.concat(encodeMessage(m));
}

function readAll(bytes: Buffer): (Message | Error)[] {
  const out: (Message | Error)[] = [];
  const reader = new FrameReader<Message>({ onMessage: (m) => out.push(m), onError: (e) => out.push(e) });
  reader.push(bytes);
  return out;
}

t.test('every codec crosses a real loopback socket both ways: INFER encoded, RESULT re-encoded by the same codec', async (t) => {
  // the cloud decodes what it got and answers with the values encoded again by the same codec
  const server = createServer((socket) => {
    const c = new Connection(socket);
    void (async () => {
      for await (const m of c) {
        if (m.type !== 'INFER') continue;
        const codec = codecById(m.codec!.id);
        const values = decoded(m);
        if (codec.id === CODEC_IDS.raw) c.send({ type: 'RESULT', id: m.id, cloudUs: 1, tensor: { shape: m.tensor.shape, data: values } });
        else {
          const again = encodedInfer(codec, m.id, m.tensor.shape, values, m.tensor.shape.length === 4 ? 3 : undefined);
          c.send({ type: 'RESULT', id: m.id, cloudUs: 1, tensor: again.tensor, codec: again.codec!, payload: again.payload! });
        }
      }
    })().catch(() => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const c = await connect((server.address() as AddressInfo).port, '127.0.0.1');
  const tensors = [...(await activations('mobilenet', 2, [32, 32, 3])), { layer: 'random 1 MB', dims: [1, 64, 64, 64], values: Float32Array.from({ length: 262_144 }, rng(3)) }];
  let id = 0;
  for (const a of tensors) {
    for (const codec of CODECS.values()) {
      const sent = encodedInfer(codec, ++id, a.dims, a.values);
      const local = codec.decode({ payload: sent.payload!, scale: sent.codec!.scale, zeroPoint: sent.codec!.zeroPoint, params: sent.codec!.params }, a.dims);
      const message = codec.id === CODEC_IDS.raw ? { type: 'INFER' as const, id, cut: 0, tensor: { shape: a.dims, data: a.values } } : sent;
      const result = await c.request(message, 'RESULT');
      t.equal(result.codec!.id, codec.id, `${codec.name} at ${a.layer}: RESULT names the codec`);
      t.same(result.tensor.shape, a.dims);
      // a second encode of decoded values is idempotent for these codecs, so the round trip equals one local decode
      const back = decoded(result);
      t.ok(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(local.buffer, local.byteOffset, local.byteLength)), `${codec.name} at ${a.layer}: values as one local decode`);
    }
  }
  t.equal(c.reader.payloadCopies, 0, 'client: no raw payload copied');
  await c.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

t.test('encoded frames: header fields, parameter bytes, and sizes (f16 payload exactly half of raw)', async (t) => {
  const dims = [1, 4, 4, 8];
  const values = Float32Array.from({ length: 128 }, (_, i) => Math.sin(i) * 3);
  const raw = frame({ type: 'INFER', id: 1, cut: 0, tensor: { shape: dims, data: values } });
  t.ok(raw.equals(frame({ type: 'INFER', id: 1, cut: 0, tensor: { shape: dims, data: values }, codec: RAW_CODEC })), 'raw with or without the codec named: same bytes');
  t.equal(raw.length, tensorFrameBytes(512));
  for (const codec of CODECS.values()) {
    if (codec.id === CODEC_IDS.raw) continue;
    const m = encodedInfer(codec, 2, dims, values);
    const f = frame(m);
    const P = m.codec!.params.byteLength;
    t.equal(f.length, tensorFrameBytes(m.payload!.byteLength, P), `${codec.name}: frame size from payload and parameters`);
    t.equal(f[TENSOR_HEADER.codec], codec.id);
    t.equal(f.readFloatLE(TENSOR_HEADER.scale), m.codec!.scale);
    t.equal(f.readInt32LE(TENSOR_HEADER.zeroPoint), m.codec!.zeroPoint);
    t.equal(f.readUInt32LE(TENSOR_HEADER.codecParamsBytes), P);
    t.equal(f.readUInt32LE(TENSOR_HEADER.payloadBytes), m.payload!.byteLength);
    t.ok(f.subarray(TENSOR_HEADER.end, TENSOR_HEADER.end + P).equals(m.codec!.params), `${codec.name}: parameters after the fixed header`);
    const [got] = readAll(f) as InferMessage[];
    t.ok(Buffer.from(got!.payload!).equals(m.payload!), `${codec.name}: payload read back`);
    t.same(got!.tensor.shape, dims);
    t.equal(got!.tensor.data.length, 0, 'encoded: no tensor data, the payload instead');
  }
  t.equal(encodedInfer(CODECS.get('f16')!, 3, dims, values).payload!.byteLength * 2, 512, 'f16 payload is half of f32');
  t.equal(encodedInfer(CODECS.get('int8')!, 3, dims, values).payload!.byteLength * 4, 512, 'int8 payload is a quarter of f32');
});

t.test('bad encoded messages fail at the sender; bad encoded frames at the receiver, naming the field', async (t) => {
  const dims = [2, 3];
  const values = new Float32Array([0, 1, 2, 3, 4, 5]);
  const f16 = encodedInfer(CODECS.get('f16')!, 1, dims, values);
  const int8 = encodedInfer(CODECS.get('int8')!, 1, dims, values);
  t.throws(() => frame({ ...f16, payload: f16.payload!.subarray(2) }), { code: 'BAD_TENSOR', message: /needs 12 bytes of codec 1, the header says 10/ });
  t.throws(() => frame({ ...f16, payload: undefined }), /needs its encoded payload bytes/);
  t.throws(() => frame({ ...f16, tensor: { shape: dims, data: values } }), /carries its payload, not tensor data/);
  t.throws(() => frame({ ...int8, codec: { ...int8.codec!, scale: 0 } }), { code: 'BAD_HEADER', message: /int8 takes a positive finite scale/ });
  t.throws(() => frame({ ...int8, codec: { ...int8.codec!, zeroPoint: 300 } }), { code: 'BAD_HEADER' });
  t.throws(() => frame({ ...f16, codec: { ...f16.codec!, scale: 2 } }), { code: 'BAD_HEADER', message: /f16 takes no parameters/ });
  t.throws(() => frame({ ...f16, codec: { id: CODEC_IDS['int8-ch'], scale: 0, zeroPoint: 0, params: new Uint8Array(0) } }), { code: 'BAD_HEADER', message: /int8-ch takes no scale or zero point and at least 8 parameter bytes/ });
  t.throws(() => frame({ ...f16, codec: { id: 200 as 0, scale: 0, zeroPoint: 0, params: new Uint8Array(0) } }), { code: 'UNKNOWN_CODEC' });

  // receiver: the same faults written into valid frames
  const good = frame(int8);
  const zeroScale = Buffer.from(good);
  zeroScale.writeFloatLE(0, TENSOR_HEADER.scale);
  const unknown = Buffer.from(good);
  unknown[TENSOR_HEADER.codec] = 200;
  const shortF16 = frame(f16);
  shortF16.writeUInt32LE(10, TENSOR_HEADER.payloadBytes);
  t.match(readAll(zeroScale), [{ code: 'BAD_HEADER' }]);
  t.match(readAll(unknown), [{ code: 'UNKNOWN_CODEC', message: /tensor codec 200 is unknown \(protocol version knows 0 raw, 1 f16, 2 int8, 3 int8-ch, 4 lz4, 5 deflate, 6 brotli, 7 f16\+lz4, 8 int8\+lz4, 9 u8, 10 jpeg, 11 png, 12 webp, 13 zstd, 14 f16\+zstd, 15 int8\+zstd\)/ }]);
  t.match(readAll(shortF16), [{ code: 'BAD_TENSOR' }]);
  t.match(readAll(good), [{ type: 'INFER', codec: { id: CODEC_IDS.int8, scale: int8.codec!.scale, zeroPoint: int8.codec!.zeroPoint } }]);
});
