import net from 'node:net';
import { Connection } from '../protocol/connection.js';
import { PROTOCOL_VERSION } from '../protocol/constants.js';
import { ConnectionClosedError, ProtocolError, type RemoteErrorCode } from '../protocol/errors.js';
import type { HelloMessage, Message, ServerInfo } from '../protocol/messages.js';
import { errorMessage } from '../errors.js';
import { BadRequest, type InferenceService } from './inference-service.js';
import { decodeInfer } from './decode-infer.js';
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
  maxFrame: number;
  token?: string;
  /** a client that has not said HELLO by then is dropped */
  helloTimeoutMs?: number;
  stress?: CloudStress;
  log: (line: string) => void;
}

/**
 * Serves any number of edges at once. Each connection is handled on its own: a slow or hostile
 * client is dropped with an ERROR and one log line, the others keep being served.
 */
export class CloudServer {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private stressOwner: Connection | null = null;
  private nextClient = 1;

  constructor(
    private readonly service: InferenceService,
    private readonly info: ServerInfo,
    private readonly opts: CloudServerOptions,
  ) {
    this.server = net.createServer((socket) => void this.serve(socket));
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
    await this.opts.stress?.stop();
  }

  private async serve(socket: net.Socket): Promise<void> {
    const name = `client ${this.nextClient++} (${socket.remoteAddress}:${socket.remotePort})`;
    const conn = new Connection(socket, { maxFrame: this.opts.maxFrame });
    this.connections.add(conn);
    const log = (line: string) => this.opts.log(`${name}: ${line}`);
    try {
      const hello = await this.handshake(conn, log);
      if (!hello) return;
      // Each message is handled as its frame completes (no promise hop), one at a time.
      await conn.serve((m) => this.handle(conn, m, hello, log));
    } catch (e) {
      if (e instanceof ProtocolError) log(`protocol error, closed: ${e.message}`);
      else if (e instanceof ConnectionClosedError) log(e.cause ? `connection lost: ${e.message}` : 'disconnected');
      else log(`closed after an internal error: ${errorMessage(e)}`);
    } finally {
      this.connections.delete(conn);
      await conn.close(1000); // lets a pending ERROR reach the peer before the socket goes

      if (this.stressOwner === conn) {
        // the edge that asked for stress is gone: do not leave the machine loaded
        this.stressOwner = null;
        await this.opts.stress?.stop().catch((e) => log(`stopping stress failed: ${errorMessage(e)}`));
      }
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
    return first;
  }

  /** Answers one message; false = the connection was refused and must close. */
  private async handle(conn: Connection, m: Message, hello: HelloMessage, log: (l: string) => void): Promise<boolean> {
    switch (m.type) {
      case 'INFER': {
        const encoded = m.codec !== undefined && m.codec.id !== 0;
        try {
          const cut = this.cutAt(m.cut);
          // decoding (and a camera frame's preprocessing) is timed apart from the compute; raw is a view, no work
          const td = performance.now();
          const x = encoded ? await decodeInfer(m, hello.preprocess) : { data: m.tensor.data, shape: m.tensor.shape };
          const t0 = performance.now();
          const r = await this.service.infer(cut, x);
          const cloudUs = (performance.now() - t0) * 1000;
          const decodeUs = encoded ? Math.min(Math.round((t0 - td) * 1000), MAX_U32) : 0;
          conn.send({ type: 'RESULT', id: m.id, cloudUs, ...(decodeUs > 0 ? { decodeUs } : {}), tensor: { data: r.value.data, shape: r.value.shape } });
          return true;
        } catch (e) {
          if (!(e instanceof BadRequest)) throw e;
          log(`refused INFER ${m.id}: ${e.message}`);
          this.sendError(conn, e.code, e.message);
          // a payload that does not decode fails its request only: the stream is intact
          return e.code === 'BAD_TENSOR';
        }
      }
      case 'PING':
        conn.send({ type: 'PONG', nonce: m.nonce, time: Date.now() });
        return true;
      case 'CONDITION': {
        if (!this.opts.stress) {
          this.sendError(conn, 'UNSUPPORTED', 'this cloud cannot apply stress');
          return false;
        }
        if (this.stressOwner && this.stressOwner !== conn) {
          log(`takes over the stress set by another client`);
        }
        this.stressOwner = m.cpu === 0 && m.mem === 0 ? null : conn;
        try {
          const stressor = await this.opts.stress.set(m.cpu, m.mem);
          log(`stress cpu ${m.cpu} % mem ${m.mem} % in effect`);
          conn.send({ type: 'CONDITION_ACK', id: m.id, stressor });
        } catch (e) {
          log(`stress cpu ${m.cpu} % mem ${m.mem} % failed: ${errorMessage(e)}`);
          this.sendError(conn, 'STRESS_FAILED', `the cloud could not apply cpu ${m.cpu} % mem ${m.mem} %: ${errorMessage(e)}`);
        }
        return true;
      }
      default:
        log(`refused: unexpected ${m.type}`);
        this.sendError(conn, 'UNEXPECTED_MESSAGE', `a cloud does not accept ${m.type} here`);
        return false;
    }
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

  private sendError(conn: Connection, code: RemoteErrorCode, message: string): void {
    try {
      conn.send({ type: 'ERROR', code, message });
    } catch {
      // the socket is already gone: nothing to tell
    }
  }
}
