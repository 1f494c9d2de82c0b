import { CODEC_IDS } from '../protocol/codecs.js';
import { codecById } from '../codecs/registry.js';
import { connect, type Connection } from '../protocol/connection.js';
import { RemoteError, isConnectionFailure, isFatalRefusal, type ConnectionFailure, type RemoteErrorCode } from '../protocol/errors.js';
import { PROTOCOL_VERSION } from '../protocol/constants.js';
import type { ConditionAckMessage, ConditionMessage, HelloMessage, InferMessage, Message, ResultMessage, ServerInfo } from '../protocol/messages.js';
import type { CutPoint } from '../model/partition.js';
import type { HostTensor } from '../engine/split-runner.js';
import { UserError, errorMessage } from '../errors.js';
import { CloudStressMismatch, ConditionConflict, GiveUp, LinkFailure, type CloudLink, type CloudStressAck, type EncodedCrossing, type InferOptions, type InferReply } from './cloud-link.js';

export interface LinkOptions {
  host: string;
  port: number;
  hello: HelloMessage;
  maxFrame: number;
  /** one request (INFER, CONDITION) taking longer than this counts as failed */
  requestTimeoutMs: number;
  /** a cloud away longer than this ends the run */
  giveUpMs: number;
  log: (line: string) => void;
}

/** A request in flight: what it waits for, how to settle it, and the stress its RESULT must carry. */
interface Pending {
  expect: 'RESULT' | 'CONDITION_ACK';
  resolve(reply: ResultMessage | ConditionAckMessage): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  /** INFER: the stress this edge held when it sent the request (its last acknowledged CONDITION) */
  asked: { cpu: number; mem: number };
}

const NO_STRESS = { cpu: 0, mem: 0 };

/**
 * The edge's connection to a dnn-cloud over the binary protocol. `infer` may be called concurrently:
 * requests in flight on the connection are matched to their replies by id, in whatever order the
 * cloud completes them. An ERROR naming a request fails that request alone; an ERROR without an id,
 * a reply that makes no sense or a dropped connection fails every request in flight. Any failure of
 * a request becomes a LinkFailure (QUEUE_FULL: reason 'queue-full', the connection intact);
 * reconnect() retries with exponential backoff until --give-up and re-sends the CONDITION this edge
 * holds, so a restarted cloud continues under the same condition. Every RESULT's stress is checked
 * against the one this edge holds: a mismatch is a CloudStressMismatch (exit 2), never a sample.
 */
export class ProtocolLink implements CloudLink {
  private conn: Connection | null = null;
  private nextId = 1;
  /** the stress this edge asks for (its last CONDITION) */
  private stress: { cpu: number; mem: number } = NO_STRESS;
  /** whether it ever sent a CONDITION (then a reconnect re-sends it, 0/0 included: it holds that lease) */
  private stressSent = false;
  /** the stress the cloud acknowledged: what RESULTs must carry (none before any CONDITION) */
  private held: { cpu: number; mem: number } = NO_STRESS;
  private readonly pending = new Map<number, Pending>();
  server: ServerInfo | null = null;
  /** Where each point is in the WELCOME's list of cuts: INFER names a point by that index. */
  private cutIndex = new Map<string, number>();

  private constructor(private readonly opts: LinkOptions) {}

