import { getU32 } from './bytes.js';
import { DEFAULT_MAX_FRAME, MAGIC, MAX_FRAME_LIMIT, MAX_HEADER_BYTES, MESSAGE_TYPES, PREFIX_BYTES } from './constants.js';
import { ProtocolError } from './errors.js';
import type { Message } from './message-types.js';
import { decodeMessage } from './messages.js';

/**
 * Turns the frame at buf[at..at+frameLength) into a value: type code `type`, header of `headerLength`
 * bytes after the prefix (both checked against the frame); `onCopy` counts a payload copy. May throw
 * a ProtocolError.
 */
export type FrameDecoder<T> = (type: number, buf: Buffer, at: number, headerLength: number, frameLength: number, onCopy: () => void) => T;

export interface FrameReaderOptions<T> {
  /** Default: decodeMessage, the protocol's messages. */
  decode?: FrameDecoder<T>;
  onMessage: (message: T) => void;
  /** Called once with the first protocol violation; the reader ignores all input after it. */
  onError: (error: ProtocolError) => void;
  /** Largest frame accepted, prefix included (default 256 MiB). */
  maxFrame?: number;
  /** Type codes accepted (default: every message type this version knows). */
  isKnownType?: (type: number) => boolean;
}

const knownMessageType = (type: number): boolean => MESSAGE_TYPES[type] !== undefined;

const enum State {
  Prefix,
  Body,
}

/**
 * Byte-consuming state machine in the manner of `ws`'s Receiver: feed it socket chunks with push(),
 * and the end of the stream with end(). A frame that lies in one chunk is sliced out of it (no copy);
 * a frame spread over chunks is copied once, chunk by chunk, into a buffer sized from its length
 * prefix — allocated only after the prefix passed its checks, so an oversize length costs nothing.
 */
export class FrameReader<T = Message> {
  /** Frames delivered, and how: sliced from one chunk, or assembled from several. */
  frames = 0;
  slicedFrames = 0;
  assembledFrames = 0;
  /** Payloads copied because their memory was not 4-byte aligned (0 in the common path). */
  payloadCopies = 0;
  /** Bytes consumed so far (stops at the start of the frame that failed). */
  bytesRead = 0;

  private readonly decode: FrameDecoder<T>;
  private readonly onMessage: (message: T) => void;
  private readonly onError: (error: ProtocolError) => void;
  private readonly maxFrame: number;
  private readonly isKnownType: (type: number) => boolean;
  private readonly countCopy = (): void => {
    this.payloadCopies++;
  };

  private state = State.Prefix;
  private failed = false;
  /** A prefix split over chunks is gathered here. */
  private readonly prefix = Buffer.alloc(PREFIX_BYTES);
  private prefixFill = 0;
  /** Current frame's fields, from its prefix. */
  private frameLength = 0;
  private type = 0;
  private headerLength = 0;
  /** A frame spread over chunks is assembled here. */
  private body: Buffer | null = null;
  private bodyFill = 0;

  constructor(options: FrameReaderOptions<T>) {
    this.decode = options.decode ?? (decodeMessage as unknown as FrameDecoder<T>);
    this.onMessage = options.onMessage;
    this.onError = options.onError;
    this.maxFrame = Math.min(options.maxFrame ?? DEFAULT_MAX_FRAME, MAX_FRAME_LIMIT);
    this.isKnownType = options.isKnownType ?? knownMessageType;
  }

  get errored(): boolean {
    return this.failed;
  }

