/** The messages of the protocol as both ends see them (types only). */
import type { TensorCodec } from './codecs.js';
import type { MessageType } from './constants.js';
import type { RemoteErrorCode } from './errors.js';
import type { Tensor } from './tensor.js';

/** The machine a peer runs on. `mem` is total memory in bytes. */
export interface HostInfo {
  host: string;
  cpu: string;
  cores: number;
  mem: number;
}

export interface ServerInfo extends HostInfo {
  backend: string;
  /** package versions, e.g. {"tfjs-core": "4.22.0", node: "20.20.2"} */
  versions: Record<string, string>;
  /** partition points the server can run from, by layer name; INFER names one by its index here */
  cuts: string[];
  /**
   * Present when the server is a dnn-relay (the middle tier of three): it takes INFERs naming a
   * second cut. `next`: the cloud it forwards to (host:port); `cloud`: that cloud's machine and backend.
   */
  relay?: RelayInfo;
}

export interface RelayInfo {
  next: string;
  cloud: HostInfo & { backend: string };
}

/**
 * How the cloud turns a camera frame (an image codec at the input point) into the model's input:
 * the preprocessing convention (`tf`, `caffe`, `torch`, `unit`, `raw`: src/inputs/) and the tensor
 * layout. The edge announces the one it uses for its own preprocessing, so both ends make the same tensor.
 */
export interface PreprocessSpec {
  mode: string;
  layout: 'nhwc' | 'nchw';
}

/** Edge -> cloud, first message: which model (and which weights) the cloud must load. */
export interface HelloMessage {
  type: 'HELLO';
  version: number;
  network: string;
  /** fingerprint of the model weights, so both sides provably run the same network */
  fingerprint: string;
  seed: number;
  backend: string;
  token?: string;
  client: HostInfo;
  /** how to preprocess camera frames sent at the input point; absent: the edge sends none */
  preprocess?: PreprocessSpec;
}
export interface WelcomeMessage {
  type: 'WELCOME';
  version: number;
  server: ServerInfo;
}
export interface ErrorMessage {
  type: 'ERROR';
  code: RemoteErrorCode;
  /** the sender's explanation, for a human */
  message: string;
  /** the request (INFER or CONDITION id) this error answers; absent: the connection's error, failing every request in flight */
  id?: number;
}
/**
 * Run the model from partition point `cut` on `tensor`. `cut` is an index into the WELCOME's
 * `server.cuts`; `id` and `cut` are u32 on the wire.
 */
export interface InferMessage {
  type: 'INFER';
  id: number;
  cut: number;
  tensor: Tensor;
  /**
   * Three tiers (to a dnn-relay only): the second cut, an index into the WELCOME's `server.cuts`
   * not before `cut`: the relay computes from `cut` up to `cut2` and sends the cloud `cut2`.
   * Absent: an ordinary INFER (its frame as version 3 always wrote it).
   */
  cut2?: number;
  /** how the tensor travels; absent when sent means raw, always set when received */
  codec?: TensorCodec;
  /**
   * The codec's encoded bytes when the codec is not raw: then `tensor.shape` gives the decoded dims
   * and `tensor.data` is empty. Received, a view on the frame; decoding is the receiver's job.
   */
  payload?: Uint8Array;
}
/**
 * The cloud-wide stress in force (whole percentages, 0 = none) and its epoch, a counter the cloud
 * bumps on every change of its stress: two RESULTs of one epoch were computed under the same stress.
 */
export interface CloudStressState {
  cpu: number;
  mem: number;
  epoch: number;
}

export interface ResultMessage {
  type: 'RESULT';
  id: number;
  /** cloud compute time in microseconds, from the INFER fully received (and decoded) to the output materialised */
  cloudUs: number;
  /**
   * the cloud's time decoding the INFER's encoded tensor (and, for a camera frame, preprocessing it),
   * in µs, rounded to an integer in [0, 2^32); 0 for a raw INFER. Absent means 0 (sent or received).
   */
  decodeUs?: number;
  /**
   * the request's wait in the cloud's queue, µs: INFER fully received -> its compute started
   * (decoding excluded), rounded to an integer in [0, 2^32). Absent when sent means 0; always set when received.
   */
  queueUs?: number;
  /** the cloud stress in force when this request was computed; absent when sent means none (epoch 0); always set when received */
  stress?: CloudStressState;
  /**
   * A relay's answer to an INFER naming a second cut: its own compute and its link to the cloud, µs
   * (the other fields are the cloud's, as the cloud reported them). Absent: an ordinary RESULT.
   */
  relay?: RelayTimes;
  tensor: Tensor;
  /** as InferMessage's */
  codec?: TensorCodec;
  /** as InferMessage's */
  payload?: Uint8Array;
}
/** The middle tier's times in a relay's RESULT, µs (finite, not negative). */
export interface RelayTimes {
  /** the relay's compute from the first cut up to the second (0: the same point, it forwarded) */
  edgeUs: number;
  /** the relay's round trip to the cloud minus the cloud's decode and compute (0: it answered itself) */
  transferUs: number;
}

export interface PingMessage {
  type: 'PING';
  nonce: number;
  time: number;
}
export interface PongMessage {
  type: 'PONG';
  nonce: number;
  time: number;
}
/** Apply cloud-side stress: CPU and memory percentages (0 = none). */
export interface ConditionMessage {
  type: 'CONDITION';
  id: number;
  cpu: number;
  mem: number;
}
export interface ConditionAckMessage {
  type: 'CONDITION_ACK';
  id: number;
  /** what the cloud started (free-form map: commands, pids, levels...) */
  stressor: Record<string, unknown>;
}

export type Message =
  | HelloMessage
  | WelcomeMessage
  | ErrorMessage
  | InferMessage
  | ResultMessage
  | PingMessage
  | PongMessage
  | ConditionMessage
  | ConditionAckMessage;

export type MessageOf<K extends MessageType> = Extract<Message, { type: K }>;
