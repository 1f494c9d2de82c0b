import type { CutPoint } from '../model/partition.js';
import type { HostTensor } from '../engine/split-runner.js';
import type { TensorCodec } from '../protocol/codecs.js';
import { UserError } from '../errors.js';

/** The cloud-wide stress in force when the cloud computed a request (whole %) and its epoch (bumped on every change). */
export interface CloudStressInForce {
  cpu: number;
  mem: number;
  epoch: number;
}

/** What the cloud answers to one INFER. */
export interface InferReply {
  output: HostTensor;
  /** cloud compute: decoded tensor in hand -> output materialised, as the cloud measured it */
  cloudMs: number;
  /** the cloud's decoding of an encoded crossing (and preprocessing of a camera frame); 0 or absent for raw */
  decodeMs?: number;
  /** the cloud's queueing: INFER fully received -> its compute slot started (decoding excluded) */
  queueMs?: number;
  /** the stress in force at the cloud when it computed this request (already checked against the one asked for) */
  cloudStress?: CloudStressInForce;
  /**
   * Three tiers: what the relay (the middle tier) reported, ms: its compute after the first cut up
   * to the second (0 when they are the same point), and its round trip to the cloud minus the
   * cloud's decode and compute (0 when it answered itself). The other fields are the cloud's, as
   * the cloud reported them to the relay.
   */
  relay?: { edgeMs: number; transferMs: number };
}

/** Options of one INFER. */
export interface InferOptions {
  /** three tiers: the second cut; the peer must be a dnn-relay (its WELCOME says so) */
  cut2?: CutPoint;
}

/** A crossing sent encoded: the codec's header fields and its payload (the tensor then carries only the dims). */
export interface EncodedCrossing {
  codec: TensorCodec;
  payload: Uint8Array;
}

/** What the cloud reports once the stress it was asked for is running there. */
export interface CloudStressAck {
  cpu: number;
  mem: number;
  stressor: string;
  pids: number[];
}

/**
 * The edge's view of the cloud. The run loop only needs these calls, so it can be driven over the
 * real protocol (src/edge/protocol-link.ts) and reasoned about without sockets.
 */
export interface CloudLink {
  /** `encoded`: the crossing as its codec wrote it; `tensor.data` is then empty and `tensor.shape` its dims */
  infer(cut: CutPoint, tensor: HostTensor, encoded?: EncodedCrossing, o?: InferOptions): Promise<InferReply>;
  /** asks the cloud to run CPU/memory stress; resolves once it is in effect there */
  setCloudStress(cpuPct: number, memPct: number): Promise<CloudStressAck | null>;
  /**
   * Another edge of the same lab holds the cloud's stress lease for this one (lab --edges N: edge 0
   * asks, edges 1..N-1 share it): no CONDITION is sent, but every RESULT must carry this stress.
   */
  expectCloudStress?(cpuPct: number, memPct: number): void;
  /** drops the connection and connects again (re-proving the fingerprint, re-applying stress) */
  reconnect(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A measurement the link could not complete (reset, timeout, ERROR from the cloud): the sample is
 * thrown away and redone after a reconnect. Anything else thrown by a link is fatal. `queue-full`:
 * the cloud's bounded queue refused this one request (QUEUE_FULL); the connection is intact, so a
 * stream counts the frame as refused while `single` redoes it.
 */
export class LinkFailure extends Error {
  constructor(message: string, readonly reason: 'reset' | 'timeout' | 'error-reply' | 'refused' | 'queue-full') {
    super(message);
  }
}

/**
 * The cloud computed a request under another stress than the one this edge measures (another
 * edge, or an older cloud, changed it): the run stops rather than record the sample under a false
 * condition.
 */
export class CloudStressMismatch extends UserError {}

/** The cloud refused this edge's CONDITION: another connected edge holds a different cloud stress. */
export class ConditionConflict extends UserError {}

/** The cloud stayed away longer than --give-up: the run ends, keeping what it measured. */
export class GiveUp extends Error {}
