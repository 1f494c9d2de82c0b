// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import { type AddressInfo, type Socket, connect as netConnect, createServer } from 'node:net';
import t from 'tap';
import { PROTOCOL_VERSION } from '../../src/protocol/constants.js';
import { Connection, connect } from '../../src/protocol/connection.js';
import { ConnectionClosedError, ProtocolError, RemoteError } from '../../src/protocol/errors.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { type HelloMessage, type Message, encodeMessage } from '../../src/protocol/messages.js';
import { rng } from '../helpers/protocol.js';

interface Served {
  port: number;
  /** each accepted connection, and how its handler ended */
  conns: Connection[];
  outcomes: Promise<unknown>[];
  close(): Promise<void>;
}

/** A real loopback server running `handler` on each connection; its rejections are recorded, not thrown. */
async function serve(handler: (c: Connection) => Promise<void>): Promise<Served> {
  const conns: Connection[] = [];
  const outcomes: Promise<unknown>[] = [];
  const server = createServer((socket) => {
    const c = new Connection(socket);
    conns.push(c);
    outcomes.push(handler(c).then(() => 'done', (e: unknown) => e));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    conns,
    outcomes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const MISSING = 1;
const WRONG_ID = 2;

/** The cloud side as the lead will write it, reduced to echoing. */
async function echo(c: Connection): Promise<void> {
  for await (const m of c) {
    if (m.type === 'HELLO') {
      c.send({ type: 'WELCOME', version: PROTOCOL_VERSION, server: { backend: 'cpu', versions: { node: process.version }, host: 'h', cpu: 'c', cores: 2, mem: 1e9, cuts: ['a', 'b'] } });
    } else if (m.type === 'INFER') {
      // cut 1 is missing, cut 2 answers with the wrong id
      if (m.cut === MISSING) c.send({ type: 'ERROR', code: 'UNKNOWN_CUT', message: `no cut ${m.cut}` });
      else c.send({ type: 'RESULT', id: m.cut === WRONG_ID ? m.id + 1 : m.id, cloudUs: 12.5, tensor: m.tensor });
    } else if (m.type === 'PING') {
      c.send({ type: 'PONG', nonce: m.nonce, time: m.time });
    } else if (m.type === 'CONDITION') {
      c.send({ type: 'CONDITION_ACK', id: m.id, stressor: { cpu: m.cpu, mem: m.mem, pids: [] } });
    }
  }
}

const hello: HelloMessage = {
  type: 'HELLO',
  version: PROTOCOL_VERSION,
  network: 'mobilenet',
  fingerprint: 'abc123',
  seed: 1,
  backend: 'wasm',
  token: 's3cret',
  client: { host: 'edge', cpu: 'test cpu', cores: 2, mem: 2 ** 34 },
};

t.test('12.8 MB tensor round trip over loopback, and every message type', async (t) => {
  const srv = await serve(echo);
  const c = await connect(srv.port, '127.0.0.1');
  const welcome = await c.request(hello, 'WELCOME');
  t.same(welcome.server.cuts, ['a', 'b']);

  const r = rng(5);
  const data = new Float32Array(1 * 224 * 224 * 64);
  for (let i = 0; i < data.length; i++) data[i] = r() * 2 - 1;
  t.equal(data.byteLength, 12845056);
  const result = await c.request({ type: 'INFER', id: 41, cut: 0, tensor: { shape: [1, 224, 224, 64], data } }, 'RESULT');
  t.equal(result.id, 41);
  t.equal(result.cloudUs, 12.5);
  t.same(result.tensor.shape, [1, 224, 224, 64]);
  t.ok(Buffer.from(result.tensor.data.buffer, result.tensor.data.byteOffset, result.tensor.data.byteLength).equals(Buffer.from(data.buffer)), 'bytes intact both ways');

  const pong = await c.request({ type: 'PING', nonce: 7, time: 1.25 }, 'PONG');
  t.same([pong.nonce, pong.time], [7, 1.25]);
  const ack = await c.request({ type: 'CONDITION', id: 3, cpu: 50, mem: 0 }, 'CONDITION_ACK');
  t.same(ack.stressor, { cpu: 50, mem: 0, pids: [] });
  await t.rejects(c.request({ type: 'INFER', id: 1, cut: MISSING, tensor: { shape: [0], data: new Float32Array(0) } }, 'RESULT'), new RemoteError('UNKNOWN_CUT', 'no cut 1'));
  await t.rejects(c.request({ type: 'INFER', id: 1, cut: WRONG_ID, tensor: { shape: [1], data: new Float32Array(1) } }, 'RESULT'), { code: 'UNEXPECTED_MESSAGE' });

  t.equal(c.reader.payloadCopies, 0, 'client: no payload copied');
  t.equal(srv.conns[0]!.reader.payloadCopies, 0, 'server: no payload copied');
  t.ok(srv.conns[0]!.reader.assembledFrames >= 1, 'the 12.8 MB frame was assembled from socket chunks');

  await c.close();
  t.equal(await srv.outcomes[0], 'done', "server's message loop ends cleanly when the client closes");
  t.throws(() => c.send({ type: 'PING', nonce: 1, time: 1 }), ConnectionClosedError);
  await t.rejects(c.next(), ConnectionClosedError);
  await srv.close();
});

/** Opens a raw socket, writes `bytes`, and returns what the server sent back before closing. */
function rawExchange(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const s: Socket = netConnect({ port, host: '127.0.0.1' });
    const got: Buffer[] = [];
    s.on('data', (d) => got.push(d));
    s.on('error', () => {}); // a reset after the server hangs up is fine here
    s.on('close', () => resolve(Buffer.concat(got)));
    s.write(bytes);
  });
}

function decodeAll(bytes: Buffer): Message[] {
  const out: Message[] = [];
  const reader = new FrameReader<Message>({ onMessage: (m) => out.push(m), onError: (e) => out.push({ type: 'ERROR', code: e.code, message: 'reply undecodable' }) });
  reader.push(bytes);
  return out;
}

t.test('hostile bytes over a real socket: the handler gets a ProtocolError, the peer an ERROR, nothing crashes', async (t) => {
  const srv = await serve(echo);
  const oversize = Buffer.alloc(16);
  oversize.writeUInt32LE(0x504e4e44, 0);
  oversize.writeUInt32LE(0xffffff00, 4);
  oversize[8] = 4;
  oversize.writeUInt32LE(8, 12);
  const cases: [string, Buffer][] = [
    ['BAD_MAGIC', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['FRAME_TOO_LARGE', oversize],
    ['UNKNOWN_TYPE', Buffer.concat(encodeMessage({ type: 'PING', nonce: 1, time: 2 })).fill(99, 8, 9)],
  ];
  for (const [i, [code, bytes]] of cases.entries()) {
    const reply = await rawExchange(srv.port, bytes);
    const outcome = await srv.outcomes[i];
    t.ok(outcome instanceof ProtocolError, `${code}: handler saw a ProtocolError`);
    t.equal((outcome as ProtocolError).code, code);
    t.match(decodeAll(reply), [{ type: 'ERROR', code }], `${code}: peer told why`);
  }
  await srv.close();
});

t.test('socket close is told apart from protocol errors', async (t) => {
  const frame = Buffer.concat(encodeMessage({ type: 'PING', nonce: 1, time: 2 }));
  // The peer hangs up in the middle of a frame: TRUNCATED.
  const truncating = await serve(async (c) => {
    c.socket.end(frame.subarray(0, frame.length - 3));
  });
  const a = await connect(truncating.port, '127.0.0.1');
  await t.rejects(a.next(), { name: 'ProtocolError', code: 'TRUNCATED' });
  await a.closed;
  await truncating.close();

  // The peer hangs up between frames: a clean close, after the messages sent before it.
  const polite = await serve(async (c) => {
    c.send({ type: 'PING', nonce: 9, time: 0 });
    await c.close();
  });
  const b = await connect(polite.port, '127.0.0.1');
  const seen: Message[] = [];
  for await (const m of b) seen.push(m);
  t.match(seen, [{ type: 'PING', nonce: 9 }], 'iterator yields, then ends without throwing');
  await t.rejects(b.next(), ConnectionClosedError);
  await polite.close();

  await t.rejects(connect(1, '127.0.0.1'), { code: 'ECONNREFUSED' });
});

t.test('a slow reader pauses the socket, loses nothing, and can still close', async (t) => {
  const srv = await serve(async (c) => {
    for (let i = 0; i < 10; i++) c.send({ type: 'PING', nonce: i, time: 0 });
    for await (const _ of c); // until the client closes
  });
  const sock = netConnect({ port: srv.port, host: '127.0.0.1' });
  await new Promise((r) => sock.once('connect', r));
  const c = new Connection(sock, { highWaterMark: 2 });
  for (let i = 0; i < 200 && !sock.isPaused(); i++) await new Promise((r) => setTimeout(r, 5));
  t.ok(sock.isPaused(), 'paused with messages unread');
  const nonces: number[] = [];
  for (let i = 0; i < 10; i++) {
    const m = await c.next();
    if (m.type === 'PING') nonces.push(m.nonce);
  }
  t.same(nonces, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'all, in order');
  await c.close();
  t.equal(await srv.outcomes[0], 'done');
  await srv.close();
});

t.test('leaving a for-await loop early loses no message; a request on a closed connection rejects', async (t) => {
  const srv = await serve(async (c) => {
    for (let i = 0; i < 3; i++) c.send({ type: 'PING', nonce: i, time: 0 });
    await c.close();
  });
  const c = await connect(srv.port, '127.0.0.1');
  for await (const m of c) {
    t.match(m, { type: 'PING', nonce: 0 });
    break;
  }
  t.match(await c.next(), { type: 'PING', nonce: 1 }, 'the next message is still there');
  const rest: Message[] = [];
  for await (const m of c) rest.push(m);
  t.match(rest, [{ type: 'PING', nonce: 2 }], 'a second loop reads on, then ends at the close');
  await c.closed;
  const pending = c.request({ type: 'PING', nonce: 3, time: 0 }, 'PONG');
  t.ok(pending instanceof Promise, 'a failed send is a rejection, not a throw');
  await t.rejects(pending, ConnectionClosedError);
  await srv.close();
});

t.test('serve(): queued messages first, then each as it arrives, one at a time, in order; false stops and leaves the rest readable', async (t) => {
  let active = 0;
  let most = 0;
  const srv = await serve(async (c) => {
    const first = await c.next();
    if (first.type !== 'PING') throw new Error(`got ${first.type}`);
    c.send({ type: 'PONG', nonce: first.nonce, time: 0 });
    await c.serve(async (m) => {
      if (m.type !== 'PING') return false;
      most = Math.max(most, ++active);
      await new Promise((r) => setTimeout(r, m.nonce === 1 ? 20 : 0));
      active--;
      c.send({ type: 'PONG', nonce: m.nonce, time: 0 });
      return m.nonce !== 3;
    });
    const after = await c.next();
    if (after.type === 'PING') c.send({ type: 'PONG', nonce: after.nonce, time: 1 });
    for await (const _ of c); // until the client closes
  });
  const c = await connect(srv.port, '127.0.0.1');
  for (let i = 0; i < 5; i++) c.send({ type: 'PING', nonce: i, time: 0 });
  const got: [number, number][] = [];
  for (let i = 0; i < 5; i++) {
    const m = await c.next();
    if (m.type === 'PONG') got.push([m.nonce, m.time]);
  }
  t.same(got, [[0, 0], [1, 0], [2, 0], [3, 0], [4, 1]], 'all answered in order; the one after the stop by next()');
  t.equal(most, 1, 'the handler never ran twice at once');
  await c.close();
  t.equal(await srv.outcomes[0], 'done');
  await srv.close();
});

t.test('serve() resolves on a clean close, rejects with a ProtocolError or with what the handler throws', async (t) => {
  const srv = await serve((c) =>
    c.serve((m) => {
      if (m.type !== 'PING') return;
      if (m.nonce === 13) throw new Error('handler failed');
      c.send({ type: 'PONG', nonce: m.nonce, time: 0 });
    }),
  );
  const a = await connect(srv.port, '127.0.0.1');
  t.match(await a.request({ type: 'PING', nonce: 1, time: 0 }, 'PONG'), { nonce: 1 });
  await a.close();
  t.equal(await srv.outcomes[0], 'done', 'clean close');

  const reply = await rawExchange(srv.port, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  t.match(await srv.outcomes[1], { name: 'ProtocolError', code: 'BAD_MAGIC' }, 'protocol error');
  t.match(decodeAll(reply), [{ type: 'ERROR', code: 'BAD_MAGIC' }], 'peer told why');

  const b = await connect(srv.port, '127.0.0.1');
  b.send({ type: 'PING', nonce: 13, time: 0 });
  t.match(await srv.outcomes[2], { message: 'handler failed' }, "the handler's exception");
  b.destroy();
  await srv.close();
});
