/**
 * Messages to frames and back. INFER and RESULT have a fixed binary header (tensor-frame.ts); the
 * control messages (HELLO, WELCOME, ERROR, PING, PONG, CONDITION, CONDITION_ACK) carry their fields
 * as a msgpack map, checked field by field here.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { FRAME_ALIGN, MAX_FRAME_LIMIT, MAX_HEADER_BYTES, MESSAGE_CODES, MESSAGE_TYPES, PREFIX_BYTES, PROTOCOL_VERSION, alignUp, type MessageType } from './constants.js';
import { ProtocolError, isRemoteErrorCode } from './errors.js';
import { writePrefix, zero } from './frame-writer.js';
import type { HelloMessage, HostInfo, Message, PreprocessSpec, RelayInfo, WelcomeMessage } from './message-types.js';
import { decodeTensorFrame, encodeTensorFrame } from './tensor-frame.js';

export type * from './message-types.js';

const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder({
  maxStrLength: MAX_HEADER_BYTES,
  maxBinLength: MAX_HEADER_BYTES,
  maxArrayLength: 1 << 16,
  maxMapLength: 1 << 16,
  maxExtLength: 0,
});

/** A message as frame chunks ready for writeFrame (tensor memory is referenced, not copied). */
export function encodeMessage(message: Message, maxFrame?: number): Buffer[] {
  if (message.type === 'INFER' || message.type === 'RESULT') return encodeTensorFrame(message, maxFrame);
  // Fields copied key by key, in the message's order, without its type (as protocol version 1 did,
  // so a peer of either version reads the other's HELLO and can answer VERSION_MISMATCH).
  const fields: Record<string, unknown> = {};
  for (const k in message) if (k !== 'type') fields[k] = message[k as keyof Message];
  return encodeControlFrame(MESSAGE_CODES[message.type], fields, maxFrame);
}

/** A control frame of message type `code` whose header is `fields` in msgpack (any fields: tests write wrong ones). */
export function encodeControlFrame(code: number, fields: Record<string, unknown>, maxFrame: number = MAX_FRAME_LIMIT): Buffer[] {
  const header = encoder.encodeSharedRef(fields);
  if (header.length > MAX_HEADER_BYTES) throw new ProtocolError('BAD_HEADER', `header of ${header.length} bytes exceeds ${MAX_HEADER_BYTES}`);
  const frameLength = alignUp(PREFIX_BYTES + header.length, FRAME_ALIGN);
  if (frameLength > maxFrame) throw new ProtocolError('FRAME_TOO_LARGE', `frame of ${frameLength} bytes exceeds the limit of ${maxFrame}`);
  const frame = Buffer.allocUnsafe(frameLength);
  writePrefix(frame, code, frameLength, header.length);
  frame.set(header, PREFIX_BYTES);
  zero(frame, PREFIX_BYTES + header.length, frameLength);
  return [frame];
}

/**
 * The message in buf[at..at+frameLength), whose prefix the reader has checked (type code `type`,
 * header of `headerLength` bytes within the frame). INFER's and RESULT's tensor is a view on `buf`
 * when aligned, else a copy that `onCopy` counts. A broken frame throws a ProtocolError.
 */
