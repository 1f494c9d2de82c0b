/**
 * The built-in stressor, for machines without stress-ng. Same semantics:
 *   node builtin-stressor.js cpu <percent> <workers>   one thread per worker, busy <percent> of each 100 ms
 *   node builtin-stressor.js mem <bytes>               allocate, touch every page, hold until killed
 * It volunteers to be the OOM killer's first choice before it allocates anything.
 */
import { writeFileSync } from 'node:fs';
import { Worker, isMainThread, workerData } from 'node:worker_threads';

const PERIOD_MS = 100;
const CHUNK = 64 * 1024 * 1024;

function dutyCycle(percent: number): never {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const busyNs = BigInt(Math.round(PERIOD_MS * 1e6 * (percent / 100)));
  const periodNs = BigInt(PERIOD_MS * 1e6);
  let start = process.hrtime.bigint();
  for (;;) {
    while (process.hrtime.bigint() - start < busyNs) {
      // spin
    }
    const idleMs = Number(periodNs - (process.hrtime.bigint() - start)) / 1e6;
    if (idleMs > 0) Atomics.wait(sleeper, 0, 0, idleMs);
    start += periodNs;
    const now = process.hrtime.bigint();
    if (now - start > periodNs) start = now; // fell behind (descheduled): do not try to catch up
  }
}

function holdMemory(bytes: number): void {
  const held: Buffer[] = [];
  // Node itself is resident already: count it, so the process holds `bytes` in all, as stress-ng's worker does.
  for (let left = bytes - process.memoryUsage().rss; left > 0; left -= CHUNK) {
    // fill() touches every page, so the memory is resident, not just reserved.
    held.push(Buffer.allocUnsafeSlow(Math.min(CHUNK, left)).fill(0x5a));
  }
  setInterval(() => held.length, 1 << 30);
}

if (isMainThread) {
  try {
    writeFileSync('/proc/self/oom_score_adj', '1000');
  } catch {
    // Not Linux, or not allowed: the parent sets it too.
  }
  const [mode, a, b] = process.argv.slice(2);
  if (mode === 'cpu') {
    const percent = Number(a);
    for (let i = 0; i < Number(b); i++) new Worker(new URL(import.meta.url), { workerData: percent });
  } else if (mode === 'mem') {
    holdMemory(Number(a));
  } else {
    process.stderr.write('usage: builtin-stressor.js cpu <percent> <workers> | mem <bytes>\n');
    process.exit(2);
  }
} else {
  dutyCycle(workerData as number);
}
