// The short way for INFER and RESULT against the general one: same bytes out, same messages and errors in.
import t from 'tap';
import { MESSAGE_CODES, MAX_FRAME_LIMIT } from '../../src/protocol/constants.js';
import type { ProtocolError } from '../../src/protocol/errors.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { encodeFrame } from '../../src/protocol/frame-writer.js';
import { decodeHot, encodeHot } from '../../src/protocol/hot-messages.js';
import { type Message, encodeMessage, parseMessage } from '../../src/protocol/messages.js';
import type { Tensor } from '../../src/protocol/tensor.js';
import { randInt, randomChunks, rng } from './helpers.js';

/** What encodeMessage gave before the short way: the fields in the message's key order, then encodeFrame. */
function generalFrame(message: Message, maxFrame?: number): Buffer[] {
  const fields: Record<string, unknown> = {};
  for (const k in message) if (k !== 'type' && k !== 'tensor') fields[k] = message[k as keyof Message];
  return encodeFrame(MESSAGE_CODES[message.type], fields, 'tensor' in message ? [message.tensor] : [], maxFrame);
}

/** Bytes, or the error thrown, as something t.same compares. */
function outcome(encode: () => Buffer[]): unknown {
  try {
    return Buffer.concat(encode()).toString('hex');
  } catch (e) {
    return { threw: (e as Error).constructor.name, message: (e as Error).message };
  }
}

const IDS = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -33, 1.5, NaN];
const CLOUD_US = [0, 1, 127, 128, 65536, 2 ** 32, -1, -32, -33, -200, -(2 ** 31) - 1, 12.345, 1e300, NaN, Infinity, -Infinity];

function randomCut(r: () => number): string | number {
  const pick = r();
  if (pick < 0.2) return IDS[randInt(r, 0, IDS.length - 1)]!;
  const n = [0, 1, 5, 24, 25, 31, 32, 255, 256, 70000][randInt(r, 0, 9)]!;
  const alphabet = pick < 0.9 ? 'block_3ABZ' : 'aé';
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[randInt(r, 0, alphabet.length - 1)];
  return s;
}

function randomShapeTensor(r: () => number): Tensor {
  const pick = r();
  // Around the inline limit (4096 bytes), a few large ones, and small odd shapes of up to 8 dims.
  const shape =
    pick < 0.15 ? [randInt(r, 1020, 1028)] : pick < 0.2 ? [1, randInt(r, 30, 60), 56, 4] : Array.from({ length: randInt(r, 0, 8) }, () => (r() < 0.1 ? 0 : randInt(r, 1, 3)));
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = r() * 100 - 50;
  return { shape, data };
}

/** INFER and RESULT messages, mostly as callers make them, sometimes in other forms the short way leaves alone. */
function randomMessage(r: () => number): Message {
  const id = r() < 0.7 ? randInt(r, 0, 70000) : IDS[randInt(r, 0, IDS.length - 1)]!;
  const tensor = randomShapeTensor(r);
  const infer = r() < 0.5;
  const second = infer ? randomCut(r) : r() < 0.5 ? r() * 1e6 : CLOUD_US[randInt(r, 0, CLOUD_US.length - 1)]!;
  const key = infer ? 'cut' : 'cloudUs';
  const type = infer ? 'INFER' : 'RESULT';
  const form = r();
  let m: Record<string, unknown>;
  if (form < 0.6) m = { type, id, [key]: second, tensor };
  else if (form < 0.7) m = { type, [key]: second, id, tensor }; // other key order
  else if (form < 0.75) m = { tensor, id, type, [key]: second }; // type and tensor elsewhere: same header
  else if (form < 0.8) m = { type, id, [key]: second, tensor, note: 'extra' };
  else if (form < 0.85) m = { type, id, [key]: second, tensors: 7, tensor }; // a field named like the descriptor list
  else if (form < 0.9) m = { type, id: undefined, [key]: second, tensor };
  else if (form < 0.93) m = { type, id, [key]: second, tensor: { shape: [3], data: new Float32Array(2) } };
  else if (form < 0.95) m = { type, id, [key]: second, tensor: { shape: [2], data: [1, 2] } };
  else m = { type, id, [key]: second, tensor: { shape: tensor.shape, data: new Float32Array(tensor.data.buffer, 0, 0) } };
  return m as unknown as Message;
}

