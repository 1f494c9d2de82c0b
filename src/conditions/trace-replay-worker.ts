import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

/**
 * The replay's timer thread (src/conditions/trace-replay.ts). It keeps one `tc -batch -` process
 * open (line-buffered through stdbuf), so a step costs a write to its stdin instead of starting a
 * process (tens of ms on a busy machine): each step's `qdisc change` lines are followed by
 * `qdisc show dev IF`, and the step counts as applied when our root qdisc's line comes back.
 * Imports nothing of the tool, so it carries no clean-up handlers or other state of the main thread.
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
  /** cgroup directories to move the tc process to (out of a throttled device); none = stays */
  outside: string[];
  steps: { atMs: number; args: string[][]; key: string }[];
}

/** Epoch ms with sub-ms precision, the same clock in every thread. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

function run(input: WorkerInput): void {
  const tc = spawn('stdbuf', ['-oL', 'tc', '-force', ...(input.netns ? ['-n', input.netns] : []), '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  // Inside a throttled edge device, tc would share the quota with inference: steps were applied
  // 20-60 ms late under --edge-slowdown 10. The network's emulation is not the edge's work.
  try {
    for (const dir of input.outside) writeFileSync(join(dir, 'cgroup.procs'), String(tc.pid));
  } catch (e) {
    parentPort!.postMessage({ note: `the replay's tc stays inside the edge device (${(e as Error).message}); its steps may be late` });
  }
  const acks: ((line: string) => void)[] = [];
  let errors: string[] = [];
  createInterface({ input: tc.stdout! }).on('line', (line) => {
    if (line.startsWith(`qdisc tbf ${input.handle}`) || line.startsWith(`qdisc netem ${input.handle}`)) acks.shift()?.(line);
  });
  createInterface({ input: tc.stderr! }).on('line', (line) => errors.push(line));
  tc.on('error', (e) => parentPort!.postMessage({ fatal: `cannot run tc -batch: ${e.message}` }));
  parentPort!.once('message', ({ start }: { start: number }) => {
    input.steps.forEach((s, i) => {
      setTimeout(() => {
        const lines = [...s.args.map((a) => a.join(' ')), `qdisc show dev ${input.iface}`];
        acks.push((line) => {
          const applied: AppliedStep = { step: i, condition: s.key, scheduled_ms: s.atMs, applied_ms: epochMs() - start, tc: line, ...(errors.length ? { error: errors.join('; ') } : {}) };
          errors = [];
          parentPort!.postMessage(applied);
        });
        tc.stdin!.write(`${lines.join('\n')}\n`);
      }, Math.max(0, start + s.atMs - epochMs()));
    });
  });
  parentPort!.postMessage({ ready: true });
}

if (!isMainThread && (workerData as WorkerInput | undefined)?.steps) run(workerData as WorkerInput);
