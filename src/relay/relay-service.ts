import type { Network } from '../model/network.js';
import type { CutPoint } from '../model/partition.js';
import type { HostTensor } from '../engine/split-runner.js';
import { BadRequest, InferenceService, type Served } from '../cloud/inference-service.js';
import { ConditionConflict, CloudStressMismatch, LinkFailure, type CloudLink, type InferReply } from '../edge/cloud-link.js';
import { UserError, errorMessage } from '../errors.js';

const MAX_U32 = 0xffffffff;

/**
 * The middle tier of three (dnn-relay): an INFER names two cuts x <= y; the relay runs the layers
 * after x up to y (nothing when x = y: it forwards), then sends y's crossing to the cloud as an
 * ordinary edge would and answers with the cloud's output, the cloud's times and stress as the
 * cloud reported them, and its own: its compute (µs) and its round trip to the cloud minus the
 * cloud's decode and compute. y = the output point: the relay answers itself, the cloud unused.
 * Spans are built on first use (never timed; the device's warm-up pays for them).
 */
export class RelayService extends InferenceService {
  private readonly position = new Map<string, number>();
  private reconnecting: Promise<void> | null = null;

  constructor(
    network: Network,
    private readonly cloud: CloudLink,
    /** the cloud, host:port, for messages */
    private readonly next: string,
    private readonly log: (line: string) => void,
  ) {
    // a relay keeps spans worth two models' weights (the onnx default), built as configurations come
    super(network, {});
    network.cuts.forEach((c, i) => this.position.set(c.layer, i));
  }

  override check(cut: string, shape: readonly number[], cut2?: string): CutPoint {
    if (cut2 === undefined) throw new BadRequest('this is a dnn-relay: an INFER must name a second cut (dnn-edge --tiers 3); send single-cut INFERs to dnn-cloud', 'UNKNOWN_CUT');
    const from = super.check(cut, shape);
    const to = this.resolve(cut2);
    if (this.position.get(to.layer)! < this.position.get(from.layer)!) {
      throw new BadRequest(`the second cut '${to.layer}' comes before the first '${from.layer}' in ${this.network.id}'s points: x must not come after y`, 'UNKNOWN_CUT');
    }
    return from;
  }

  override async infer(cut: string, x: HostTensor, cut2?: string): Promise<Served> {
    const from = this.resolve(cut);
    const to = this.resolve(cut2!);
    const t0 = performance.now();
    // x = y: forwarded as it came (a view on the received frame), nothing computed
    const mid = from.layer === to.layer ? { value: x, ms: 0 } : await this.runner.middle(from, to, x);
    const edgeUs = mid.ms * 1000;
    if (to.kind === 'output') return { value: mid.value, ms: performance.now() - t0, reply: { cloudUs: 0, queueUs: 0, relay: { edgeUs, transferUs: 0 } } };
    const r = await this.forward(to, mid.value);
    const t2 = performance.now();
    const decodeMs = r.decodeMs ?? 0;
    return {
      value: r.output,
      ms: t2 - t0,
      reply: {
        cloudUs: r.cloudMs * 1000,
        decodeUs: Math.min(Math.round(decodeMs * 1000), MAX_U32),
        queueUs: Math.min(Math.round((r.queueMs ?? 0) * 1000), MAX_U32),
        ...(r.cloudStress ? { stress: r.cloudStress } : {}),
        relay: { edgeUs, transferUs: (r.roundTripMs - r.cloudMs - decodeMs) * 1000 },
      },
    };
  }

  /**
   * y's crossing to the cloud and its reply, with the round trip as the relay saw it. A failed
   * request is this INFER's failure alone (NEXT_HOP_FAILED: the device redoes it) and the link
   * reconnects meanwhile; a stress conflict at the cloud is the device's (CONDITION_CONFLICT).
   */
  private async forward(to: CutPoint, t: HostTensor): Promise<InferReply & { roundTripMs: number }> {
    if (this.reconnecting) await this.reconnecting;
    const t1 = performance.now();
    try {
      const r = await this.cloud.infer(to, t);
      return { ...r, roundTripMs: performance.now() - t1 };
    } catch (e) {
      if (e instanceof CloudStressMismatch || e instanceof ConditionConflict) throw new BadRequest(`the relay's cloud at ${this.next}: ${e.message}`, 'CONDITION_CONFLICT');
      if (e instanceof LinkFailure && e.reason === 'queue-full') throw new BadRequest(`the cloud at ${this.next} behind this relay: ${e.message}`, 'QUEUE_FULL');
      if (!(e instanceof LinkFailure) && !(e instanceof UserError)) throw e;
      this.log(`request to the cloud at ${this.next} failed (${errorMessage(e)}); reconnecting`);
      this.reconnect();
      throw new BadRequest(`the relay's request to the cloud at ${this.next} failed: ${errorMessage(e)}`, 'NEXT_HOP_FAILED');
    }
  }

  private reconnect(): void {
    if (this.reconnecting) return;
    this.reconnecting = this.cloud
      .reconnect()
      .then(() => this.log(`reconnected to the cloud at ${this.next}`))
      .catch((e: unknown) => this.log(`cannot reconnect to the cloud at ${this.next}: ${errorMessage(e)}`))
      .finally(() => (this.reconnecting = null));
  }

  override async dispose(): Promise<void> {
    await this.reconnecting;
    await super.dispose();
  }
}
