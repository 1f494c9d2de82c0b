// test-process: shared
// Three tiers on the wire: the two-cut INFER and the relay's RESULT (flag bit 0 and a 16-byte relay
// block at 96), read back field for field; frames without them stay version 3's, byte for byte;
// a broken relay block is a typed error.
import t from 'tap';
import { encodeMessage } from '../../src/protocol/messages.js';
import { RELAY_BLOCK, TENSOR_HEADER } from '../../src/protocol/tensor-frame.js';
import { feed, codeOf } from '../helpers/protocol.js';
import { putF64 } from '../../src/protocol/bytes.js';

const tensor = () => ({ data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [1, 2, 3] });
const frame = (m: Parameters<typeof encodeMessage>[0]) => Buffer.concat(encodeMessage(m));
const hex = (b: Buffer, from: number, to: number) => b.subarray(from, to).toString('hex');

t.test('a two-cut INFER: flag 1, header 96, cut2 at 96, the payload at 112; read back', async (t) => {
  const f = frame({ type: 'INFER', id: 0x01020304, cut: 7, cut2: 9, tensor: tensor() });
  t.equal(f.length, 144, '16 bytes more than the same INFER with one cut (128)');
  t.equal(hex(f, 12, 16), '60000000', 'header length 96');
  t.equal(f[TENSOR_HEADER.flags], 1, 'flag bit 0: a relay block follows');
  t.equal(hex(f, 96, 112), '09000000' + '00'.repeat(12), 'cut2, then 12 zero bytes');
  const [m] = feed([f]).messages;
  t.match(m, { type: 'INFER', id: 0x01020304, cut: 7, cut2: 9, tensor: { shape: [1, 2, 3] } });
  t.same([...(m as { tensor: { data: Float32Array } }).tensor.data], [1, 2, 3, 4, 5, 6], 'payload intact');
});

t.test("a relay's RESULT: the cloud's fields where they always are, the relay's times at 96 and 104", async (t) => {
  const f = frame({ type: 'RESULT', id: 5, cloudUs: 812.5, decodeUs: 3, queueUs: 3000, stress: { cpu: 50, mem: 0, epoch: 2 }, relay: { edgeUs: 1234.5, transferUs: 99.25 }, tensor: tensor() });
  t.equal(f[TENSOR_HEADER.flags], 1);
  const [m] = feed([f]).messages;
  t.match(m, { type: 'RESULT', id: 5, cloudUs: 812.5, decodeUs: 3, queueUs: 3000, stress: { cpu: 50, mem: 0, epoch: 2 }, relay: { edgeUs: 1234.5, transferUs: 99.25 } });
});

t.test('with a codec: its parameters follow the relay block', async (t) => {
  const params = new Uint8Array(8 + 5 * 3);
  const payload = new Uint8Array(6);
  const f = frame({ type: 'INFER', id: 1, cut: 2, cut2: 3, tensor: { data: new Float32Array(0), shape: [1, 2, 3] }, codec: { id: 3, scale: 0, zeroPoint: 0, params }, payload });
  t.equal(f.readUInt32LE(12), 96 + params.length, 'header: fixed 96 + P');
  const [m] = feed([f]).messages;
  t.match(m, { cut2: 3, codec: { id: 3 } });
  t.equal((m as { codec: { params: Uint8Array } }).codec.params.length, params.length);
});

t.test('frames without a second cut or relay times are version 3\'s, byte for byte', async (t) => {
  const infer = frame({ type: 'INFER', id: 0x01020304, cut: 7, tensor: tensor() });
  t.equal(infer.length, 128);
  t.equal(hex(infer, 0, 16), '444e4e50' + '80000000' + '04' + '00' + '0000' + '50000000');
  t.equal(infer[TENSOR_HEADER.flags], 0);
  const [m] = feed([infer]).messages;
  t.notOk('cut2' in m!, 'no cut2 read');
  const result = frame({ type: 'RESULT', id: 1, cloudUs: 1, tensor: tensor() });
  t.equal(result[TENSOR_HEADER.flags], 0);
  t.notOk('relay' in feed([result]).messages[0]!, 'no relay times read');
});

t.test('a broken relay block is BAD_HEADER', async (t) => {
  const good = () => frame({ type: 'INFER', id: 1, cut: 2, cut2: 3, tensor: tensor() });
  const unknownFlag = good();
  unknownFlag[TENSOR_HEADER.flags] = 3;
  t.equal(codeOf(unknownFlag), 'BAD_HEADER', 'a flag bit this version does not know');
  const reserved = good();
  reserved[RELAY_BLOCK.cut2 + 5] = 1;
  t.equal(codeOf(reserved), 'BAD_HEADER', 'non-zero bytes after cut2');
  const plain = frame({ type: 'INFER', id: 1, cut: 2, tensor: tensor() });
  plain[TENSOR_HEADER.flags] = 1;
  t.equal(codeOf(plain), 'BAD_HEADER', 'the flag without the block (header 80)');
  const r = frame({ type: 'RESULT', id: 1, cloudUs: 1, relay: { edgeUs: 1, transferUs: 2 }, tensor: tensor() });
  putF64(r, RELAY_BLOCK.transferUs, Number.NaN);
  t.equal(codeOf(r), 'BAD_HEADER', 'a relay time that is not finite');
  t.throws(() => encodeMessage({ type: 'INFER', id: 1, cut: 2, cut2: -1, tensor: tensor() }), RangeError, 'cut2 not a u32 is the sender\'s error');
  t.throws(() => encodeMessage({ type: 'RESULT', id: 1, cloudUs: 1, relay: { edgeUs: Infinity, transferUs: 0 }, tensor: tensor() }), RangeError);
});

t.test("WELCOME's relay field reads back; a malformed one is BAD_HEADER", async (t) => {
  const server = { host: 'r', cpu: 'c', cores: 2, mem: 1, backend: 'onnx', versions: {}, cuts: ['a', 'b'] };
  const relay = { next: '198.18.0.2:5000', cloud: { host: 'cloud', cpu: 'c', cores: 4, mem: 2, backend: 'onnx' } };
  t.same((feed([frame({ type: 'WELCOME', version: 3, server: { ...server, relay } })]).messages[0] as { server: unknown }).server, { ...server, relay });
  t.notOk('relay' in (feed([frame({ type: 'WELCOME', version: 3, server })]).messages[0] as { server: object }).server, "a cloud's WELCOME has none");
  const bad = frame({ type: 'WELCOME', version: 3, server: { ...server, relay: { next: 5 } as unknown as typeof relay } });
  t.equal(codeOf(bad), 'BAD_HEADER');
});