export function decodeMessage(type: number, buf: Buffer, at: number, headerLength: number, frameLength: number, onCopy: () => void): Message {
  if (type === MESSAGE_CODES.INFER || type === MESSAGE_CODES.RESULT) {
    return decodeTensorFrame(type === MESSAGE_CODES.INFER, buf, at, headerLength, frameLength, onCopy);
  }
  const name = MESSAGE_TYPES[type];
  if (name === undefined) throw new ProtocolError('UNKNOWN_TYPE', `message type ${type} is unknown`);
  const want = alignUp(PREFIX_BYTES + headerLength, FRAME_ALIGN);
  if (frameLength !== want) throw new ProtocolError('BAD_LENGTH', `${name} frame of ${frameLength} bytes, its ${headerLength}-byte header makes ${want}`);
  let header: unknown;
  try {
    header = decoder.decode(buf.subarray(at + PREFIX_BYTES, at + PREFIX_BYTES + headerLength));
  } catch (e) {
    throw new ProtocolError('BAD_HEADER', `header is not valid msgpack (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header) || ArrayBuffer.isView(header)) {
    throw new ProtocolError('BAD_HEADER', 'header is not a msgpack map');
  }
  return parseControl(name, header as Record<string, unknown>);
}

/** Validates a control message's fields; a missing or mistyped field is BAD_HEADER. */
function parseControl(type: MessageType, source: Record<string, unknown>): Message {
  const f = new Fields(type, source);
  switch (type) {
    case 'HELLO':
    case 'WELCOME':
      return versioned(f, type);
    case 'ERROR': {
      const code = f.string('code');
      const message = f.string('message');
      if (!isRemoteErrorCode(code)) throw f.error('code', `an error code of protocol version ${PROTOCOL_VERSION} (the peer said: ${message.slice(0, 200)})`);
      return f.source.id === undefined ? { type, code, message } : { type, code, message, id: f.u32('id') };
    }
    case 'PING':
    case 'PONG':
      return { type, nonce: f.number('nonce'), time: f.number('time') };
    case 'CONDITION':
      return { type, id: f.uint('id'), cpu: f.percent('cpu'), mem: f.percent('mem') };
    case 'CONDITION_ACK':
      return { type, id: f.uint('id'), stressor: f.map('stressor') };
    case 'INFER':
    case 'RESULT':
      throw new Error(`bug: ${type} is not a control message`);
  }
}

/**
 * HELLO or WELCOME. A peer of another version whose message does not read as this version's is
 * VERSION_MISMATCH, not BAD_HEADER; one that reads (version 1's does) is refused by the cloud after
 * its token check, with the same code.
 */
function versioned(f: Fields, type: 'HELLO' | 'WELCOME'): HelloMessage | WelcomeMessage {
  const version = f.uint('version');
  try {
    return type === 'HELLO' ? hello(f, version) : welcome(f, version);
  } catch (e) {
    if (version === PROTOCOL_VERSION || !(e instanceof ProtocolError)) throw e;
    throw new ProtocolError(
      'VERSION_MISMATCH',
      `${type} of protocol version ${version}, this end speaks ${PROTOCOL_VERSION} (${e.message}); run the same release of the tool on both ends`,
    );
  }
}

function hello(f: Fields, version: number): HelloMessage {
  const token = f.optionalString('token');
  const m: HelloMessage = {
    type: 'HELLO',
    version,
    network: f.string('network'),
    fingerprint: f.string('fingerprint'),
    seed: f.number('seed'),
    backend: f.string('backend'),
    client: hostInfo(new Fields('HELLO', f.map('client'), 'client.')),
  };
  if (token !== undefined) m.token = token;
  if (f.source.preprocess !== undefined) m.preprocess = preprocessSpec(new Fields('HELLO', f.map('preprocess'), 'preprocess.'));
  return m;
}

const LAYOUTS: readonly string[] = ['nhwc', 'nchw'];

function preprocessSpec(p: Fields): PreprocessSpec {
  const mode = p.string('mode');
  const layout = p.string('layout');
  if (!LAYOUTS.includes(layout)) throw p.error('layout', `one of ${LAYOUTS.join(', ')}`);
  return { mode, layout: layout as PreprocessSpec['layout'] };
}

function welcome(f: Fields, version: number): WelcomeMessage {
  const s = new Fields('WELCOME', f.map('server'), 'server.');
  const m: WelcomeMessage = {
    type: 'WELCOME',
    version,
    server: {
      ...hostInfo(s),
      backend: s.string('backend'),
      versions: s.stringMap('versions'),
      cuts: s.stringList('cuts'),
    },
  };
  if (s.source.relay !== undefined) m.server.relay = relayInfo(new Fields('WELCOME', s.map('relay'), 'server.relay.'));
  return m;
}

/** A dnn-relay's WELCOME: the cloud it forwards to. */
function relayInfo(r: Fields): RelayInfo {
  const c = new Fields('WELCOME', r.map('cloud'), 'server.relay.cloud.');
  return { next: r.string('next'), cloud: { ...hostInfo(c), backend: c.string('backend') } };
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

  u32(name: string): number {
    const v = this.uint(name);
    if (v > 0xffffffff) throw this.error(name, 'an integer in [0, 2^32)');
    return v;
  }

  percent(name: string): number {
    const v = this.source[name];
    if (typeof v !== 'number' || !(v >= 0 && v <= 100)) throw this.error(name, 'a percentage in [0, 100]');
    return v;
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
