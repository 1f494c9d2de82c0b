import { CODEC_IDS } from '../protocol/codecs.js';
import { codecById } from '../codecs/registry.js';
import { connect, type Connection } from '../protocol/connection.js';
import { RemoteError, isConnectionFailure, isFatalRefusal, type ConnectionFailure } from '../protocol/errors.js';
import { PROTOCOL_VERSION } from '../protocol/constants.js';
import type { HelloMessage, ServerInfo } from '../protocol/messages.js';
import type { CutPoint } from '../model/partition.js';
import type { HostTensor } from '../engine/split-runner.js';
import { UserError, errorMessage } from '../errors.js';
import { GiveUp, LinkFailure, type CloudLink, type CloudStressAck, type EncodedCrossing, type InferReply } from './cloud-link.js';

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

/**
 * The edge's connection to a dnn-cloud over the binary protocol. Any failure of a request becomes
 * a LinkFailure; reconnect() retries with exponential backoff until --give-up and re-applies the
 * cloud stress in force, so a restarted cloud continues under the same condition.
 */
export class ProtocolLink implements CloudLink {
  private conn: Connection | null = null;
  private nextId = 1;
  private stress: { cpu: number; mem: number } = { cpu: 0, mem: 0 };
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

  async infer(cut: CutPoint, tensor: HostTensor, encoded?: EncodedCrossing): Promise<InferReply> {
    const index = this.cutIndex.get(cut.layer);
    if (index === undefined) {
      // The fingerprint matched, so both ends built the same points: a cloud that lists another set is not this release.
      throw new UserError(`the cloud does not list point '${cut.layer}' among its ${this.cutIndex.size} cuts; run the same release of the tool on both ends`);
    }
    const r = await this.request({ type: 'INFER', id: this.takeId(), cut: index, tensor: { data: tensor.data, shape: tensor.shape }, ...(encoded ?? {}) }, 'RESULT');
    return { output: resultTensor(r), cloudMs: r.cloudUs / 1000, decodeMs: (r.decodeUs ?? 0) / 1000 };
  }

  async setCloudStress(cpu: number, mem: number): Promise<CloudStressAck | null> {
    this.stress = { cpu, mem };
    return this.sendStress();
  }

  async reconnect(): Promise<void> {
    this.conn?.destroy();
    this.conn = null;
    await this.connectWithBackoff();
    if (this.stress.cpu > 0 || this.stress.mem > 0) await this.sendStress();
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    await c?.close(1000);
  }

  private async sendStress(): Promise<CloudStressAck | null> {
    const { cpu, mem } = this.stress;
    const ack = await this.request({ type: 'CONDITION', id: this.takeId(), cpu, mem }, 'CONDITION_ACK');
    const s = ack.stressor;
    return { cpu, mem, stressor: String(s.kind ?? s.stressor ?? 'unknown'), pids: Array.isArray(s.pids) ? (s.pids as number[]) : [] };
  }

  /** Request ids are u32 on the wire: they wrap rather than overflow. */
  private takeId(): number {
    const id = this.nextId;
    this.nextId = (id + 1) >>> 0;
    return id;
  }

  private async request<K extends 'RESULT' | 'CONDITION_ACK'>(msg: Parameters<Connection['request']>[0], expect: K) {
    const conn = this.conn;
    if (!conn) throw new LinkFailure('not connected', 'reset');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LinkFailure(`no ${expect} within ${this.opts.requestTimeoutMs / 1000} s`, 'timeout')), this.opts.requestTimeoutMs);
    });
    try {
      return await Promise.race([conn.request(msg, expect), timeout]);
    } catch (e) {
      // after a timeout the connection's state is unknown (a late reply would be misread): drop it
      conn.destroy();
      if (this.conn === conn) this.conn = null;
      throw toLinkFailure(e);
    } finally {
      clearTimeout(timer);
    }
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
      return conn;
    } catch (e) {
      conn.destroy();
      // Refusals no retry can fix (token, version, model) stop the run with exit 2.
      if (e instanceof RemoteError && isFatalRefusal(e.code)) throw new UserError(`the cloud refused this edge: ${e.peerMessage}`);
      throw e;
    }
  }
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
