/**
 * Protocol overhead benchmark: one INFER + small RESULT round trip over loopback through the project's
 * framing, against a bare socket doing the same work (4-byte length + raw bytes, 16-byte reply),
 * interleaved rep by rep. Servers run in a worker thread so sender and receiver each have a core.
 * Prints one JSON line per size, then the published tool's hand-off of the 12.8 MB tensor for scale.
 *   npm run bench:protocol        (env: BENCH_REPS to force the rep count, BENCH_JIT_WARMUP the warm-up
 *                                 round trips, SHARED_DIR for ../shared)
 */
import { execFile } from 'node:child_process';
import { median } from '../src/analysis/stats.js';
import { existsSync } from 'node:fs';
import { type AddressInfo, type Server, type Socket, connect as netConnect, createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { type Connection, Connection as Conn, connect } from '../src/protocol/connection.js';

/** Activation shapes of real partition points; bytes = 100352, 602112, 3211264, 12845056. */
const SHAPES = [
  [1, 7, 7, 512],
  [1, 28, 28, 192],
  [1, 56, 56, 256],
  [1, 224, 224, 64],
];
/**
 * Round trips of each method before any timing, so both run JIT-compiled code (first size included).
 * Functions called once a message tier up slowly: with --trace-opt, the protocol's and node's stream
 * functions are still being optimized past 2000 round trips (300 left the first size ~0.1x high).
 */
const JIT_WARMUP = Number(process.env['BENCH_JIT_WARMUP'] ?? 2500);
const WARMUP = 10;
const REPLY_BYTES = 16;
const HOST = '127.0.0.1';

// ---- servers (worker thread) ----

/** Served as the cloud serves (Connection.serve), replying at once. */
function projectServer(c: Connection): Promise<void> {
  const out = { shape: [1, 4], data: new Float32Array(REPLY_BYTES / 4) };
  return c.serve((m) => {
    if (m.type === 'INFER') c.send({ type: 'RESULT', id: m.id, cloudUs: 0, tensor: out });
  });
}

/** The bare baseline: u32 LE length, bytes; slice when whole in one chunk, else copy once; reply 16 bytes. */
function rawServer(socket: Socket): void {
  socket.setNoDelay(true);
  const reply = Buffer.alloc(REPLY_BYTES);
  const len = Buffer.alloc(4);
  let lenFill = 0;
  let body: Buffer | null = null;
  let fill = 0;
  socket.on('data', (chunk: Buffer) => {
    let pos = 0;
    while (pos < chunk.length) {
      if (body === null) {
        if (lenFill === 0 && chunk.length - pos >= 4) {
          const n = chunk.readUInt32LE(pos);
          if (chunk.length - pos - 4 >= n) {
            pos += 4 + n; // whole message in this chunk: a slice would do, nothing to copy
            socket.write(reply);
            continue;
          }
          body = Buffer.allocUnsafeSlow(n);
          pos += 4;
        } else {
          const k = Math.min(4 - lenFill, chunk.length - pos);
          chunk.copy(len, lenFill, pos, pos + k);
          lenFill += k;
          pos += k;
          if (lenFill < 4) return;
          lenFill = 0;
          body = Buffer.allocUnsafeSlow(len.readUInt32LE(0));
        }
        fill = 0;
      }
      const k = Math.min(body.length - fill, chunk.length - pos);
      chunk.copy(body, fill, pos, pos + k);
      fill += k;
      pos += k;
      if (fill === body.length) {
        body = null;
        socket.write(reply);
      }
    }
  });
  socket.on('error', () => socket.destroy());
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, HOST, r));
  return (server.address() as AddressInfo).port;
}

async function runServers(): Promise<void> {
  const project = createServer((s) => {
    projectServer(new Conn(s)).catch(() => s.destroy());
  });
  const raw = createServer(rawServer);
  parentPort!.postMessage({ project: await listen(project), raw: await listen(raw) });
}

// ---- client (main thread) ----

