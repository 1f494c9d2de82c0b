// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// Protocol versions 1 and 2 against version 3, with real bytes they wrote (test/fixtures/protocol/v1-*.bin,
// made by the release before the binary INFER/RESULT header; v2-*.bin, by the release before the 12-byte
// queue/stress fields of version 3).
import { readFileSync } from 'node:fs';
import { type AddressInfo, connect as netConnect, createServer } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { PROTOCOL_VERSION } from '../../src/protocol/constants.js';
import { Connection } from '../../src/protocol/connection.js';
import { isFatalRefusal } from '../../src/protocol/errors.js';
import { type HelloMessage, type Message, encodeControlFrame, encodeMessage } from '../../src/protocol/messages.js';
import { MESSAGE_CODES } from '../../src/protocol/constants.js';
import { FIXTURES } from '../helpers/cli.js';
import { feed } from '../helpers/protocol.js';

const fixture = (name: string): Buffer => readFileSync(path.join(FIXTURES, 'protocol', name));
const V1_HELLO: HelloMessage = {
  type: 'HELLO',
  version: 1,
  network: 'lenet',
  fingerprint: 'dbd5f817e817e63787a27638e4cd56ed',
  seed: 1,
  backend: 'wasm',
  client: { host: 'edge-v1', cpu: 'test cpu', cores: 2, mem: 2 ** 34 },
};

t.test('this version is 3', async (t) => {
  t.equal(PROTOCOL_VERSION, 3);
});

t.test("a version 1 HELLO reads as a HELLO of version 1, so the cloud refuses it by its version", async (t) => {
  const { messages, errors } = feed([fixture('v1-hello.bin')]);
  t.same(errors, []);
  t.same(messages, [V1_HELLO]);
});

t.test('HELLO is written as version 1 wrote it: a version 1 cloud reads a version 3 HELLO and answers VERSION_MISMATCH', async (t) => {
  t.ok(Buffer.concat(encodeMessage(V1_HELLO)).equals(fixture('v1-hello.bin')), 'byte for byte, but for the version');
  const v3 = Buffer.concat(encodeMessage({ ...V1_HELLO, version: PROTOCOL_VERSION }));
  const v1 = fixture('v1-hello.bin');
  const differ = [...v3.keys()].filter((i) => v3[i] !== v1[i]);
  t.same(differ, [25], 'only the version byte differs');
  t.equal(v3[25], 3);
});

t.test("a version 1 cloud's VERSION_MISMATCH reads as the fatal refusal it is", async (t) => {
  const { messages, errors } = feed([fixture('v1-error-version-mismatch.bin')]);
  t.same(errors, []);
  t.match(messages, [{ type: 'ERROR', code: 'VERSION_MISMATCH', message: /this cloud speaks 1/ }]);
  t.ok(isFatalRefusal('VERSION_MISMATCH'), 'the edge stops with exit 2 rather than retrying');
});

t.test('a HELLO or WELCOME of another version that does not read as this version is VERSION_MISMATCH, not BAD_HEADER', async (t) => {
  const other = encodeControlFrame(MESSAGE_CODES.HELLO, { version: 4, network: 'lenet', fingerprint: 'f', seed: 1, backend: 'wasm', client: 'a new form' });
  const e = feed(other).errors[0];
  t.equal(e?.code, 'VERSION_MISMATCH');
  t.match(e?.message, /HELLO of protocol version 4, this end speaks 3 .*client.*run the same release/);
  const welcome = encodeControlFrame(MESSAGE_CODES.WELCOME, { version: 1, server: { cuts: 'old form' } });
  t.equal(feed(welcome).errors[0]?.code, 'VERSION_MISMATCH');
  const same = encodeControlFrame(MESSAGE_CODES.HELLO, { version: PROTOCOL_VERSION, network: 'lenet', fingerprint: 'f', seed: 1, backend: 'wasm', client: 'x' });
  t.equal(feed(same).errors[0]?.code, 'BAD_HEADER', 'of this version, a broken HELLO stays BAD_HEADER');
});

