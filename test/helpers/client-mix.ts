/**
 * A crowd of clients on one cloud, as test/cloud/many-clients.test.ts and bench/cloud-concurrency.ts
 * run it: valid pipelined streams (ProtocolLink, several requests in flight), slow senders that
 * trickle their frames a few bytes at a time, one greedy sender that writes a burst far larger than
 * the queue, and malformed clients. Every answer is counted and every output checked against the
 * output the same cloud half gives for the same input.
 */
import net from 'node:net';
import { ProtocolLink } from '../../src/edge/protocol-link.js';
import { LinkFailure } from '../../src/edge/cloud-link.js';
import { benchmarkInput, type HostTensor } from '../../src/engine/split-runner.js';
import type { Network } from '../../src/model/network.js';
import type { CutPoint } from '../../src/model/partition.js';
import { MESSAGE_CODES, PROTOCOL_VERSION } from '../../src/protocol/constants.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { encodeMessage, type HelloMessage, type Message } from '../../src/protocol/messages.js';
import { hostInfo } from '../../src/host-info.js';
import { handFrame, rng } from './protocol.js';

export interface MixOptions {
  port: number;
  network: Network;
  /** the cloud half's output per point for benchmarkInput(shape, 1): what every RESULT must be */
  expected: ReadonlyMap<string, Float32Array>;
  /** points the valid streams cycle through; the slow and greedy senders use the first */
  cuts: CutPoint[];
  valid?: number;
  /** requests per valid stream (per round, in a bench) */
  requests?: number;
  inFlight?: number;
  slow?: number;
  malformed?: number;
  greedyBurst?: number;
  /** keep every client going round after round until then (Date.now()); default: one round */
  untilMs?: number;
}

export interface MixCounts {
  /** `cloudMs`, `queueMs`: every valid answer's cloud compute and queue times, as the RESULTs said */
  valid: { answered: number; correct: number; queueFull: number; cloudMs: number[]; queueMs: number[] };
  slow: { answered: number; correct: number; queueFull: number };
  greedy: { sent: number; results: number; correct: number; queueFull: number; other: number };
  malformed: { clients: number; errors: number; closed: number };
}

const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

function hello(host: string): HelloMessage {
  return { type: 'HELLO', version: PROTOCOL_VERSION, network: '', fingerprint: '', seed: 1, backend: 'test', client: { ...hostInfo(), host } };
}

/** Runs the crowd once (or round after round until `untilMs`) and counts what came back. */
export async function runMix(o: MixOptions): Promise<MixCounts> {
  const counts: MixCounts = {
    valid: { answered: 0, correct: 0, queueFull: 0, cloudMs: [], queueMs: [] },
    slow: { answered: 0, correct: 0, queueFull: 0 },
    greedy: { sent: 0, results: 0, correct: 0, queueFull: 0, other: 0 },
    malformed: { clients: 0, errors: 0, closed: 0 },
  };
  const h = (host: string): HelloMessage => ({ ...hello(host), network: o.network.id, fingerprint: o.network.fingerprint });
  const again = () => o.untilMs !== undefined && Date.now() < o.untilMs;
  const loop = async (f: () => Promise<void>) => {
    do await f();
    while (again());
  };
  await Promise.all([
    ...Array.from({ length: o.valid ?? 8 }, (_, i) => validStream(o, h(`valid-${i}`), counts, again)),
    ...Array.from({ length: o.slow ?? 3 }, (_, i) => loop(() => slowSender(o, h(`slow-${i}`), i, counts))),
    ...((o.greedyBurst ?? 200) > 0 ? [loop(() => greedySender(o, h('greedy'), counts))] : []),
    ...Array.from({ length: o.malformed ?? 4 }, (_, i) => loop(() => malformed(o, h(`bad-${i}`), i, counts))),
  ]);
  return counts;
}

/** A pipelined edge: `inFlight` requests at a time on one link; a QUEUE_FULL is retried (as `single` does). */
async function validStream(o: MixOptions, hello: HelloMessage, counts: MixCounts, again: () => boolean): Promise<void> {
  const link = await ProtocolLink.open({ host: '127.0.0.1', port: o.port, hello, maxFrame: 1 << 24, requestTimeoutMs: 60_000, giveUpMs: 5000, log: () => {} });
  const inputs = new Map(o.cuts.map((c) => [c.layer, benchmarkInput(c.shape, 1)]));
  let next = 0;
  const worker = async () => {
    for (;;) {
      if (next >= (o.requests ?? 20)) {
        if (!again()) return;
        next = 0;
      }
      const cut = o.cuts[next++ % o.cuts.length]!;
      for (;;) {
        try {
          const r = await link.infer(cut, inputs.get(cut.layer)!);
          counts.valid.answered++;
          counts.valid.cloudMs.push(r.cloudMs);
          counts.valid.queueMs.push(r.queueMs ?? 0);
          if (same(r.output.data, o.expected.get(cut.layer)!)) counts.valid.correct++;
          break;
        } catch (e) {
          if (!(e instanceof LinkFailure && e.reason === 'queue-full')) throw e;
          counts.valid.queueFull++;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.inFlight ?? 4 }, worker));
  } finally {
    await link.close();
  }
}