class RawClient {
  private waiting: (() => void) | null = null;
  private got = 0;
  private readonly len = Buffer.alloc(4);
  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.got += d.length;
      if (this.got >= REPLY_BYTES && this.waiting) {
        this.got -= REPLY_BYTES;
        const w = this.waiting;
        this.waiting = null;
        w();
      }
    });
  }
  roundTrip(data: Float32Array): Promise<void> {
    this.len.writeUInt32LE(data.byteLength, 0);
    this.socket.cork();
    this.socket.write(this.len);
    this.socket.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.socket.uncork();
    return new Promise((r) => (this.waiting = r));
  }
}


const round = (x: number, d = 3): number => Number(x.toFixed(d));

function repsFor(bytes: number): number {
  const forced = Number(process.env['BENCH_REPS']);
  if (forced > 0) return forced;
  return Math.max(100, Math.min(400, Math.round(2e9 / bytes)));
}

function sharedDir(): string {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  return process.env['SHARED_DIR'] ?? resolve(root, '../shared');
}

/** The published tool's hand-off of the same tensor, for scale; null with a reason when it cannot run. */
function seedProtocol(shape: number[], reps: number): Promise<{ ms: number } | { skipped: string }> {
  const python = '/usr/bin/python3';
  const tool = resolve(sharedDir(), 'tools/seed_protocol.py');
  if (!existsSync(python)) return Promise.resolve({ skipped: `${python} not found` });
  if (!existsSync(tool)) return Promise.resolve({ skipped: `${tool} not found (set SHARED_DIR)` });
  return new Promise((done) => {
    execFile(python, [tool, shape.join(','), String(reps)], { timeout: 300_000 }, (err, stdout, stderr) => {
      const m = /median_ms=([\d.]+)/.exec(stdout);
      if (m) done({ ms: Number(m[1]) });
      else done({ skipped: /No module named 'numpy'/.test(stderr) ? `${python} has no numpy` : `seed tool failed: ${(err?.message ?? stderr).split('\n')[0]}` });
    });
  });
}

async function main(): Promise<void> {
  const worker = new Worker(fileURLToPath(import.meta.url));
  const ports = await new Promise<{ project: number; raw: number }>((r) => worker.once('message', r));
  const project = await connect(ports.project, HOST);
  const raw = new RawClient(await new Promise<Socket>((r) => { const s = netConnect(ports.raw, HOST, () => r(s)); }));
  let id = 0;
  const viaProject = async (shape: number[], data: Float32Array): Promise<number> => {
    const t0 = performance.now();
    await project.request({ type: 'INFER', id: ++id, cut: 0, tensor: { shape, data } }, 'RESULT');
    return performance.now() - t0;
  };
  const viaRaw = async (data: Float32Array): Promise<number> => {
    const t0 = performance.now();
    await raw.roundTrip(data);
    return performance.now() - t0;
  };

  const small = new Float32Array(SHAPES[0]!.reduce((a, b) => a * b, 1));
  for (let i = 0; i < JIT_WARMUP; i++) {
    await viaProject(SHAPES[0]!, small);
    await viaRaw(small);
  }

  let largest = 0;
  for (const shape of SHAPES) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
    const reps = repsFor(data.byteLength);
    const p: number[] = [];
    const r: number[] = [];
    for (let i = 0; i < WARMUP; i++) {
      await viaProject(shape, data);
      await viaRaw(data);
    }
    // Alternate which goes first so neither always runs on a warmer cache or a quieter moment.
    for (let i = 0; i < reps; i++) {
      if (i % 2 === 0) {
        p.push(await viaProject(shape, data));
        r.push(await viaRaw(data));
      } else {
        r.push(await viaRaw(data));
        p.push(await viaProject(shape, data));
      }
    }
    const pm = median(p);
    const rm = median(r);
    largest = pm;
    console.log(JSON.stringify({ bytes: data.byteLength, project_ms: round(pm), raw_ms: round(rm), ratio: round(pm / rm), reps }));
  }
  await project.close();
  await worker.terminate();

  const last = SHAPES[SHAPES.length - 1]!;
  const seed = await seedProtocol(last, 20);
  const bytes = last.reduce((a, b) => a * b, 4);
  if ('ms' in seed) {
    console.log(JSON.stringify({ bytes, seed_protocol_ms: seed.ms, project_ms: round(largest), speedup: round(seed.ms / largest, 1) }));
  } else {
    console.log(JSON.stringify({ bytes, seed_protocol: `not run: ${seed.skipped}` }));
  }
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
} else {
  void runServers();
}
