import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

/**
 * The replay's timer process (src/conditions/trace-replay.ts), forked with an IPC channel and moved
 * out of the edge's device before it starts: a throttled edge (--edge-slowdown) delayed a timer
 * thread of its own by tens of ms per step. It keeps one `tc -batch -` process
 * open (line-buffered through stdbuf), so a step costs a write to its stdin instead of starting a
 * process (tens of ms on a busy machine): each step's `qdisc change` lines are followed by
 * `qdisc show dev IF`, and the step counts as applied when our root qdisc's line comes back.
 * Imports nothing of the tool, so it carries no clean-up handlers or other state of the edge.
 * It ends when the edge does (the IPC channel closes) or kills it.
 */
export interface AppliedStep {
  step: number;
  condition: string;
  /** ms since the replay's start */
  scheduled_ms: number;
  applied_ms: number;
  /** our root qdisc as tc showed it right after the change */
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

function run(input: WorkerInput): void {
  const tc = spawn('stdbuf', ['-oL', 'tc', '-force', ...(input.netns ? ['-n', input.netns] : []), '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const acks: ((line: string) => void)[] = [];
  let errors: string[] = [];
  createInterface({ input: tc.stdout! }).on('line', (line) => {
    if (line.startsWith(`qdisc tbf ${input.handle}`) || line.startsWith(`qdisc netem ${input.handle}`)) acks.shift()?.(line);
  });
  createInterface({ input: tc.stderr! }).on('line', (line) => errors.push(line));
  tc.on('error', (e) => post({ fatal: `cannot run tc -batch: ${e.message}` }));
  process.once('message', ({ start }: { start: number }) => {
    input.steps.forEach((s, i) => {
      setTimeout(() => {
        const lines = [...s.args.map((a) => a.join(' ')), `qdisc show dev ${input.iface}`];
        acks.push((line) => {
          const applied: AppliedStep = { step: i, condition: s.key, scheduled_ms: s.atMs, applied_ms: epochMs() - start, tc: line, ...(errors.length ? { error: errors.join('; ') } : {}) };
          errors = [];
          post(applied);
        });
        tc.stdin!.write(`${lines.join('\n')}\n`);
      }, Math.max(0, start + s.atMs - epochMs()));
    });
  });
  post({ ready: true });
}

function post(m: unknown): void {
  process.send?.(m);
}

if (process.send) {
  process.once('disconnect', () => process.exit(0));
  process.once('message', (input: WorkerInput) => run(input));
}
