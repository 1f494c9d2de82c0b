import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { attachToCgroup } from './cgroup.js';
import { conditionKey } from './condition.js';
import { OUR_HANDLE } from './cleanup.js';
import { applyShaping, restoreShaping, shapingCommands, shapingOf } from './tc.js';
import type { Schedule } from './trace.js';

/**
 * Replays a schedule's link conditions on an interface: the first step installs our qdiscs (tbf,
 * plus a netem child when any step has delay, jitter or loss), every later step runs
 * `tc qdisc change` (the queue is kept, not flushed). The timer runs in a process of its own, out of
 * the edge's device, so neither the edge's inference (which blocks its main thread) nor its CPU
 * quota can delay a change. Each change is reported
 * with its scheduled and applied time (when tc returned), in ms since the replay's start.
 */
import { epochMs, type AppliedStep, type WorkerInput, type WorkerMessage, type WorkerReport } from './trace-replay-worker.js';

/** How long a stopping timer process may take to report the step in flight before it is killed. */
const STOP_GRACE_MS = 2000;

export { epochMs, type AppliedStep } from './trace-replay-worker.js';

/** Whether a schedule's qdiscs need a netem child: some step has delay, jitter or loss (a window of it played by startWindow uses the same qdiscs). */
function needsNetem(schedule: Schedule): boolean {
  return schedule.steps.some((s) => s.condition.delay > 0 || s.condition.jitter > 0 || s.condition.loss > 0);
}

export class TraceReplay {
  private worker: ChildProcess | null = null;
  private finished: Promise<void> = Promise.resolve();
  private startMs = 0;
  private onApplied?: (a: AppliedStep) => void;
  /** a window's set or pause awaiting the worker's report */
  private waiting: { kind: 'set' | 'paused'; resolve: (error: string | undefined) => void; reject: (e: Error) => void } | null = null;

  private constructor(
    private readonly iface: string,
    private readonly netns: string | undefined,
    private readonly netem: boolean,
    private readonly mtu: number,
    private readonly outside: string[],
  ) {}

  /**
   * Installs the first step's shaping; nothing is timed yet.
   * `outside`: cgroup directories the timer process (and so its tc) is moved to when this process is
   * a throttled device (the edge): the network's emulation must not queue for the edge's CPU quota
   * (steps were applied 20-60 ms late under --edge-slowdown 10).
   */
  static async prepare(iface: string, schedule: Schedule, opts: { netns?: string; outside?: string[] } = {}): Promise<TraceReplay> {
    const unshaped = schedule.steps.find((s) => s.condition.net === null);
    if (unshaped) throw new UserError(`trace ${schedule.trace}: the step at ${unshaped.atMs / 1000} s has net=none; a replayed link needs a rate at every step`);
    const netem = needsNetem(schedule);
    const first = await applyShaping(iface, shapingOf(schedule.steps[0]!.condition), { netns: opts.netns, netem });
    return new TraceReplay(iface, opts.netns, netem, first.mtu, opts.outside ?? []);
  }

  /**
   * Starts a timeline: plays `window` (the schedule prepared, or a piece of it: its steps' times
   * from the window's own start, e.g. a slot of the interleaved replay) on the timer process,
   * which is started at the first window and kept between windows (a process start per window cost
   * seconds on a throttled edge). The window's first step is applied, then `ready` runs, then the
   * clock starts (the first step is applied again at 0, so its time is logged). `pauseWindow` ends
   * it, `stop` ends the process. Resolves with the clock's start, epoch ms.
   */
  async startWindow(window: Schedule, onApplied: (a: AppliedStep) => void, ready: () => Promise<void>): Promise<number> {
    const steps = this.workerSteps(window);
    this.onApplied = onApplied;
    const worker = this.worker ?? (await this.launch(steps));
    worker.send({ load: steps } satisfies WorkerMessage);
    const set = await this.reply('set', () => worker.send({ set: 0 } satisfies WorkerMessage));
    if (set) {
      // something removed our qdiscs between windows (the replay once installed them per policy, which repaired this): install them again
      process.stderr.write(`note: the trace replay could not set ${steps[0]!.key} (${set}); installing its qdiscs again\n`);
      await applyShaping(this.iface, shapingOf(window.steps[0]!.condition), { netns: this.netns, netem: this.netem });
    }
    await ready();
    this.startMs = epochMs();
    worker.send({ start: this.startMs } satisfies WorkerMessage);
    return this.startMs;
  }

