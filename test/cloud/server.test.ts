import t from 'tap';
import net from 'node:net';
import { selectBackend } from '../../src/engine/backend.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { InferenceService } from '../../src/cloud/inference-service.js';
import { CloudServer } from '../../src/cloud/server.js';
import { connect, type Connection } from '../../src/protocol/connection.js';
import { MESSAGE_CODES, PROTOCOL_VERSION } from '../../src/protocol/constants.js';
import { encodeMessage, type HelloMessage, type Message } from '../../src/protocol/messages.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { RemoteError } from '../../src/protocol/errors.js';
import { hostInfo } from '../../src/host-info.js';
import { feed, handFrame, rng } from '../helpers/protocol.js';
import { FIXTURES } from '../helpers/cli.js';
import { readFileSync } from 'node:fs';
import { CODECS, type Codec } from '../../src/codecs/index.js';
import { CODEC_IDS } from '../../src/protocol/codecs.js';
import { encodeFrame, parseInputCodecList, toTensor } from '../../src/inputs/index.js';
import path from 'node:path';

await selectBackend('auto');
const network = await loadNetwork('lenet', { seed: 1 });
const service = new InferenceService(network);
await service.warmUp();
const logs: string[] = [];
const TOKEN = 's3cret';

async function startServer(token?: string) {
  const server = new CloudServer(service, { ...hostInfo(), backend: 'test', versions: {}, cuts: network.cuts.map((c) => c.layer) }, {
    port: 0,
    host: '127.0.0.1',
    maxFrame: 1 << 20,
    token,
    helloTimeoutMs: 2000,
    log: (l) => logs.push(l),
  });
  const addr = await server.listen();
  return { server, port: addr.port };
}

const hello = (over: Partial<HelloMessage> = {}): HelloMessage => ({
  type: 'HELLO',
  version: PROTOCOL_VERSION,
  network: network.id,
  fingerprint: network.fingerprint,
  seed: 1,
  backend: 'test',
  client: hostInfo(),
  ...over,
});

const cut = network.cuts.find((c) => c.layer === 'max_pooling2d_1')!;
/** INFER names the point by its index in the WELCOME's list of cuts. */
const cutIndex = network.cuts.indexOf(cut);
const tensorFor = (shape = [1, ...cut.shape]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });

async function goodClient(port: number, token?: string): Promise<Connection> {
  const c = await connect(port, '127.0.0.1');
  await c.request(hello(token ? { token } : {}), 'WELCOME');
  return c;
}

/** Writes raw bytes, then collects what the server says until it closes the socket. */
function rawExchange(port: number, bytes: Buffer[], halfClose = false): Promise<{ messages: Message[]; closed: boolean }> {
  return new Promise((resolve) => {
    const messages: Message[] = [];
    const reader = new FrameReader<Message>({ onMessage: (m) => messages.push(m), onError: () => {} });
    const s = net.connect(port, '127.0.0.1', () => {
      for (const b of bytes) s.write(b);
      if (halfClose) s.end();
    });
    s.on('data', (d) => reader.push(d));
    s.on('error', () => {});
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ messages, closed: false });
    }, 8000);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ messages, closed: true });
    });
  });
}

const helloBytes = () => Buffer.concat(encodeMessage(hello()));

/** The version 2 fixture's HELLO, re-encoded for this network (the fixture's bytes are checked in test/protocol/version.test.ts). */
function v2Hello(): Buffer {
  const [m] = feed([readFileSync(path.join(FIXTURES, 'protocol/v2-hello.bin'))]).messages;
  return Buffer.concat(encodeMessage({ ...(m as HelloMessage), network: network.id, fingerprint: network.fingerprint }));
}