t.test('over a socket, a peer whose HELLO cannot be read is told VERSION_MISMATCH', async (t) => {
  let outcome: unknown;
  const server = createServer((socket) => {
    const c = new Connection(socket);
    c.next().then((m) => (outcome = m), (e: unknown) => (outcome = e));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const reply = await new Promise<Buffer>((resolve) => {
    const s = netConnect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' });
    const got: Buffer[] = [];
    s.on('data', (d) => got.push(d));
    s.on('error', () => {});
    s.on('close', () => resolve(Buffer.concat(got)));
    s.write(Buffer.concat(encodeControlFrame(MESSAGE_CODES.HELLO, { version: 4, client: 7 })));
  });
  t.match(outcome, { name: 'ProtocolError', code: 'VERSION_MISMATCH' });
  t.match(feed([reply]).messages as Message[], [{ type: 'ERROR', code: 'VERSION_MISMATCH' }]);
  await new Promise((r) => server.close(r));
});

t.test('a version 1 INFER is a typed error, not a crash', async (t) => {
  const { messages, errors } = feed([fixture('v1-infer.bin')]);
  t.same(messages, []);
  t.equal(errors.length, 1);
  t.ok(['BAD_HEADER', 'BAD_TENSOR', 'BAD_LENGTH', 'UNKNOWN_CODEC'].includes(errors[0]!.code), `got ${errors[0]?.code}: ${errors[0]?.message}`);
  t.equal(errors[0]?.cause, undefined);
});

// Version 2 <-> version 3. Both directions: a version 2 edge meets a version 3 cloud (its HELLO reads,
// the cloud refuses it by its version: test/cloud/server.test.ts does it over a socket with these
// bytes), and a version 3 edge meets a version 2 cloud (the v2 cloud reads our HELLO, as its own form,
// and answers with its VERSION_MISMATCH, which we read as the fatal refusal it is).
const V2_HELLO: HelloMessage = {
  type: 'HELLO',
  version: 2,
  network: 'lenet',
  fingerprint: 'dbd5f817e817e63787a27638e4cd56ed',
  seed: 1,
  backend: 'onnx',
  client: { host: 'edge-v2', cpu: 'test cpu', cores: 2, mem: 2 ** 34 },
};

t.test('a version 2 HELLO reads as a HELLO of version 2, so a version 3 cloud refuses it by its version', async (t) => {
  const { messages, errors } = feed([fixture('v2-hello.bin')]);
  t.same(errors, []);
  t.same(messages, [V2_HELLO]);
});

t.test('HELLO is written as version 2 wrote it: a version 2 cloud reads a version 3 HELLO and answers VERSION_MISMATCH', async (t) => {
  t.ok(Buffer.concat(encodeMessage(V2_HELLO)).equals(fixture('v2-hello.bin')), 'byte for byte as version 2 wrote it');
  const v3 = Buffer.concat(encodeMessage({ ...V2_HELLO, version: PROTOCOL_VERSION }));
  const v2 = fixture('v2-hello.bin');
  t.equal(v3.length, v2.length);
  const differ = [...v3.keys()].filter((i) => v3[i] !== v2[i]);
  t.same(differ, [25], 'only the version byte differs');
  const { messages, errors } = feed([fixture('v2-error-version-mismatch.bin')]);
  t.same(errors, []);
  t.match(messages, [{ type: 'ERROR', code: 'VERSION_MISMATCH', message: /protocol version 3 but this cloud speaks 2/ }]);
  t.notOk('id' in messages[0]!, 'a connection-wide ERROR has no request id');
});

t.test("a version 2 cloud's WELCOME reads as version 2 (the edge then refuses it: test/edge/protocol-link.test.ts)", async (t) => {
  const { messages, errors } = feed([fixture('v2-welcome.bin')]);
  t.same(errors, []);
  t.match(messages, [{ type: 'WELCOME', version: 2, server: { cuts: ['input', 'conv1', 'output'] } }]);
});

t.test('a version 2 INFER or RESULT (a 68-byte header) is a typed error, not a crash', async (t) => {
  for (const name of ['v2-infer.bin', 'v2-result.bin']) {
    const bytes = fixture(name);
    t.equal(bytes.readUInt32LE(12), 68, `${name}: version 2's header length`);
    const { messages, errors } = feed([bytes]);
    t.same(messages, [], name);
    t.equal(errors.length, 1, name);
    t.equal(errors[0]?.code, 'BAD_HEADER', name);
    t.match(errors[0]?.message, /header of 68 bytes is shorter than its fixed 80/, name);
    t.equal(errors[0]?.cause, undefined, name);
  }
});