  /** True when no frame is partly read: the stream may end here without truncation. */
  get atBoundary(): boolean {
    return this.state === State.Prefix && this.prefixFill === 0;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end && !this.failed) {
      if (this.state === State.Body) {
        const body = this.body!;
        const n = Math.min(this.frameLength - this.bodyFill, end - pos);
        chunk.copy(body, this.bodyFill, pos, pos + n);
        this.bodyFill += n;
        pos += n;
        if (this.bodyFill === this.frameLength) {
          this.body = null;
          this.state = State.Prefix;
          this.assembledFrames++;
          this.deliver(body, 0);
        }
      } else if (this.prefixFill === 0 && end - pos >= PREFIX_BYTES) {
        if (!this.readPrefix(chunk, pos)) break;
        if (end - pos >= this.frameLength) {
          // Decoded in place: no Buffer object is made for the frame.
          const at = pos;
          pos += this.frameLength;
          this.slicedFrames++;
          this.deliver(chunk, at);
        } else {
          this.startBody();
        }
      } else {
        const n = Math.min(PREFIX_BYTES - this.prefixFill, end - pos);
        chunk.copy(this.prefix, this.prefixFill, pos, pos + n);
        this.prefixFill += n;
        pos += n;
        if (this.prefixFill < PREFIX_BYTES) break;
        this.prefixFill = 0;
        if (!this.readPrefix(this.prefix, 0)) break;
        this.startBody();
        this.prefix.copy(this.body!, 0);
        this.bodyFill = PREFIX_BYTES;
        // A frame must hold its header, so it is longer than the prefix: the body still needs bytes.
      }
    }
    this.bytesRead += pos;
  }

  /** The stream ended: an incomplete frame is a TRUNCATED error. */
  end(): void {
    if (this.failed || this.atBoundary) return;
    const have = this.state === State.Body ? this.bodyFill : this.prefixFill;
    const want = this.state === State.Body ? this.frameLength : PREFIX_BYTES;
    this.fail(new ProtocolError('TRUNCATED', `stream ended after ${have} of ${want} bytes of a frame`));
  }

  /** Validates a prefix at buf[at..]; does not consume it (the frame, prefix included, is consumed whole). */
  private readPrefix(buf: Buffer, at: number): boolean {
    const magic = getU32(buf, at);
    if (magic !== MAGIC) {
      return this.fail(new ProtocolError('BAD_MAGIC', `frame starts with 0x${magic.toString(16).padStart(8, '0')}, not "DNNP"`));
    }
    const frameLength = getU32(buf, at + 4);
    if (frameLength > this.maxFrame) {
      return this.fail(new ProtocolError('FRAME_TOO_LARGE', `frame of ${frameLength} bytes exceeds the limit of ${this.maxFrame}`));
    }
    const type = buf[at + 8]!;
    if (!this.isKnownType(type)) return this.fail(new ProtocolError('UNKNOWN_TYPE', `message type ${type} is unknown`));
    const headerLength = getU32(buf, at + 12);
    if (headerLength === 0 || headerLength > MAX_HEADER_BYTES || PREFIX_BYTES + headerLength > frameLength) {
      return this.fail(new ProtocolError('BAD_LENGTH', `header of ${headerLength} bytes does not fit a frame of ${frameLength}`));
    }
    this.frameLength = frameLength;
    this.type = type;
    this.headerLength = headerLength;
    return true;
  }

  private startBody(): void {
    // allocUnsafeSlow: a fresh ArrayBuffer at offset 0, so every payload view is aligned.
    this.body = Buffer.allocUnsafeSlow(this.frameLength);
    this.bodyFill = 0;
    this.state = State.Body;
  }

  /** Decodes the frame at buf[at..at+frameLength) and hands it on. */
  private deliver(buf: Buffer, at: number): void {
    let message: T;
    try {
      message = this.decode(this.type, buf, at, this.headerLength, this.frameLength, this.countCopy);
    } catch (e) {
      // Safety net: whatever a hostile frame provokes in decoding stays an error of this stream,
      // never an exception out of the socket handler. `cause` marks it as unforeseen.
      this.fail(e instanceof ProtocolError ? e : new ProtocolError('BAD_HEADER', `frame could not be decoded (${String(e)})`, e));
      return;
    }
    this.frames++;
    // Outside the try: an exception in the consumer's handler is the consumer's, not a protocol error.
    this.onMessage(message);
  }

  private fail(error: ProtocolError): false {
    this.failed = true;
    this.body = null;
    this.onError(error);
    return false;
  }
}
