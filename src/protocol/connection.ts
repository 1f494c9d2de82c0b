import { type Socket, connect as netConnect } from 'node:net';
import type { MessageType } from './constants.js';
import { ConnectionClosedError, ProtocolError, RemoteError } from './errors.js';
import { FrameReader } from './frame-reader.js';
import { writeFrame } from './frame-writer.js';
import type { Message, MessageOf } from './message-types.js';
import { encodeMessage } from './messages.js';

export interface ConnectionOptions {
  /** Largest frame accepted from the peer (default 256 MiB); also refused on send. */
  maxFrame?: number;
  /** Stop reading from the socket while this many messages wait unread (default 4). */
  highWaterMark?: number;
}

/**
 * A pending read. What it resolves with is told by plain fields rather than a callback, so a request
 * makes no closure: the message (next()), an iteration step, or the checked reply to `sent`.
 */
interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** An async iterator's read: ends, rather than fails, on a clean close. */
  iterating: boolean;
  /** For request(): the message sent and the reply type it expects; null otherwise. */
  sent: Message | null;
  expect: MessageType | null;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** What serve() hands each message to; returning (or resolving to) false stops serving. */
export type MessageHandler = (message: Message) => boolean | void | Promise<boolean | void>;

/** An active serve(). */
interface Serving {
  handler: MessageHandler;
  /** The handler's last promise has not settled: messages wait in the queue meanwhile. */
  busy: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

/** What a read resolves with for message `m`; throws when `m` is not the reply a request expects. */
function take(m: Message, iterating: boolean, sent: Message | null, expect: MessageType | null): unknown {
  if (expect !== null) return checkReply(sent!, expect, m);
  return iterating ? { done: false, value: m } : m;
}

/** Checks a reply as request() promises it: of type `expect`, answering `message`'s id. */
function checkReply<K extends MessageType>(message: Message, expect: K, reply: Message): MessageOf<K> {
  if (reply.type === 'ERROR' && expect !== 'ERROR') throw new RemoteError(reply.code, reply.message);
  if (reply.type !== expect) {
    throw new ProtocolError('UNEXPECTED_MESSAGE', `expected ${expect} in reply to ${message.type}, got ${reply.type}`);
  }
  if ('id' in message && 'id' in reply && message.id !== reply.id) {
    throw new ProtocolError('UNEXPECTED_MESSAGE', `${reply.type} answers request ${reply.id}, expected ${message.id}`);
  }
  return reply as MessageOf<K>;
}

/** The async iterator ends on a clean close; any other failure is thrown. */
function endsIteration(e: Error): boolean {
  return e instanceof ConnectionClosedError && e.cause === undefined;
}

/** After a protocol error we half-close; a peer that never closes its side is cut off after this. */
const LINGER_MS = 2000;

/**
 * Typed messages over one net.Socket. Read with `next()`, `for await (const m of conn)` or `serve(handler)`;
 * the first failure rejects every pending and later read, as a ProtocolError (the peer broke the protocol: it
 * is told with an ERROR message and the socket is closed) or a ConnectionClosedError (the socket
 * closed; `cause` is set when it closed on a socket error). The async iterator simply ends on a clean close.
 */
export class Connection implements AsyncIterable<Message> {
  readonly socket: Socket;
  readonly reader: FrameReader<Message>;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  private readonly maxFrame: number | undefined;
  private readonly highWaterMark: number;
  private readonly queue: Message[] = [];
  private readonly waiters: Waiter[] = [];
  private serving: Serving | null = null;
  /** hold(true): the owner stopped reading (TCP back-pressure on the peer) whatever the queue says */
  private held = false;
  private failure: Error | null = null;
  private socketError: Error | undefined;

