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

/** Whether a schedule's qdiscs need a netem child: some step has delay, jitter or loss. */
export function needsNetem(schedule: Schedule): boolean {
  return schedule.steps.some((s) => s.condition.delay > 0 || s.condition.jitter > 0 || s.condition.loss > 0);
}

export class TraceReplay {
  readonly applied: AppliedStep[] = [];
  private worker: ChildProcess | null = null;
  private finished: Promise<void> = Promise.resolve();
  private startMs = 0;

  private constructor(
    private readonly iface: string,
    private readonly netns: string | undefined,
    private readonly schedule: Schedule,
    private readonly netem: boolean,
    private readonly mtu: number,
    private readonly outside: string[],
  ) {}

  /**
   * Installs the first step's shaping; nothing is timed yet.
   * `outside`: cgroup directories the timer process (and so its tc) is moved to when this process is
   * a throttled device (the edge): the network's emulation must not queue for the edge's CPU quota
   * (steps were applied 20-60 ms late under --edge-slowdown 10).
   * `netem`: whether to install the netem child (default: when this schedule needs it; a piece of
   * a longer schedule passes the whole one's, so every piece installs the same qdiscs).
   */
  static async prepare(iface: string, schedule: Schedule, opts: { netns?: string; outside?: string[]; netem?: boolean } = {}): Promise<TraceReplay> {
    const unshaped = schedule.steps.find((s) => s.condition.net === null);
    if (unshaped) throw new UserError(`trace ${schedule.trace}: the step at ${unshaped.atMs / 1000} s has net=none; a replayed link needs a rate at every step`);
    const netem = opts.netem ?? needsNetem(schedule);
    const first = await applyShaping(iface, shapingOf(schedule.steps[0]!.condition), { netns: opts.netns, netem });
    return new TraceReplay(iface, opts.netns, schedule, netem, first.mtu, opts.outside ?? []);
  }

  /**
   * Starts the timeline: the timer thread and its tc process are made ready first, then the clock
   * starts (step 0 is applied again with `change`, so its time is logged too). Resolves with the
   * start, epoch ms.
   */
  async start(onApplied?: (a: AppliedStep) => void): Promise<number> {
    const input: WorkerInput = {
      iface: this.iface,
      netns: this.netns,
      handle: `${OUR_HANDLE}:`,
      steps: this.schedule.steps.map((s) => ({
        atMs: s.atMs,
        key: conditionKey(s.condition),
        args: shapingCommands(this.iface, shapingOf(s.condition), this.mtu, { verb: 'change', netem: this.netem }),
      })),
    };
    const worker = fork(fileURLToPath(new URL('./trace-replay-worker.js', import.meta.url)), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
    this.worker = worker;
    this.finished = new Promise((resolve) => worker.once('exit', () => resolve()));
    try {
      // a fork that failed to start has no pid: its 'error' event below says why
      if (worker.pid !== undefined) attachToCgroup(this.outside, worker.pid);
    } catch (e) {
      process.stderr.write(`note: the trace replay stays inside the edge device (${(e as Error).message}); its steps may be late\n`);
    }
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the trace replay's timer process ended (${code}) before it was ready`)));
      worker.on('message', (m: WorkerReport) => {
        if ('ready' in m) resolve();
        else if ('fatal' in m) reject(new Error(m.fatal));
        else if ('step' in m) {
          this.applied.push(m);
          onApplied?.(m);
        }
      });
      worker.send(input satisfies WorkerMessage);
    });
    this.startMs = epochMs();
    worker.send({ start: this.startMs });
    return this.startMs;
  }

  /**
   * Stops the timeline: steps not yet due are not applied, a step tc is applying is waited for, and
   * every step applied is in `applied` (and was handed to onApplied) when this resolves. The timer
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