t.test('INFER and RESULT encode to the bytes (or errors) of the general path, in every form', (t) => {
  const r = rng(21);
  let short = 0;
  for (let i = 0; i < 3000; i++) {
    const m = randomMessage(r);
    const maxFrame = r() < 0.1 ? randInt(r, 64, 8192) : undefined;
    const want = outcome(() => generalFrame(m, maxFrame));
    const got = outcome(() => encodeMessage(m, maxFrame));
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.same(got, want, `message ${i}: ${JSON.stringify({ ...m, tensor: undefined })} shape [${String((m as { tensor?: Tensor }).tensor?.shape)}]`);
      return t.end();
    }
    try {
      if (encodeHot(m, maxFrame ?? MAX_FRAME_LIMIT) !== null) short++;
    } catch {
      // a bad tensor: thrown as the general path throws it (compared above)
    }
  }
  t.ok(short > 1500, `most went the short way (${short} of 3000)`);
  const usual: Message = { type: 'INFER', id: 9, cut: 'block_3', tensor: { shape: [1, 7, 7, 512], data: new Float32Array(25088) } };
  const chunks = encodeHot(usual)!;
  t.equal(chunks[1]!.buffer, usual.tensor.data.buffer, 'a large payload goes as the tensor memory itself');
  t.equal(encodeHot({ type: 'PING', nonce: 1, time: 2 }), null, 'other messages go the general way');
  t.end();
});

interface Decoded {
  messages: unknown[];
  errors: string[];
  reader: FrameReader<Message>;
}

function decode(chunks: Buffer[], fast: boolean, hits?: { n: number }): Decoded {
  const messages: unknown[] = [];
  const errors: string[] = [];
  const decodeFast = fast
    ? (...a: Parameters<typeof decodeHot>): Message | null => {
        const m = decodeHot(...a);
        if (m !== null && hits) hits.n++;
        return m;
      }
    : undefined;
  const reader = new FrameReader<Message>({
    parse: parseMessage,
    decodeFast,
    // The tensor's data as a plain list, so messages compare by value.
    onMessage: (m) => messages.push('tensor' in m ? { ...m, tensor: { shape: m.tensor.shape, data: Array.from(m.tensor.data) } } : m),
    onError: (e: ProtocolError) => errors.push(`${e.code} ${e.message}`),
  });
  for (const c of chunks) reader.push(c);
  reader.end();
  return { messages, errors, reader };
}

t.test('decodeHot gives what parseMessage gives, for valid frames and damaged ones', (t) => {
  const r = rng(22);
  const hits = { n: 0 };
  let damaged = 0;
  for (let i = 0; i < 3000; i++) {
    let frame: Buffer;
    try {
      frame = Buffer.concat(generalFrame(randomMessage(r)));
    } catch {
      continue;
    }
    if (r() < 0.6) {
      damaged++;
      for (let k = randInt(r, 1, 3); k > 0; k--) frame[randInt(r, 0, Math.min(frame.length - 1, 140))] = randInt(r, 0, 255);
    }
    const chunks = r() < 0.3 ? randomChunks(r, frame, 40) : [frame];
    const general = decode(chunks, false);
    const short = decode(chunks, true, hits);
    if (JSON.stringify(short.messages) !== JSON.stringify(general.messages) || JSON.stringify(short.errors) !== JSON.stringify(general.errors)) {
      t.same({ messages: short.messages, errors: short.errors }, { messages: general.messages, errors: general.errors }, `frame ${i}: ${frame.subarray(0, 120).toString('hex')}`);
      return t.end();
    }
    if (short.reader.payloadCopies !== general.reader.payloadCopies) {
      t.fail(`frame ${i}: ${short.reader.payloadCopies} payload copies, ${general.reader.payloadCopies} the general way`);
      return t.end();
    }
  }
  t.ok(hits.n > 500, `many frames went the short way (${hits.n}; ${damaged} damaged)`);
  t.end();
});

t.test('the short way keeps payloads zero-copy: views on the chunk, a counted copy only when misaligned', (t) => {
  const data = Float32Array.from({ length: 1200 }, (_, i) => i / 7);
  const frame = Buffer.concat(encodeMessage({ type: 'RESULT', id: 4, cloudUs: 812.5, tensor: { shape: [1, 1200], data } }));
  const got: Message[] = [];
  const reader = new FrameReader<Message>({ parse: parseMessage, decodeFast: decodeHot, onMessage: (m) => got.push(m), onError: (e) => t.fail(e.message) });
  reader.push(frame);
  const m = got[0] as Extract<Message, { type: 'RESULT' }>;
  t.same({ ...m, tensor: undefined }, { type: 'RESULT', id: 4, cloudUs: 812.5, tensor: undefined });
  t.equal(m.tensor.data.buffer, frame.buffer, 'a view on the chunk');
  t.same(Array.from(m.tensor.data), Array.from(data));
  t.equal(reader.payloadCopies, 0);
  const backing = Buffer.alloc(frame.length + 1);
  frame.copy(backing, 1);
  reader.push(backing.subarray(1));
  t.same(Array.from((got[1] as typeof m).tensor.data), Array.from(data), 'misaligned: the same values');
  t.equal(reader.payloadCopies, 1, 'one counted copy');
  t.end();
});
