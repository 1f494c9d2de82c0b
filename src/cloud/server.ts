import net from 'node:net';
import { Connection } from '../protocol/connection.js';
import { PROTOCOL_VERSION } from '../protocol/constants.js';
import { ConnectionClosedError, ProtocolError, type RemoteErrorCode } from '../protocol/errors.js';
import type { CloudStressState, ConditionMessage, HelloMessage, InferMessage, Message, ServerInfo } from '../protocol/messages.js';
import { RequestQueue } from './request-queue.js';
import { StressLease, describeStress } from './stress-lease.js';
import { errorMessage } from '../errors.js';
import { BadRequest, type ServedModel } from './inference-service.js';
import { decodeInfer } from './decode-infer.js';
import { preloadImageDecoder } from './image-input.js';
import { tokenMatches } from './token.js';

const MAX_U32 = 0xffffffff;

/** Cloud-side stress on request of an edge (CONDITION); provided by the conditions layer. */
export interface CloudStress {
  /** starts (or replaces) the stress; resolves once it is in effect, with what was started */
  set(cpuPct: number, memPct: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface CloudServerOptions {
  port: number;
  host: string;
  /** largest frame accepted (dnn-cloud: the largest INFER its network takes, at most --max-frame) */
  maxFrame: number;
  token?: string;
  /** a client that has not said HELLO by then is dropped */
  helloTimeoutMs?: number;
  stress?: CloudStress;
  /** complete INFERs that may wait, all connections together (default 32) */
  queue?: number;
  /** inferences computed at once (default 1) */
  concurrency?: number;
  log: (line: string) => void;
}

export const DEFAULT_QUEUE = 32;
export const DEFAULT_CONCURRENCY = 1;

/** One connected edge, as the queue, the stress lease and the log name it. */
interface Client {
  n: number;
  conn: Connection;
  address: string;
  /** from its HELLO */
  host?: string;
}

function describeClient(c: Client): string {
  return `client ${c.n} (${c.host ?? 'no HELLO yet'}, ${c.address})`;
}

const NO_STRESSOR: Record<string, unknown> = { kind: 'none', pids: [] };

/**
 * Serves any number of edges at once. Each connection is read on its own: a slow or hostile
 * client is dropped with an ERROR and one log line, the others keep being served. Complete INFERs
 * of every connection wait in one bounded FIFO queue (request-queue.ts) and are computed
 * `concurrency` at a time while the connections keep being read; each RESULT goes back as its
 * request completes, with its id, its queue time and the cloud stress in force. Cloud stress is a
 * cloud-wide lease (stress-lease.ts).
 */
export class CloudServer {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private readonly queue: RequestQueue<Client>;
  private readonly lease = new StressLease<Client>();
  /** the stress running now and its epoch (bumped on every change): what RESULTs report */
  private inForce: CloudStressState = { cpu: 0, mem: 0, epoch: 0 };
  /** the last change of stress, settled once it is in effect (with what was started) */
  private applying: Promise<Record<string, unknown>> = Promise.resolve(NO_STRESSOR);
  private nextClient = 1;

  constructor(
    private readonly service: ServedModel,
    private readonly info: ServerInfo,
    private readonly opts: CloudServerOptions,
  ) {
    // a connection over its share of the queue stops being read: TCP pushes back on that edge alone
    this.queue = new RequestQueue<Client>(opts.queue ?? DEFAULT_QUEUE, opts.concurrency ?? DEFAULT_CONCURRENCY, (c, over) => c.conn.hold(over));
    this.server = net.createServer((socket) => void this.serve(socket));
  }

  /** The queue's counters (requests started, refused, dropped, its peak), for logs and benches. */
  get queueStats(): { started: number; refused: number; dropped: number; peak: number; capacity: number; concurrency: number } {
    const q = this.queue;
    return { started: q.started, refused: q.refused, dropped: q.dropped, peak: q.peak, capacity: q.capacity, concurrency: q.concurrency };
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  /** Stops accepting, closes every connection and ends any stress it started. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.connections].map((c) => c.close(500)));
    await closed;
    await this.applying.catch(() => undefined);
    await this.opts.stress?.stop();
  }

  private async serve(socket: net.Socket): Promise<void> {
    const conn = new Connection(socket, { maxFrame: this.opts.maxFrame });
    const client: Client = { n: this.nextClient++, conn, address: `${socket.remoteAddress}:${socket.remotePort}` };
    const name = `client ${client.n} (${client.address})`;
    this.connections.add(conn);
    const log = (line: string) => this.opts.log(`${name}: ${line}`);
    try {
      const hello = await this.handshake(conn, log);
      if (!hello) return;
      client.host = hello.client.host;
      // Each message is handled as its frame completes (no promise hop): an INFER is only checked
      // and queued, so the connection goes on reading while requests compute.
      await conn.serve((m) => this.handle(client, m, hello, log));
    } catch (e) {
      if (e instanceof ProtocolError) log(`protocol error, closed: ${e.message}`);
      else if (e instanceof ConnectionClosedError) log(e.cause ? `connection lost: ${e.message}` : 'disconnected');
      else log(`closed after an internal error: ${errorMessage(e)}`);
    } finally {
      this.connections.delete(conn);
      const dropped = this.queue.drop(client);
      if (dropped > 0) log(`dropped its ${dropped} queued requests unrun`);
      await conn.close(1000); // lets a pending ERROR reach the peer before the socket goes
      // its stress lease ends with it; the last holder of a stress gone, the stress stops
      if (this.lease.release(client)) this.applyTarget(log);
      await this.applying.catch((e: unknown) => log(`changing the stress failed: ${errorMessage(e)}`));
    }
  }

  private async handshake(conn: Connection, log: (l: string) => void): Promise<HelloMessage | null> {
    const timeout = this.opts.helloTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const next = conn.next();
    next.catch(() => {}); // after a timeout the read fails when we close; nobody waits for it then
    const first = await Promise.race([
      next,
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeout))),
    ]).finally(() => clearTimeout(timer));
    const refuse = (code: RemoteErrorCode, message: string) => {
      log(`refused: ${message}`);
      this.sendError(conn, code, message);
      return null;
    };
    if (first === null) return refuse('TIMEOUT', `no HELLO within ${timeout / 1000} s`);
    if (first.type !== 'HELLO') return refuse('UNEXPECTED_MESSAGE', `expected HELLO first, got ${first.type}`);
    // the token is checked before anything else is looked at
    if (!tokenMatches(this.opts.token, first.token)) {
      return refuse('UNAUTHORIZED', first.token === undefined ? 'this cloud requires a token (--token or DNN_TOKEN)' : 'wrong token');
    }
    if (first.version !== PROTOCOL_VERSION) {
      return refuse('VERSION_MISMATCH', `protocol version ${first.version} but this cloud speaks ${PROTOCOL_VERSION}; run the same release of the tool on both ends`);
    }
    const n = this.service.network;
    if (first.network !== n.id || first.fingerprint !== n.fingerprint) {
      return refuse(
        'FINGERPRINT_MISMATCH',
        `edge runs ${first.network} (fingerprint ${first.fingerprint.slice(0, 12)}, seed ${first.seed}) but this cloud serves ${n.id} ` +
          `(fingerprint ${n.fingerprint.slice(0, 12)}, seed ${n.seed}); start both with the same network, --seed and --input-shape`,
      );
    }
    conn.send({ type: 'WELCOME', version: PROTOCOL_VERSION, server: this.info });
    log(`HELLO from ${first.client.host} (${first.backend}), serving ${n.id}`);
    // an edge that announces its preprocessing may send camera frames
    if (first.preprocess) preloadImageDecoder();
    return first;
  }

  /** Answers one message; false = the connection was refused and must close. */
  private handle(client: Client, m: Message, hello: HelloMessage, log: (l: string) => void): boolean | Promise<boolean> {
    const { conn } = client;
    switch (m.type) {
      case 'INFER':
        return this.enqueue(client, m, hello, log);
      case 'PING':
        conn.send({ type: 'PONG', nonce: m.nonce, time: Date.now() });
        return true;
      case 'CONDITION':
        return this.condition(client, m, log);
      default:
        log(`refused: unexpected ${m.type}`);
        this.sendError(conn, 'UNEXPECTED_MESSAGE', `a cloud does not accept ${m.type} here`);
        return false;
    }
  }

  /**
   * Checks an INFER as it arrives (its point and dims: a mismatch means an edge of another build,
   * the connection is closed) and queues it; a full queue answers QUEUE_FULL at once.
   */
  private enqueue(client: Client, m: InferMessage, hello: HelloMessage, log: (l: string) => void): boolean {
    const received = performance.now();
    let cut: string;
    let cut2: string | undefined;
    try {
      cut = this.cutAt(m.cut);
      cut2 = m.cut2 === undefined ? undefined : this.cutAt(m.cut2);
      this.service.check(cut, m.tensor.shape, cut2);
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      log(`refused INFER ${m.id}: ${e.message}`);
      this.sendError(client.conn, e.code, e.message, m.id);
      return false;
    }
    const queued = this.queue.push(client, (queuedMs) => this.compute(client, m, cut, cut2, hello, queuedMs, log), received);
    if (!queued) {
      const q = this.queue;
      this.sendError(client.conn, 'QUEUE_FULL', `the cloud's queue of ${q.capacity} requests is full (${q.running} computing); request ${m.id} was not run`, m.id);
    }
    return true;
  }

  /**
   * One request in its compute slot: decode (timed apart: the RESULT's decode time), compute, answer.
   * `queuedMs`: frame complete -> this slot started. A payload that does not decode fails this
   * request alone; anything unforeseen closes its connection, never the cloud.
   */
  private async compute(client: Client, m: InferMessage, cut: string, cut2: string | undefined, hello: HelloMessage, queuedMs: number, log: (l: string) => void): Promise<void> {
    const { conn } = client;
    if (conn.socket.destroyed) return;
    const encoded = m.codec !== undefined && m.codec.id !== 0;
    try {
      // raw is a view on the frame, no work
      const td = performance.now();
      const x = encoded ? await decodeInfer(m, hello.preprocess) : { data: m.tensor.data, shape: m.tensor.shape };
      const t0 = performance.now();
      const stress = this.inForce;
      const r = await this.service.infer(cut, x, cut2);
      const cloudUs = (performance.now() - t0) * 1000;
      const decodeUs = encoded ? Math.min(Math.round((t0 - td) * 1000), MAX_U32) : 0;
      const queueUs = Math.min(Math.round(queuedMs * 1000), MAX_U32);
      // a relay's reply carries the cloud's own times and stress in place of these
      const own = { cloudUs, ...(decodeUs > 0 ? { decodeUs } : {}), queueUs, stress };
      this.trySend(conn, { type: 'RESULT', id: m.id, ...own, ...r.reply, tensor: { data: r.value.data, shape: r.value.shape } });
    } catch (e) {
      if (e instanceof BadRequest) {
        log(`refused INFER ${m.id}: ${e.message}`);
        this.sendError(conn, e.code, e.message, m.id);
        // a payload that does not decode, or a relay's failed request to the cloud, fails that request only: the stream is intact
        if (e.code !== 'BAD_TENSOR' && e.code !== 'NEXT_HOP_FAILED' && e.code !== 'QUEUE_FULL') conn.destroy();
        return;
      }
      log(`closed after an internal error in INFER ${m.id}: ${errorMessage(e)}`);
      conn.destroy();
    }
  }

  /**
   * A CONDITION: granted when no other connected edge holds a different stress (then acknowledged
   * once the stress is in effect), else CONDITION_CONFLICT naming the holders.
   */
  private async condition(client: Client, m: ConditionMessage, log: (l: string) => void): Promise<boolean> {
    const { conn } = client;
    const want = { cpu: m.cpu, mem: m.mem };
    if (!this.opts.stress && (m.cpu > 0 || m.mem > 0)) {
      this.sendError(conn, 'UNSUPPORTED', 'this cloud cannot apply stress', m.id);
      return false;
    }
    const answer = this.lease.request(client, want);
    if (!answer.granted) {
      const who = answer.holders.map(describeClient).join(', ');
      log(`refused CONDITION ${describeStress(want)}: ${describeStress(answer.held)} is held by ${who}`);
      this.sendError(
        conn,
        'CONDITION_CONFLICT',
        `cloud stress ${describeStress(answer.held)} is held by ${who} until ${answer.holders.length > 1 ? 'they disconnect or ask' : 'it disconnects or asks'} for another, ` +
          `and this edge asked for ${describeStress(want)}: measure one cloud condition at a time on a shared cloud, or give each edge its own dnn-cloud`,
        m.id,
      );
      return true;
    }
    if (answer.changed) this.applyTarget(log);
    try {
      // a stress being started for another holder of the same one is awaited too: ACK means in effect
      const stressor = await this.applying;
      this.trySend(conn, { type: 'CONDITION_ACK', id: m.id, stressor });
    } catch (e) {
      this.lease.release(client);
      this.sendError(conn, 'STRESS_FAILED', `the cloud could not apply ${describeStress(want)}: ${errorMessage(e)}`, m.id);
    }
    return true;
  }

  /** Puts the lease's stress in effect, after any change still under way; bumps the epoch. */
  private applyTarget(log: (l: string) => void): void {
    const target = this.lease.target;
    const stress = this.opts.stress;
    this.applying = this.applying
      .catch(() => undefined)
      .then(async () => {
        if (!stress) return NO_STRESSOR; // only "no stress" is granted without a stressor
        const epoch = this.inForce.epoch + 1;
        try {
          const started = await stress.set(target.cpu, target.mem);
          this.inForce = { cpu: Math.round(target.cpu), mem: Math.round(target.mem), epoch };
          log(`cloud stress ${describeStress(target)} in effect (stress epoch ${epoch})`);
          return started;
        } catch (e) {
          // set() stopped the previous stress before failing to start this one: none runs
          this.inForce = { cpu: 0, mem: 0, epoch };
          log(`cloud stress ${describeStress(target)} failed (stress epoch ${epoch}, none in effect): ${errorMessage(e)}`);
          throw e;
        }
      });
  }

  /** The point INFER names by its index into the WELCOME's list of cuts. */
  private cutAt(index: number): string {
    const cuts = this.info.cuts;
    const layer = cuts[index];
    if (layer === undefined) {
      throw new BadRequest(`cut index ${index} is out of range: this cloud lists ${cuts.length} points (0..${cuts.length - 1}, see dnn-cut ${this.service.network.id})`, 'UNKNOWN_CUT');
    }
    return layer;
  }

  private sendError(conn: Connection, code: RemoteErrorCode, message: string, id?: number): void {
    this.trySend(conn, id === undefined ? { type: 'ERROR', code, message } : { type: 'ERROR', code, message, id });
  }

  private trySend(conn: Connection, m: Message): void {
    try {
      conn.send(m);
    } catch {
      // the socket is already gone: nothing to tell
    }
  }
}