  constructor(socket: Socket, options: ConnectionOptions = {}) {
    this.socket = socket;
    this.maxFrame = options.maxFrame;
    this.highWaterMark = options.highWaterMark ?? 4;
    this.reader = new FrameReader<Message>({
      onMessage: (m) => this.onMessage(m),
      onError: (e) => this.onProtocolError(e),
      maxFrame: options.maxFrame,
    });
    // Request/response traffic: never let Nagle hold back a small reply.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('end', () => this.reader.end());
    socket.on('error', (e) => {
      this.socketError = e;
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.fail(new ConnectionClosedError(this.socketError));
        resolve();
      });
    });
  }

  /**
   * Sends a message; tensor data is written from its own memory, so do not change it until the
   * socket has drained. Returns false when the socket buffer is full (see drain()).
   */
  send(message: Message): boolean {
    if (this.failure) throw this.failure;
    if (this.socket.destroyed) throw new ConnectionClosedError(this.socketError);
    return writeFrame(this.socket, encodeMessage(message, this.maxFrame));
  }

  /** Resolves once the socket's write buffer has emptied (at once if it already has). */
  drain(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done).off('close', done);
        resolve();
      };
      this.socket.on('drain', done).on('close', done);
    });
  }

  /** The next message from the peer. */
  next(): Promise<Message> {
    return this.read(false, null, null) as Promise<Message>;
  }

  /**
   * Sends `message` and waits for its reply, which must be of type `expect` (and carry the same id,
   * when both have one). An ERROR reply rejects with RemoteError. One request at a time per connection.
   */
  request<K extends MessageType>(message: Message, expect: K): Promise<MessageOf<K>> {
    try {
      this.send(message);
    } catch (e) {
      return Promise.reject(e);
    }
    // The reply is checked as it arrives, so the caller resumes one promise hop after it.
    return this.read(false, message, expect) as Promise<MessageOf<K>>;
  }

  /**
   * Hands every message to `handler` as its frame completes, within the socket's data event: no
   * promise per message, unlike next() and for-await (this is the cloud's request loop). Messages
   * already queued go first. A handler that returns a promise gets the next message once it has
   * settled. Resolves on a clean close, or when the handler returns or resolves false (later messages
   * stay readable with next()); rejects with any other failure, or with what the handler throws.
   * Do not read with next() or for-await while serving.
   */
  serve(handler: MessageHandler): Promise<void> {
    if (this.serving) return Promise.reject(new Error('this connection is already being served'));
    return new Promise((resolve, reject) => {
      this.serving = { handler, busy: false, resolve, reject };
      this.pump();
    });
  }

  /** Feeds queued messages to the handler while it is idle; once they are out and the connection has failed, serve() settles. */
  private pump(): void {
    const s = this.serving;
    while (s !== null && this.serving === s && !s.busy) {
      const m = this.shift();
      if (m !== undefined) this.dispatch(s, m);
      else {
        if (this.failure) this.stopServing(s, this.failure);
        return;
      }
    }
  }

  private dispatch(s: Serving, m: Message): void {
    let r: boolean | void | Promise<boolean | void>;
    try {
      r = s.handler(m);
    } catch (e) {
      this.stopServing(s, e);
      return;
    }
    if (r === false) this.stopServing(s, null);
    else if (r instanceof Promise) {
      s.busy = true;
      r.then(
        (v) => {
          s.busy = false;
          if (v === false) this.stopServing(s, null);
          else this.pump();
        },
        (e: unknown) => this.stopServing(s, e),
      );
    }
  }

  /** Ends serve(): resolved when stopped (null) or on a clean close, else rejected with `e`. */
  private stopServing(s: Serving, e: unknown): void {
    if (this.serving !== s) return;
    this.serving = null;
    if (e === null || (e instanceof Error && endsIteration(e))) s.resolve();
    else s.reject(e);
  }

  /**
   * Stops reading from the socket (true) until released (false): the peer's sends back up in TCP.
   * For a consumer whose own backlog is too long (the cloud's share of its request queue); messages
   * already read are still delivered.
   */
  hold(on: boolean): void {
    if (this.held === on) return;
    this.held = on;
    if (on) this.socket.pause();
    else if (this.queue.length < this.highWaterMark && !this.failure) this.socket.resume();
  }

  /** The oldest unread message; reading one may make room to resume a paused socket. */
  private shift(): Message | undefined {
    const m = this.queue.shift();
    if (m !== undefined && this.socket.isPaused() && this.queue.length < this.highWaterMark && !this.failure && !this.held) this.socket.resume();
    return m;
  }

  private read(iterating: boolean, sent: Message | null, expect: MessageType | null): Promise<unknown> {
    const m = this.shift();
    if (m !== undefined) {
      try {
        return Promise.resolve(take(m, iterating, sent, expect));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (this.failure) return iterating && endsIteration(this.failure) ? Promise.resolve(DONE) : Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject, iterating, sent, expect }));
  }

  // Not an async generator: one promise per message instead of a generator's several hops.
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: () => this.read(true, null, null) as Promise<IteratorResult<Message>>,
      // Leaving a loop early leaves unread messages readable, as with next().
      return: () => Promise.resolve(DONE),
    };
  }

  /**
   * Ends our side and waits for the socket to close; a peer that does not close its side within
   * `timeoutMs` is cut off. Messages not yet read stay readable with next().
   */
  close(timeoutMs = LINGER_MS): Promise<void> {
    this.socket.end();
    // Keep reading so the peer's end of stream is seen even when we had paused for a slow consumer.
    this.socket.resume();
    const timer = setTimeout(() => this.socket.destroy(), timeoutMs).unref();
    return this.closed.then(() => clearTimeout(timer));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onMessage(m: Message): void {
    const s = this.serving;
    if (s !== null && !s.busy) {
      this.dispatch(s, m);
      return;
    }
    const w = this.waiters.shift();
    if (w) {
      let value: unknown;
      try {
        value = take(m, w.iterating, w.sent, w.expect);
      } catch (e) {
        w.reject(e as Error);
        return;
      }
      w.resolve(value);
      return;
    }
    this.queue.push(m);
    if (this.queue.length >= this.highWaterMark) this.socket.pause();
  }

  private onProtocolError(e: ProtocolError): void {
    if (this.failure) return;
    this.fail(e);
    // Tell the peer why, then hang up; data still arriving is ignored by the failed reader.
    const s = this.socket;
    if (!s.destroyed && s.writable) {
      writeFrame(s, encodeMessage({ type: 'ERROR', code: e.code, message: e.message }));
      s.end();
    }
    s.resume();
    setTimeout(() => s.destroy(), LINGER_MS).unref();
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const w of this.waiters.splice(0)) {
      if (w.iterating && endsIteration(e)) w.resolve(DONE);
      else w.reject(e);
    }
    // An idle serve() ends now; a busy one once its handler has settled.
    this.pump();
  }
}

/** Opens a TCP connection and wraps it; rejects with the socket error if it cannot connect. */
export function connect(port: number, host: string, options?: ConnectionOptions): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ port, host });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(new Connection(socket, options));
    });
  });
}