  /** Connects (waiting for a cloud that is still starting, up to --give-up) and proves the fingerprint. */
  static async open(opts: LinkOptions): Promise<ProtocolLink> {
    const link = new ProtocolLink(opts);
    await link.connectWithBackoff();
    return link;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  async infer(cut: CutPoint, tensor: HostTensor, encoded?: EncodedCrossing, o: InferOptions = {}): Promise<InferReply> {
    const index = this.indexOf(cut);
    const second = o.cut2 === undefined ? {} : { cut2: this.indexOf(o.cut2, true) };
    const r = (await this.request({ type: 'INFER', id: this.takeId(), cut: index, ...second, tensor: { data: tensor.data, shape: tensor.shape }, ...(encoded ?? {}) }, 'RESULT')) as ResultMessage;
    const stress = r.stress ?? { ...NO_STRESS, epoch: 0 };
    const reply: InferReply = { output: resultTensor(r), cloudMs: r.cloudUs / 1000, decodeMs: (r.decodeUs ?? 0) / 1000, queueMs: (r.queueUs ?? 0) / 1000, cloudStress: stress };
    if (r.relay) reply.relay = { edgeMs: r.relay.edgeUs / 1000, transferMs: r.relay.transferUs / 1000 };
    else if (o.cut2 !== undefined) throw new LinkFailure(`the relay answered the two-cut INFER ${r.id} without its relay times`, 'error-reply');
    return reply;
  }

  /** INFER names a point by its index in the WELCOME's list; a second cut only to a dnn-relay. */
  private indexOf(cut: CutPoint, second = false): number {
    if (second && !this.server?.relay) {
      const { host, port } = this.opts;
      throw new UserError(`${host}:${port} is a dnn-cloud, not a dnn-relay: three tiers need \`dnn-relay <cloud host> <network>\` there`);
    }
    const index = this.cutIndex.get(cut.layer);
    if (index === undefined) {
      // The fingerprint matched, so both ends built the same points: a cloud that lists another set is not this release.
      throw new UserError(`the cloud does not list point '${cut.layer}' among its ${this.cutIndex.size} cuts; run the same release of the tool on both ends`);
    }
    return index;
  }

  async setCloudStress(cpu: number, mem: number): Promise<CloudStressAck | null> {
    this.stress = { cpu, mem };
    this.stressSent = true;
    return this.sendStress();
  }

  expectCloudStress(cpu: number, mem: number): void {
    this.held = { cpu, mem };
  }

  async reconnect(): Promise<void> {
    this.drop(new LinkFailure('reconnecting: the request was abandoned', 'reset'));
    await this.connectWithBackoff();
    if (this.stressSent) await this.sendStress();
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    await c?.close(1000);
    this.failAll(new LinkFailure('the link was closed', 'reset'));
  }

  private async sendStress(): Promise<CloudStressAck | null> {
    const { cpu, mem } = this.stress;
    const ack = (await this.request({ type: 'CONDITION', id: this.takeId(), cpu, mem }, 'CONDITION_ACK')) as ConditionAckMessage;
    this.held = { cpu, mem };
    const s = ack.stressor;
    return { cpu, mem, stressor: String(s.kind ?? s.stressor ?? 'unknown'), pids: Array.isArray(s.pids) ? (s.pids as number[]) : [] };
  }

  /** Request ids are u32 on the wire: they wrap rather than overflow. */
  private takeId(): number {
    const id = this.nextId;
    this.nextId = (id + 1) >>> 0;
    return id;
  }

  /** Sends an INFER or CONDITION and waits for the reply with its id. */
  private request(msg: InferMessage | ConditionMessage, expect: Pending['expect']): Promise<ResultMessage | ConditionAckMessage> {
    const conn = this.conn;
    if (!conn) return Promise.reject(new LinkFailure('not connected', 'reset'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // the cloud's state is unknown (wedged, or the reply lost): drop the connection, failing the rest too
        this.settle(msg.id)?.reject(new LinkFailure(`no ${expect} within ${this.opts.requestTimeoutMs / 1000} s`, 'timeout'));
        if (this.conn === conn) this.drop(new LinkFailure(`dropped after request ${msg.id} timed out`, 'reset'));
      }, this.opts.requestTimeoutMs);
      this.pending.set(msg.id, { expect, resolve, reject, timer, asked: this.held });
      try {
        conn.send(msg);
      } catch (e) {
        this.settle(msg.id);
        reject(toLinkFailure(e));
      }
    });
  }

  /** Takes request `id` out of the pending set (its timer stopped); undefined when it is not pending. */
  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (p === undefined) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  /** A message from the cloud after WELCOME: the reply to one request in flight, or the end of all of them. */
  private onReply(conn: Connection, m: Message): void {
    if (m.type === 'ERROR' && m.id !== undefined && this.pending.has(m.id)) {
      this.settle(m.id)!.reject(refusal(m.code, m.message, this.stress));
      return;
    }
    if (m.type === 'ERROR') {
      // the connection's error (no id, or an id nobody waits for): every request in flight fails
      this.dropConn(conn, refusal(m.code, m.message, this.stress));
      return;
    }
    const p = 'id' in m ? this.pending.get(m.id) : undefined;
    if (p === undefined || p.expect !== m.type) {
      const what = 'id' in m ? `${m.type} ${m.id}` : m.type;
      this.dropConn(conn, new LinkFailure(`the cloud sent ${what}, which answers no request in flight`, 'error-reply'));
      return;
    }
    this.settle(m.id);
    if (m.type === 'RESULT') {
      const mismatch = stressMismatch(m, p.asked, this.stressSent);
      if (mismatch) {
        p.reject(mismatch);
        return;
      }
    }
    p.resolve(m as ResultMessage | ConditionAckMessage);
  }

  /** Fails every request in flight with `error` and forgets the connection (destroyed). */
  private drop(error: Error): void {
    const c = this.conn;
    this.conn = null;
    c?.destroy();
    this.failAll(error);
  }

  private dropConn(conn: Connection, error: Error): void {
    if (this.conn === conn) this.drop(error);
    else conn.destroy();
  }

  private failAll(error: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id)!.reject(error);
  }

  private async connectWithBackoff(): Promise<void> {
    const { host, port, giveUpMs, log } = this.opts;
    const deadline = Date.now() + giveUpMs;
    let delay = 250;
    for (let attempt = 1; ; attempt++) {
      try {
        this.conn = await this.handshake();
        if (attempt > 1) log(`connected to ${host}:${port} after ${attempt} attempts`);
        return;
      } catch (e) {
        if (e instanceof UserError) throw e;
        if (Date.now() + delay > deadline) {
          throw new GiveUp(`the cloud at ${host}:${port} stayed unreachable for ${Math.round(giveUpMs / 1000)} s (${errorMessage(e)}); start dnn-cloud there or raise --give-up`);
        }
        if (attempt === 1 || attempt % 5 === 0) log(`waiting for the cloud at ${host}:${port} (${errorMessage(e)})`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private async handshake(): Promise<Connection> {
    const conn = await connect(this.opts.port, this.opts.host, { maxFrame: this.opts.maxFrame });
    try {
      const welcome = await conn.request(this.opts.hello, 'WELCOME');
      if (welcome.version !== PROTOCOL_VERSION) {
        throw new UserError(`the cloud speaks protocol version ${welcome.version}, this edge ${PROTOCOL_VERSION} (VERSION_MISMATCH); run the same release of the tool on both ends`);
      }
      this.server = welcome.server;
      this.cutIndex = new Map(welcome.server.cuts.map((layer, i) => [layer, i]));
    } catch (e) {
      conn.destroy();
      // Refusals no retry can fix (token, version, model) stop the run with exit 2.
      if (e instanceof RemoteError && isFatalRefusal(e.code)) throw new UserError(`the cloud refused this edge: ${e.peerMessage}`);
      throw e;
    }
    // From here every reply is matched to its request by id, as it arrives; the end of the
    // connection (closed, or broken by the cloud) fails whatever is still in flight.
    conn.serve((m) => this.onReply(conn, m)).then(
      () => this.dropConn(conn, new LinkFailure('the cloud closed the connection', 'reset')),
      (e: unknown) => this.dropConn(conn, isConnectionFailure(e) ? toLinkFailure(e) : new LinkFailure(errorMessage(e), 'error-reply')),
    );
    return conn;
  }
}

/**
 * What an ERROR from the cloud means to the run: QUEUE_FULL a refused request (the connection
 * intact), CONDITION_CONFLICT and the other fatal refusals a UserError, anything else a failed
 * request that is redone after a reconnect.
 */
function refusal(code: RemoteErrorCode, message: string, asked: { cpu: number; mem: number }): Error {
  if (code === 'QUEUE_FULL') return new LinkFailure(`peer reported QUEUE_FULL: ${message}`, 'queue-full');
  if (code === 'CONDITION_CONFLICT') return new ConditionConflict(`the cloud refused cloud stress cpu ${asked.cpu} % mem ${asked.mem} %: ${message}`);
  if (isFatalRefusal(code)) return new UserError(`the cloud refused this edge: ${message}`);
  return new LinkFailure(`peer reported ${code}: ${message}`, 'error-reply');
}

/**
 * A RESULT computed under another stress than the one asked for (percentages compared whole, as
 * the wire carries them); `sent`: whether this edge ever sent a CONDITION (else it expects none).
 */
function stressMismatch(r: ResultMessage, asked: { cpu: number; mem: number }, sent: boolean): CloudStressMismatch | null {
  const s = r.stress ?? { cpu: 0, mem: 0, epoch: 0 };
  if (s.cpu === Math.round(asked.cpu) && s.mem === Math.round(asked.mem)) return null;
  const wanted = sent ? `this edge asked for cpu ${asked.cpu} % mem ${asked.mem} %` : 'this edge has asked for no cloud stress yet (cpu 0 % mem 0 %)';
  return new CloudStressMismatch(
    `the cloud computed request ${r.id} under cloud stress cpu ${s.cpu} % mem ${s.mem} % (stress epoch ${s.epoch}) but ${wanted}: ` +
      'another edge changed the cloud\'s stress; run one condition at a time per cloud, or give each edge its own dnn-cloud',
  );
}

/**
 * The RESULT's output: raw as it came (a view on the frame), an encoded one decoded with its codec.
 * The cloud answers raw; a payload that does not decode is a failed request, redone like any other.
 */
function resultTensor(r: { tensor: HostTensor; codec?: { id: number; scale: number; zeroPoint: number; params: Uint8Array }; payload?: Uint8Array }): HostTensor {
  const { codec, payload, tensor } = r;
  if (codec === undefined || codec.id === CODEC_IDS.raw) return { data: tensor.data, shape: tensor.shape };
  try {
    const data = codecById(codec.id).decode({ payload: payload!, scale: codec.scale, zeroPoint: codec.zeroPoint, params: codec.params }, tensor.shape);
    return { data, shape: tensor.shape };
  } catch (e) {
    throw new LinkFailure(`the cloud's RESULT in tensor codec ${codec.id} does not decode: ${errorMessage(e)}`, 'error-reply');
  }
}

/** Why a request that failed this way is redone: the sample is lost either way, the link reconnects. */
const FAILURE_REASON: { [K in ConnectionFailure['kind']]: LinkFailure['reason'] } = {
  remote: 'error-reply', // the cloud answered ERROR
  protocol: 'error-reply', // the reply broke the protocol
  closed: 'reset', // the connection dropped
};

/** A failed request as the run loop sees it; anything that is not a link failure (a bug) is rethrown. */
function toLinkFailure(e: unknown): LinkFailure {
  if (e instanceof LinkFailure) return e;
  if (isConnectionFailure(e)) return new LinkFailure(e.message, FAILURE_REASON[e.kind]);
  throw e;
}