  /** Ends a window (startWindow): steps not yet due are not applied, and every step applied was handed to onApplied when this resolves; the timer process stays. */
  async pauseWindow(): Promise<void> {
    const w = this.worker;
    if (!w?.connected) return;
    await this.reply('paused', () => w.send({ pause: true } satisfies WorkerMessage));
  }

  /** Sends with `send` and waits for the worker's `kind` report (its error, if any), or its end. */
  private reply(kind: 'set' | 'paused', send: () => void): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting = { kind, resolve, reject };
      send();
    });
  }

  private workerSteps(schedule: Schedule): WorkerInput['steps'] {
    return schedule.steps.map((s) => ({
      atMs: s.atMs,
      key: conditionKey(s.condition),
      args: shapingCommands(this.iface, shapingOf(s.condition), this.mtu, { verb: 'change', netem: this.netem }),
    }));
  }

  /** Forks the timer process with `steps` and waits until it is ready (tc answers, our qdisc is there). */
  private async launch(steps: WorkerInput['steps']): Promise<ChildProcess> {
    const input: WorkerInput = { iface: this.iface, netns: this.netns, handle: `${OUR_HANDLE}:`, steps };
    const worker = fork(fileURLToPath(new URL('./trace-replay-worker.js', import.meta.url)), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
    this.worker = worker;
    this.finished = new Promise((resolve) => worker.once('exit', () => resolve()));
    try {
      // a fork that failed to start has no pid: its 'error' event below says why
      if (worker.pid !== undefined) attachToCgroup(this.outside, worker.pid);
    } catch (e) {
      process.stderr.write(`note: the trace replay stays inside the edge device (${(e as Error).message}); its steps may be late\n`);
    }
    worker.once('exit', (code) => {
      this.waiting?.reject(new Error(`the trace replay's timer process ended (${code})`));
      this.waiting = null;
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the trace replay's timer process ended (${code}) before it was ready`)));
      worker.on('message', (m: WorkerReport) => {
        if ('ready' in m) resolve();
        else if ('fatal' in m) reject(new Error(m.fatal));
        else if ('step' in m) {
          this.onApplied?.(m);
        } else if ('set' in m || 'paused' in m) {
          const w = this.waiting;
          this.waiting = null;
          w?.resolve('set' in m ? m.error : undefined);
        }
      });
      worker.send(input satisfies WorkerMessage);
    });
    return worker;
  }

  /**
   * Stops the timeline: steps not yet due are not applied, a step tc is applying is waited for, and
   * every step applied was handed to onApplied when this resolves. The timer
   * process is asked to stop, and killed only if it does not within STOP_GRACE_MS.
   */
  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (!w) return;
    // the channel closes after the last message in it was read: waiting for it delivers every report
    const drained = w.connected ? new Promise<void>((resolve) => w.once('disconnect', () => resolve())) : Promise.resolve();
    const kill = setTimeout(() => {
      process.stderr.write(`note: the trace replay's timer process did not stop within ${STOP_GRACE_MS / 1000} s (tc did not answer); killed, a step may be missing\n`);
      w.kill('SIGKILL');
    }, STOP_GRACE_MS);

    try {
      if (w.connected) w.send({ stop: true } satisfies WorkerMessage, () => {});
      else w.kill('SIGKILL');
      await Promise.all([this.finished, drained]);
    } finally {
      clearTimeout(kill);
    }
  }

  /** Stops and removes our qdiscs. */
  async close(): Promise<void> {
    await this.stop();
    await restoreShaping(this.iface, { netns: this.netns });
  }
}
