/** Every way a peer can break the protocol; a reader that hits one stops consuming. */
export type ProtocolErrorCode =
  | 'BAD_MAGIC' // prefix does not start with "DNNP": not our protocol, or the stream lost sync
  | 'FRAME_TOO_LARGE' // length prefix above the reader's maxFrame (refused before allocating)
  | 'BAD_LENGTH' // length prefix too small for the prefix and header it announces
  | 'UNKNOWN_TYPE' // message type code this version does not know
  | 'BAD_HEADER' // msgpack header does not decode, or a required field is missing / of the wrong type
  | 'BAD_TENSOR' // tensor descriptor is absurd (dtype, shape, byteLength, offset)
  | 'TRUNCATED' // stream ended in the middle of a frame
  | 'UNEXPECTED_MESSAGE'; // well-formed message that makes no sense at this point of the conversation

export class ProtocolError extends Error {
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
  readonly code = 'CLOSED';
  constructor(cause?: Error) {
    super(cause ? `connection closed: ${cause.message}` : 'connection closed by peer', cause ? { cause } : undefined);
    this.name = 'ConnectionClosedError';
  }
}

/** The peer answered a request with an ERROR message. */
export class RemoteError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`peer reported ${code}: ${message}`);
    this.name = 'RemoteError';
    this.code = code;
  }
}

export function isProtocolError(e: unknown): e is ProtocolError {
  return e instanceof ProtocolError;
}