t.test('hostile input gets an ERROR and a closed socket; a good client keeps being served', async (t) => {
  const { server, port } = await startServer();
  const good = await goodClient(port);
  const r = rng(9);
  const random = Buffer.alloc(4096);
  for (let i = 0; i < random.length; i++) random[i] = Math.floor(r() * 256);
  const oversize = handFrame({ type: MESSAGE_CODES.PING, header: { nonce: 1, time: 0 }, frameLength: 2 ** 31 });
  const full = Buffer.concat(encodeMessage({ type: 'INFER', id: 1, cut: cutIndex, tensor: tensorFor() }));
  const cases: [string, Buffer[], boolean, RegExp][] = [
    ['random bytes', [random], false, /BAD_MAGIC|BAD_LENGTH|FRAME_TOO_LARGE/],
    ['oversize length', [oversize], false, /FRAME_TOO_LARGE/],
    ['truncated frame', [helloBytes(), full.subarray(0, full.length - 100)], true, /TRUNCATED/],
    ['unknown type', [handFrame({ type: 250, header: {} })], false, /UNKNOWN_TYPE/],
    ['absurd shape', [helloBytes(), Buffer.concat(encodeMessage({ type: 'INFER', id: 1, cut: cutIndex, tensor: tensorFor([1, 3, 3]) }))], false, /BAD_SHAPE/],
    ['unknown point', [helloBytes(), Buffer.concat(encodeMessage({ type: 'INFER', id: 1, cut: network.cuts.length, tensor: tensorFor() }))], false, /UNKNOWN_CUT: cut index \d+ is out of range/],
    ['version 1 HELLO', [readFileSync(path.join(FIXTURES, 'protocol/v1-hello.bin'))], false, /VERSION_MISMATCH: protocol version 1 but this cloud speaks 3/],
    // a version 2 edge's HELLO as it wrote it (same network and fingerprint: refused by its version alone)
    ['version 2 HELLO', [v2Hello()], false, /VERSION_MISMATCH: protocol version 2 but this cloud speaks 3/],
    ['INFER before HELLO', [full], false, /UNEXPECTED_MESSAGE/],
  ];
  // all hostile clients at once, while the good client works
  const hostile = Promise.all(cases.map(([, bytes, half]) => rawExchange(port, bytes, half)));
  for (let i = 0; i < 20; i++) {
    const res = await good.request({ type: 'INFER', id: 100 + i, cut: cutIndex, tensor: tensorFor() }, 'RESULT');
    t.equal(res.tensor.data.length, 1000);
  }
  const results = await hostile;
  cases.forEach(([name, , , code], i) => {
    const res = results[i]!;
    const err = res.messages.find((m) => m.type === 'ERROR');
    t.ok(res.closed, `${name}: connection closed`);
    t.match(err && err.type === 'ERROR' ? `${err.code}: ${err.message}` : 'no ERROR', code, `${name}: ERROR names the problem`);
  });
  const res = await good.request({ type: 'INFER', id: 999, cut: cutIndex, tensor: tensorFor() }, 'RESULT');
  t.ok(res.cloudUs > 0, 'the good client is still served afterwards');
  t.ok(logs.some((l) => /protocol error, closed: FRAME_TOO_LARGE/.test(l)), 'one log line per event');
  await good.close();
  await server.close();
});

t.test('encoded INFERs are decoded, timed apart from compute; one that does not decode fails alone and the connection goes on', async (t) => {
  const { server, port } = await startServer();
  const c = await goodClient(port);
  const x = tensorFor();
  for (let i = 0; i < x.data.length; i++) x.data[i] = (i % 7) - 3; // small integers: exact in f16 and lz4
  const raw = await c.request({ type: 'INFER', id: 1, cut: cutIndex, tensor: x }, 'RESULT');
  t.equal(raw.decodeUs, undefined, 'a raw INFER: nothing decoded');
  const infer = (id: number, codec: Codec, payload?: Uint8Array) => {
    const e = codec.encode(x.data, x.shape);
    return c.request({ type: 'INFER', id, cut: cutIndex, tensor: { shape: x.shape, data: new Float32Array(0) }, codec: { id: codec.id, scale: e.scale, zeroPoint: e.zeroPoint, params: e.params }, payload: payload ?? e.payload }, 'RESULT');
  };
  for (const [i, name] of ['f16', 'lz4', 'f16+lz4', 'deflate'].entries()) {
    const res = await infer(10 + i, CODECS.get(name)!);
    t.same(Array.from(res.tensor.data), Array.from(raw.tensor.data), `${name}: exact input, the same output as raw`);
    t.ok(res.decodeUs! >= 1, `${name}: decode time reported (${res.decodeUs} µs)`);
    t.ok(res.cloudUs > 0, `${name}: compute time reported apart`);
  }
  const bad = new Uint8Array([0xff, 0xff, 0xff, 0x7f, 9, 9, 9]);
  await t.rejects(infer(20, CODECS.get('lz4')!, bad), { name: 'RemoteError', code: 'BAD_TENSOR', peerMessage: /lz4 payload of 7 bytes .* does not decode/ });
  const after = await infer(21, CODECS.get('f16')!);
  t.same(Array.from(after.tensor.data), Array.from(raw.tensor.data), 'the same connection serves the next request');
  t.ok(logs.some((l) => /refused INFER 20: lz4 payload/.test(l)), 'one log line');
  await c.close();
  await server.close();
});

