/**
 * The cloud's one request queue, shared by every connection: complete INFERs wait in FIFO order,
 * at most `capacity` of them, and `concurrency` run at once. A push past the capacity is refused
 * (the caller answers QUEUE_FULL): the queue never grows past its bound. Fairness: an owner (a
 * connection) with more than its share waiting, ceil(capacity / owners with work waiting), is told
 * to stop sending (`onOverShare(owner, true)`: the server pauses its socket) until it is back within
 * it, so one greedy edge cannot fill the queue while others wait to be read. Knows nothing of sockets.
 */

/** A queued request: `run` gets the time it waited, ms, and settles when its compute slot is free again. */
type Run = (queuedMs: number) => Promise<void>;

interface Job<O> {
  owner: O;
  receivedMs: number;
  run: Run;
}

export class RequestQueue<O> {
  private readonly waiting: Job<O>[] = [];
  private readonly perOwner = new Map<O, number>();
  private readonly over = new Set<O>();
  private busy = 0;
  /** requests started, refused (full) and dropped (their owner gone) so far */
  started = 0;
  refused = 0;
  dropped = 0;
  /** the most that ever waited at once */
  peak = 0;

  constructor(
    readonly capacity: number,
    readonly concurrency: number,
    private readonly onOverShare: (owner: O, over: boolean) => void = () => {},
  ) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`queue capacity ${capacity} is not a positive integer`);
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError(`concurrency ${concurrency} is not a positive integer`);
  }

  /** Requests waiting (not running). */
  get length(): number {
    return this.waiting.length;
  }

  /** Requests computing now. */
  get running(): number {
    return this.busy;
  }

  /** Queues `run` for `owner`, its frame complete at `receivedMs` (performance.now()); false = full, not queued. */
  push(owner: O, run: Run, receivedMs = performance.now()): boolean {
    if (this.waiting.length >= this.capacity) {
      this.refused++;
      return false;
    }
    this.waiting.push({ owner, receivedMs, run });
    this.perOwner.set(owner, (this.perOwner.get(owner) ?? 0) + 1);
    this.peak = Math.max(this.peak, this.waiting.length);
    this.rebalance();
    this.pump();
    return true;
  }

  /** Removes what `owner` still has waiting (its connection closed); returns how many. */
  drop(owner: O): number {
    const before = this.waiting.length;
    for (let i = this.waiting.length - 1; i >= 0; i--) if (this.waiting[i]!.owner === owner) this.waiting.splice(i, 1);
    this.perOwner.delete(owner);
    this.over.delete(owner);
    const n = before - this.waiting.length;
    this.dropped += n;
    this.rebalance();
    return n;
  }

  /** The most an owner may have waiting before it is paused. */
  share(): number {
    return Math.ceil(this.capacity / Math.max(1, this.perOwner.size));
  }

  private pump(): void {
    while (this.busy < this.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      const left = this.perOwner.get(job.owner)! - 1;
      if (left === 0) this.perOwner.delete(job.owner);
      else this.perOwner.set(job.owner, left);
      this.busy++;
      this.started++;
      const done = (): void => {
        this.busy--;
        this.pump();
      };
      let p: Promise<void>;
      try {
        p = job.run(performance.now() - job.receivedMs);
      } catch {
        // a run that throws synchronously frees its slot like one that rejects
        p = Promise.resolve();
      }
      p.then(done, done);
    }
    this.rebalance();
  }

  /** Tells each owner whether it is over its share now (only on a change). */
  private rebalance(): void {
    const share = this.share();
    for (const [owner, n] of this.perOwner) {
      const isOver = n > share;
      if (isOver !== this.over.has(owner)) {
        if (isOver) this.over.add(owner);
        else this.over.delete(owner);
        this.onOverShare(owner, isOver);
      }
    }
    for (const owner of this.over) {
      if (!this.perOwner.has(owner)) {
        this.over.delete(owner);
        this.onOverShare(owner, false);
      }
    }
  }
}