/** A raw client: writes `bytes` at once, collects replies until `enough` or the close. */
function rawClient(o: MixOptions, bytes: Buffer, enough: (m: Message[]) => boolean): Promise<{ messages: Message[]; closed: boolean }> {
  return new Promise((resolve) => {
    const messages: Message[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      s.destroy();
      resolve({ messages, closed });
    };
    const reader = new FrameReader<Message>({ onMessage: (m) => messages.push(m), onError: () => finish(false) });
    const s = net.connect(o.port, '127.0.0.1', () => s.write(bytes));
    s.on('data', (d) => {
      reader.push(d);
      if (enough(messages)) finish(false);
    });
    s.on('error', () => {});
    s.on('close', () => finish(true));
  });
}

const frame = (m: Message): Buffer => Buffer.concat(encodeMessage(m));

function inferFrame(o: MixOptions, id: number, cut: CutPoint): Buffer {
  const x: HostTensor = benchmarkInput(cut.shape, 1);
  return frame({ type: 'INFER', id, cut: o.network.cuts.indexOf(cut), tensor: { shape: x.shape, data: x.data } });
}

/**
 * HELLO and one INFER, 16 bytes every 2 ms: the cloud must assemble it and answer correctly. A
 * QUEUE_FULL answer (the crowd filled the queue) is counted and the INFER trickled again.
 */
async function slowSender(o: MixOptions, hello: HelloMessage, i: number, counts: MixCounts): Promise<void> {
  const cut = o.cuts[0]!;
  const id = 7 + i;
  const messages: Message[] = [];
  let wake: (() => void) | null = null;
  let closed = false;
  const reader = new FrameReader<Message>({ onMessage: (m) => (messages.push(m), wake?.()), onError: () => s.destroy() });
  const s = net.connect(o.port, '127.0.0.1');
  s.on('data', (d) => reader.push(d));
  s.on('error', () => {});
  s.on('close', () => ((closed = true), wake?.()));
  await new Promise((r) => s.once('connect', r));
  const trickle = async (bytes: Buffer) => {
    for (let at = 0; at < bytes.length && !closed; at += 16) {
      s.write(bytes.subarray(at, at + 16));
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const next = async (): Promise<Message | null> => {
    while (messages.length === 0 && !closed) await new Promise<void>((r) => (wake = r));
    return messages.shift() ?? null;
  };
  try {
    await trickle(frame(hello));
    if ((await next())?.type !== 'WELCOME') return;
    for (;;) {
      await trickle(inferFrame(o, id, cut));
      const m = await next();
      if (m?.type === 'ERROR' && m.code === 'QUEUE_FULL' && m.id === id) {
        counts.slow.queueFull++;
        continue;
      }
      if (m?.type === 'RESULT') {
        counts.slow.answered++;
        if (m.id === id && same(m.tensor.data, o.expected.get(cut.layer)!)) counts.slow.correct++;
      }
      return;
    }
  } finally {
    s.destroy();
  }
}

/** HELLO and a burst of INFERs in one write, far more than the queue holds: each answered RESULT or QUEUE_FULL. */
async function greedySender(o: MixOptions, hello: HelloMessage, counts: MixCounts): Promise<void> {
  const cut = o.cuts[0]!;
  const n = o.greedyBurst ?? 200;
  const one = inferFrame(o, 0, cut);
  const burst = Buffer.alloc(one.length * n);
  for (let i = 0; i < n; i++) {
    one.copy(burst, i * one.length);
    burst.writeUInt32LE(i, i * one.length + 16); // the request id
  }
  counts.greedy.sent += n;
  const { messages } = await rawClient(o, Buffer.concat([frame(hello), burst]), (m) => m.filter((x) => x.type !== 'WELCOME').length >= n);
  for (const m of messages) {
    if (m.type === 'WELCOME') continue;
    if (m.type === 'RESULT') {
      counts.greedy.results++;
      if (same(m.tensor.data, o.expected.get(cut.layer)!)) counts.greedy.correct++;
    } else if (m.type === 'ERROR' && m.code === 'QUEUE_FULL' && m.id !== undefined) counts.greedy.queueFull++;
    else counts.greedy.other++;
  }
}

/** One of several ways to break the protocol; each must get an ERROR and a close, nothing else. */
async function malformed(o: MixOptions, hello: HelloMessage, i: number, counts: MixCounts): Promise<void> {
  const r = rng(100 + i);
  const random = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(r() * 256)));
  const infer = inferFrame(o, 1, o.cuts[0]!);
  const kinds: Buffer[] = [
    random,
    handFrame({ type: MESSAGE_CODES.PING, header: { nonce: 1, time: 0 }, frameLength: 2 ** 31 }), // far past the cloud's cap
    Buffer.concat([frame(hello), infer.subarray(0, 40), Buffer.alloc(infer.length - 40, 0xff)]), // a header gone wrong
    infer, // an INFER before HELLO
  ];
  counts.malformed.clients++;
  const { messages, closed } = await rawClient(o, kinds[i % kinds.length]!, () => false);
  if (messages.some((m) => m.type === 'ERROR')) counts.malformed.errors++;
  if (closed) counts.malformed.closed++;
}