t.test('camera frames at the input point: decoded and preprocessed as the HELLO says; a wrong frame fails alone', async (t) => {
  const { server, port } = await startServer();
  const input = network.cuts[0]!; // lenet: 28x28x1, luminance of the frame
  const index = network.cuts.indexOf(input);
  const frame = { width: 28, height: 28, rgb: Uint8Array.from({ length: 28 * 28 * 3 }, (_, i) => (i * 37) % 256), source: 'test' };
  const convention = { mode: 'unit' as const, layout: 'nhwc' as const, channels: 1, why: 'test' };
  const x = { shape: [1, 28, 28, 1], data: toTensor(frame, convention) };
  const image = (c: Connection, id: number, codecId: number, payload: Uint8Array) =>
    c.request({ type: 'INFER', id, cut: index, tensor: { shape: x.shape, data: new Float32Array(0) }, codec: { id: codecId as 9, scale: 0, zeroPoint: 0, params: new Uint8Array(0) }, payload }, 'RESULT');
  const c = await connect(port, '127.0.0.1');
  await c.request(hello({ preprocess: { mode: 'unit', layout: 'nhwc' } }), 'WELCOME');
  const raw = await c.request({ type: 'INFER', id: 1, cut: index, tensor: x }, 'RESULT');
  const u8 = await image(c, 2, CODEC_IDS.u8, frame.rgb);
  t.same(Array.from(u8.tensor.data), Array.from(raw.tensor.data), 'u8: the same model input as the edge makes, the same output');
  t.ok(u8.decodeUs! > 0, 'decode and preprocessing timed');
  const png = await image(c, 3, CODEC_IDS.png, await encodeFrame(frame, parseInputCodecList('png')[0]!));
  t.same(Array.from(png.tensor.data), Array.from(raw.tensor.data), 'png: lossless');
  const small = await encodeFrame({ ...frame, width: 14, height: 14, rgb: frame.rgb.subarray(0, 14 * 14 * 3) }, parseInputCodecList('jpeg')[0]!);
  await t.rejects(image(c, 4, CODEC_IDS.jpeg, small), { code: 'BAD_TENSOR', peerMessage: /jpeg payload of \d+ bytes for \[1,28,28,1\] does not decode: .*14x14/ });
  await t.rejects(image(c, 5, CODEC_IDS.jpeg, Uint8Array.from([1, 2, 3])), { code: 'BAD_TENSOR' }, 'not a JPEG');
  t.same(Array.from((await image(c, 6, CODEC_IDS.u8, frame.rgb)).tensor.data), Array.from(raw.tensor.data), 'the connection goes on');
  await c.close();
  const silent = await goodClient(port);
  await t.rejects(image(silent, 7, CODEC_IDS.u8, frame.rgb), { code: 'BAD_TENSOR', peerMessage: /announced no preprocessing in its HELLO/ }, 'an edge that announced no preprocessing');
  await silent.close();
  await server.close();
});

t.test('a silent client is dropped after the HELLO timeout', async (t) => {
  const { server, port } = await startServer();
  const res = await rawExchange(port, []);
  t.ok(res.closed);
  t.match(res.messages[0], { type: 'ERROR', code: 'TIMEOUT' });
  await server.close();
});

t.test('fingerprint, version and token are checked at HELLO', async (t) => {
  const { server, port } = await startServer(TOKEN);
  const attempt = async (h: HelloMessage) => {
    const c = await connect(port, '127.0.0.1');
    try {
      await c.request(h, 'WELCOME');
      return 'WELCOME';
    } catch (e) {
      return e instanceof RemoteError ? `${e.code} ${e.message}` : String(e);
    } finally {
      c.destroy();
    }
  };
  t.match(await attempt(hello()), /^UNAUTHORIZED .*requires a token/);
  t.match(await attempt(hello({ token: 'guess' })), /^UNAUTHORIZED .*wrong token/);
  // the token is checked first: a stranger learns nothing about the model
  t.match(await attempt(hello({ token: 'guess', fingerprint: 'x' })), /^UNAUTHORIZED/);
  t.match(await attempt(hello({ token: TOKEN, fingerprint: 'deadbeef' })), /^FINGERPRINT_MISMATCH .*edge runs lenet \(fingerprint deadbeef.*same network, --seed/);
  t.match(await attempt(hello({ token: TOKEN, version: 99 })), /^VERSION_MISMATCH/);
  t.equal(await attempt(hello({ token: TOKEN })), 'WELCOME');
  await server.close();
});

t.test('two edges at once are both served, with results matching the full model', async (t) => {
  const { server, port } = await startServer();
  const [a, b] = await Promise.all([goodClient(port), goodClient(port)]);
  const run = async (c: Connection, base: number) => {
    const outs: Float32Array[] = [];
    for (let i = 0; i < 15; i++) outs.push((await c.request({ type: 'INFER', id: base + i, cut: cutIndex, tensor: tensorFor() }, 'RESULT')).tensor.data);
    return outs;
  };
  const [ra, rb] = await Promise.all([run(a, 0), run(b, 1000)]);
  t.equal(ra.length + rb.length, 30);
  t.same(Array.from(ra[0]!.slice(0, 10)), Array.from(rb[14]!.slice(0, 10)), 'same input, same output on both connections');
  await Promise.all([a.close(), b.close()]);
  await server.close();
});
