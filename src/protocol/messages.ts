import { MESSAGE_CODES, MESSAGE_TYPES, PROTOCOL_VERSION, type MessageType } from './constants.js';
import { ProtocolError, isRemoteErrorCode, type RemoteErrorCode } from './errors.js';
import type { RawFrame } from './frame-reader.js';
import { encodeFrame } from './frame-writer.js';
import { encodeHot } from './hot-messages.js';
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
  /** partition points the server can run from, by layer name */
  cuts: string[];
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
}
/** Run the model from partition point `cut` (layer name or index) on `tensor`. */
export interface InferMessage {
  type: 'INFER';
  id: number;
  cut: string | number;
  tensor: Tensor;
}
export interface ResultMessage {
  type: 'RESULT';
  id: number;
  /** cloud compute time in microseconds */
  cloudUs: number;
  tensor: Tensor;
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

/** A message as frame chunks ready for writeFrame (tensor memory is referenced, not copied). */
export function encodeMessage(message: Message, maxFrame?: number): Buffer[] {
  // The measurement loop's two messages go the short way when they have their usual form.
  const hot = encodeHot(message, maxFrame);
  if (hot !== null) return hot;
  // Fields copied key by key: rest destructuring makes a slow object, and this runs for every message.
  const fields: Record<string, unknown> = {};
  for (const k in message) if (k !== 'type' && k !== 'tensor') fields[k] = message[k as keyof Message];
  const tensors = 'tensor' in message ? [message.tensor] : [];
  return encodeFrame(MESSAGE_CODES[message.type], fields, tensors, maxFrame);
}

/** Validates a decoded frame into a typed message; a missing or mistyped field is BAD_HEADER. */
export function parseMessage(frame: RawFrame): Message {
  const type = MESSAGE_TYPES[frame.type];
  if (type === undefined) throw new ProtocolError('UNKNOWN_TYPE', `message type ${frame.type} is unknown`);
  const f = new Fields(type, frame.header);
  const expectTensor = type === 'INFER' || type === 'RESULT';
  if (frame.tensors.length !== (expectTensor ? 1 : 0)) {
    throw f.error('tensors', `${expectTensor ? 'exactly one tensor' : 'no tensor'} (got ${frame.tensors.length})`);
  }
  switch (type) {
    case 'HELLO': {
      const token = f.optionalString('token');
      const hello: HelloMessage = {
        type,
        version: f.uint('version'),
        network: f.string('network'),
        fingerprint: f.string('fingerprint'),
        seed: f.number('seed'),
        backend: f.string('backend'),
        client: hostInfo(new Fields(type, f.map('client'), 'client.')),
      };
      if (token !== undefined) hello.token = token;
      return hello;
    }
    case 'WELCOME': {
      const s = new Fields(type, f.map('server'), 'server.');
      return {
        type,
        version: f.uint('version'),
        server: {
          ...hostInfo(s),
          backend: s.string('backend'),
          versions: s.stringMap('versions'),
          cuts: s.stringList('cuts'),
        },
      };
    }
    case 'ERROR': {
      const code = f.string('code');
      const message = f.string('message');
      if (!isRemoteErrorCode(code)) throw f.error('code', `an error code of protocol version ${PROTOCOL_VERSION} (the peer said: ${message.slice(0, 200)})`);
      return { type, code, message };
    }
    case 'INFER':
      return { type, id: f.uint('id'), cut: f.cut('cut'), tensor: frame.tensors[0]! };
    case 'RESULT':
      return { type, id: f.uint('id'), cloudUs: f.number('cloudUs'), tensor: frame.tensors[0]! };
    case 'PING':
    case 'PONG':
      return { type, nonce: f.number('nonce'), time: f.number('time') };
    case 'CONDITION':
      return { type, id: f.uint('id'), cpu: f.percent('cpu'), mem: f.percent('mem') };
    case 'CONDITION_ACK':
      return { type, id: f.uint('id'), stressor: f.map('stressor') };
  }
}

function hostInfo(h: Fields): HostInfo {
  return { host: h.string('host'), cpu: h.string('cpu'), cores: h.uint('cores'), mem: h.number('mem') };
}

/** Typed reads of header fields, each throwing BAD_HEADER that names the message and field. */
class Fields {
  constructor(
    readonly type: MessageType,
    readonly source: Record<string, unknown>,
    readonly prefix = '',
  ) {}

  error(name: string, want: string): ProtocolError {
    const got = this.source[name];
    const shown = got === undefined ? 'missing' : `got ${JSON.stringify(got)?.slice(0, 60) ?? typeof got}`;
    return new ProtocolError('BAD_HEADER', `${this.type} field '${this.prefix}${name}' must be ${want} (${shown})`);
  }

  string(name: string): string {
    const v = this.source[name];
    if (typeof v !== 'string') throw this.error(name, 'a string');
    return v;
  }

  optionalString(name: string): string | undefined {
    return this.source[name] === undefined ? undefined : this.string(name);
  }

  number(name: string): number {
    const v = this.source[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.error(name, 'a finite number');
    return v;
  }

  uint(name: string): number {
    const v = this.source[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw this.error(name, 'a non-negative integer');
    return v;
  }

  percent(name: string): number {
    const v = this.source[name];
    if (typeof v !== 'number' || !(v >= 0 && v <= 100)) throw this.error(name, 'a percentage in [0, 100]');
    return v;
  }

  cut(name: string): string | number {
    const v = this.source[name];
    if (typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) return v;
    throw this.error(name, 'a layer name or a non-negative layer index');
  }

  map(name: string): Record<string, unknown> {
    const v = this.source[name];
    if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) throw this.error(name, 'a map');
    return v as Record<string, unknown>;
  }

  stringMap(name: string): Record<string, string> {
    const m = this.map(name);
    for (const k in m) if (typeof m[k] !== 'string') throw this.error(name, 'a map of strings');
    return m as Record<string, string>;
  }

  stringList(name: string): string[] {
    const v = this.source[name];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw this.error(name, 'a list of strings');
    return v as string[];
  }
}
