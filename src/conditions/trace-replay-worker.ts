import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

/**
 * The replay's timer process (src/conditions/trace-replay.ts), forked with an IPC channel and moved
 * out of the edge's device before it starts: a throttled edge (--edge-slowdown) delayed a timer
 * thread of its own by tens of ms per step. It keeps one `tc -batch -` process
 * open (line-buffered through stdbuf), so a step costs a write to its stdin instead of starting a
 * process (tens of ms on a busy machine): each step's `qdisc change` lines are followed by
 * `qdisc show dev IF`, and the step counts as applied when the root qdisc's line comes back (with
 * an error when that is not ours: the step then changed nothing).
 * Imports nothing of the tool, so it carries no clean-up handlers or other state of the edge.
 * It ends when told to stop (after reporting the step tc is applying), when the edge does (the IPC
 * channel closes), or when killed.
 */
export interface AppliedStep {
  step: number;
  condition: string;
  /** ms since the replay's start */
  scheduled_ms: number;
  applied_ms: number;
  /** the root qdisc as tc showed it right after the change (ours, else `error` says so) */
  tc?: string;
  error?: string;
}

export interface WorkerInput {
  iface: string;
  netns?: string;
  /** our root qdisc's handle, as `tc qdisc show` prints it (e.g. d1e:) */
  handle: string;
  steps: { atMs: number; args: string[][]; key: string }[];
}

/** Epoch ms with sub-ms precision, the same clock in every thread. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * What the edge sends: the steps, then the start of the clock, then (at the policy's end) stop.
 * Played in windows (the interleaved replay): after the steps, per window `load` (the window's
 * steps, its clock at 0), `set` (apply one of them now, before the clock), `start`, then `pause`
 * (as stop, but the process and its tc stay for the next window).
 */
export type WorkerMessage = WorkerInput | { start: number } | { stop: true } | { load: WorkerInput['steps'] } | { set: number } | { pause: true };

/** What the worker posts: ready (tc answers, our qdisc is there), each applied step, stopped (nothing more follows), paused (every step of the window reported), set (the step given to `set` applied, or why not), or a fatal error. */
export type WorkerReport = { ready: true } | AppliedStep | { stopped: true } | { paused: true } | { set: true; error?: string } | { fatal: string };

/** The replay under way: tc answering, the steps' timers, the steps written and awaiting tc's answer. */
class Replay {
  private readonly tc;
  /** one per command batch written, in order: called with the root qdisc line tc printed after it */
  private readonly acks: ((root: string) => void)[] = [];
  /** the timers of steps not yet applied, by step */
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private startMs = 0;
  private errors: string[] = [];
  /** stop: end once every step written is reported; pause: report `paused` then, and wait for the next window */
  private ending: 'stop' | 'pause' | null = null;

  constructor(private input: WorkerInput) {
    this.tc = spawn('stdbuf', ['-oL', 'tc', '-force', ...(input.netns ? ['-n', input.netns] : []), '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    // `qdisc show dev IF` prints the root qdisc's line first (children follow with "parent")
    createInterface({ input: this.tc.stdout! }).on('line', (line) => {
      if (/^qdisc \S+ [0-9a-f]+: root/.test(line)) this.acks.shift()?.(line);
    });
    createInterface({ input: this.tc.stderr! }).on('line', (line) => this.errors.push(line));
    this.tc.on('error', (e) => post({ fatal: `cannot run tc -batch: ${e.message}` }));
    // ready once tc answers and our qdisc is in place: the first step is then not late by tc's start-up
    this.send([], (root) => post(this.ours(root) ? { ready: true } : { fatal: `the trace replay's qdisc is not on ${input.iface} (root qdisc: ${root.trim()})` }));
  }

  /** The next window's steps (times from its own clock's start). */
  load(steps: WorkerInput['steps']): void {
    this.input = { ...this.input, steps };
  }

  /** Applies step i now, outside any clock: the window's first condition, in place before its clock starts. */
  set(i: number): void {
    const s = this.input.steps[i]!;
    this.send(s.args.map((a) => a.join(' ')), (root) => {
      const error = this.takeError(root);
      post(error ? { set: true, error } : { set: true });
    });
  }

  start(start: number): void {
    this.ending = null;
    this.startMs = start;
    this.input.steps.forEach((_, i) => this.timers.set(i, setTimeout(() => this.apply(i), Math.max(0, start + this.input.steps[i]!.atMs - epochMs()))));
  }

  /** Steps not yet due are dropped, a due one whose timer is late is applied now; then each step written to tc is reported, then `stopped`. */
  stop(how: 'stop' | 'pause' = 'stop'): void {
    this.ending = how;
    for (const [i, timer] of this.timers) {
      clearTimeout(timer);
      if (this.startMs + this.input.steps[i]!.atMs <= epochMs()) this.apply(i);
    }
    this.timers.clear();
    this.finishIfIdle();
  }

  private apply(i: number): void {
    this.timers.delete(i);
    const s = this.input.steps[i]!;
    this.send(s.args.map((a) => a.join(' ')), (root) => {
      const error = this.takeError(root);
      post({ step: i, condition: s.key, scheduled_ms: s.atMs, applied_ms: epochMs() - this.startMs, tc: root, ...(error ? { error } : {}) } satisfies AppliedStep);
      if (this.ending) this.finishIfIdle();
    });
  }

  private finishIfIdle(): void {
    if (this.acks.length > 0) return;
    if (this.ending === 'pause') {
      this.ending = null;
      post({ paused: true });
      return;
    }
    this.tc.stdin!.end();
    // exit only once `stopped` (and so every step before it) is written to the channel
    process.send?.({ stopped: true } satisfies WorkerReport, () => process.exit(0));
  }

  /** Writes commands followed by `qdisc show dev IF`; `ack` gets the root qdisc's line. */
  private send(commands: string[], ack: (root: string) => void): void {
    this.acks.push(ack);
    this.tc.stdin!.write(`${[...commands, `qdisc show dev ${this.input.iface}`].join('\n')}\n`);
  }

  /** What went wrong with the batch tc just answered (its stderr lines since the last answer, our qdisc missing), or undefined; the lines are taken. */
  private takeError(root: string): string | undefined {
    const error = [...this.errors, ...(this.ours(root) ? [] : [`our qdisc is gone from ${this.input.iface} (root qdisc: ${root.trim()}): something else removed it`])];
    this.errors = [];
    return error.length ? error.join('; ') : undefined;
  }

  private ours(root: string): boolean {
    return root.split(' ')[2] === this.input.handle;
  }
}

function post(m: WorkerReport): void {
  process.send?.(m);
}

if (process.send) {
  process.once('disconnect', () => process.exit(0));
  let replay: Replay | null = null;
  process.on('message', (m: WorkerMessage) => {
    if ('steps' in m) replay = new Replay(m);
    else if ('load' in m) replay?.load(m.load);
    else if ('set' in m) replay?.set(m.set);
    else if ('start' in m) replay?.start(m.start);
    else if ('pause' in m) replay?.stop('pause');
    else if (replay) replay.stop();
    else process.exit(0);
  });
}
