import type { CutPoint } from '../model/partition.js';
import type { HostTensor } from '../engine/split-runner.js';
import type { TensorCodec } from '../protocol/codecs.js';

/** What the cloud answers to one INFER. */
export interface InferReply {
  output: HostTensor;
  /** cloud compute: INFER frame fully received and decoded -> output materialised, as the cloud measured it */
  cloudMs: number;
  /** the cloud's decoding of an encoded crossing (and preprocessing of a camera frame); 0 or absent for raw */
  decodeMs?: number;
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
  infer(cut: CutPoint, tensor: HostTensor, encoded?: EncodedCrossing): Promise<InferReply>;
  /** asks the cloud to run CPU/memory stress; resolves once it is in effect there */
  setCloudStress(cpuPct: number, memPct: number): Promise<CloudStressAck | null>;
  /** drops the connection and connects again (re-proving the fingerprint, re-applying stress) */
  reconnect(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A measurement the link could not complete (reset, timeout, ERROR from the cloud): the sample is
 * thrown away and redone after a reconnect. Anything else thrown by a link is fatal.
 */
export class LinkFailure extends Error {
  constructor(message: string, readonly reason: 'reset' | 'timeout' | 'error-reply' | 'refused') {
    super(message);
  }
}

/** The cloud stayed away longer than --give-up: the run ends, keeping what it measured. */
export class GiveUp extends Error {}
