/**
 * Every error that crosses the wire, as closed unions of codes shared by both ends: a peer's ERROR
 * message carries one of REMOTE_ERROR_CODES, and decodeMessage refuses any other (BAD_HEADER).
 * Adding a code changes the protocol: bump PROTOCOL_VERSION, so an older peer is refused at HELLO
 * (VERSION_MISMATCH) instead of meeting a code it does not know.
 */

/** Every way a peer can break the protocol; a reader that hits one stops consuming and tells the peer. */
const PROTOCOL_ERROR_CODES = [
  'BAD_MAGIC', // prefix does not start with "DNNP": not our protocol, or the stream lost sync
  'FRAME_TOO_LARGE', // length prefix above the reader's maxFrame (refused before allocating)
  'BAD_LENGTH', // length prefix too small for the prefix and header it announces
  'UNKNOWN_TYPE', // message type code this version does not know
  'BAD_HEADER', // header does not decode, or a required field is missing / of the wrong type / not 0 where reserved
  'BAD_TENSOR', // tensor description is absurd (element type, rank, dims, payload length)
  'UNKNOWN_CODEC', // INFER/RESULT names a tensor codec this version does not know
  'VERSION_MISMATCH', // a HELLO or WELCOME of another protocol version that this version cannot read
  'TRUNCATED', // stream ended in the middle of a frame
  'UNEXPECTED_MESSAGE', // well-formed message that makes no sense at this point of the conversation
] as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

/**
 * The cloud's refusals. `fatal`: a refusal of this edge as such, which no retry can fix (the edge
 * stops with exit 2); the others fail one request, which the edge redoes after reconnecting.
 */
const REFUSALS = {
  TIMEOUT: { fatal: false }, // no HELLO within the cloud's hello timeout
  UNAUTHORIZED: { fatal: true }, // missing or wrong token
  VERSION_MISMATCH: { fatal: true }, // the two ends speak different protocol versions
  FINGERPRINT_MISMATCH: { fatal: true }, // edge and cloud built different networks (model, --seed, --input-shape)
  UNKNOWN_CUT: { fatal: false }, // INFER names no partition point of the cloud's network
  BAD_SHAPE: { fatal: false }, // INFER's tensor does not fit the partition point
  UNSUPPORTED: { fatal: false }, // CONDITION sent to a cloud that cannot apply stress
  STRESS_FAILED: { fatal: false }, // the cloud could not start the stress CONDITION asked for
  QUEUE_FULL: { fatal: false }, // the cloud's bounded request queue is full: this INFER was not run (a stream drops the frame)
  CONDITION_CONFLICT: { fatal: true }, // another connected edge holds a different cloud stress (the message names it)
  NEXT_HOP_FAILED: { fatal: false }, // a relay's request to the cloud failed (reset, timeout, its ERROR): this two-cut INFER was not answered; only a relay sends it, only to two-cut INFERs
} as const satisfies Record<string, { fatal: boolean }>;
export type RefusalCode = keyof typeof REFUSALS;

/** Every code an ERROR message may carry. */
export type RemoteErrorCode = ProtocolErrorCode | RefusalCode;

const REMOTE_ERROR_CODES: ReadonlySet<string> = new Set<RemoteErrorCode>([...PROTOCOL_ERROR_CODES, ...(Object.keys(REFUSALS) as RefusalCode[])]);

export function isRemoteErrorCode(code: string): code is RemoteErrorCode {
  return REMOTE_ERROR_CODES.has(code);
}

/** True for refusals no retry can fix (a wrong token, version or model). */
export function isFatalRefusal(code: RemoteErrorCode): boolean {
  return code in REFUSALS && REFUSALS[code as RefusalCode].fatal;
}

export class ProtocolError extends Error {
  readonly kind = 'protocol';
  readonly code: ProtocolErrorCode;
  /** `cause`: an unexpected exception met while decoding (a bug, if it ever happens). */
  constructor(code: ProtocolErrorCode, message: string, cause?: unknown) {
    super(`${code}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'ProtocolError';
    this.code = code;
  }
}

/** The socket closed (cleanly when `cause` is undefined, else with the socket error as `cause`). */
export class ConnectionClosedError extends Error {
  readonly kind = 'closed';
  readonly code = 'CLOSED';
  constructor(cause?: Error) {
    super(cause ? `connection closed: ${cause.message}` : 'connection closed by peer', cause ? { cause } : undefined);
    this.name = 'ConnectionClosedError';
  }
}

/** The peer answered a request with an ERROR message. */
export class RemoteError extends Error {
  readonly kind = 'remote';
  readonly code: RemoteErrorCode;
  /** The peer's own words, as it sent them. */
  readonly peerMessage: string;
  constructor(code: RemoteErrorCode, peerMessage: string) {
    super(`peer reported ${code}: ${peerMessage}`);
    this.name = 'RemoteError';
    this.code = code;
    this.peerMessage = peerMessage;
  }
}

/** What a Connection's request can fail with; `kind` tells them apart. */
export type ConnectionFailure = ProtocolError | ConnectionClosedError | RemoteError;

export function isConnectionFailure(e: unknown): e is ConnectionFailure {
  return e instanceof ProtocolError || e instanceof ConnectionClosedError || e instanceof RemoteError;
}

export function isProtocolError(e: unknown): e is ProtocolError {
  return e instanceof ProtocolError;
}
