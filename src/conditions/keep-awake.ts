import { spawn } from 'node:child_process';
import { attachToCgroup } from './cgroup.js';
import { registerChange, type Registration } from './cleanup.js';
import { readProcStat } from './proc.js';

/**
 * Keeps a throttled device's CPUs awake. Under a CPU quota the device's CPU idles for most of each
 * period; on a virtual machine an idle CPU halts, the host runs something else on it, and the
 * device resumes on cold caches every period. Measured on this project's 2-core VM (mobilenet,
 * onnx, 19 ms at one core): 0.133 cores ran 12.5-15.4x slower instead of 7.5x, and 0.25 cores
 * 4.9-6.5x instead of 4x; with one idle-priority spinner on the CPU, 7.2-8.5x and 3.7-4.8x (quiet machine).
 * The spinner runs at SCHED_IDLE outside the device's cgroup, so it only gets the CPU time the
 * device leaves idle (the device preempts it at once) and never counts against its quota. Like a
 * stressor it is recorded for clean-up and dies with this process (parent-death signal).
 */
export interface KeepAwake {
  /** Spinners on exactly these CPUs (none for an empty list). */
  set(cpus: number[]): void;
  /** Ends every spinner. Idempotent. */
  stop(): void;
}

/** An endless shell loop: a few bytes of cache, no system calls. */
const SPIN = ['sh', '-c', 'while :; do :; done'];

/** The command of one spinner, pinned to a CPU at idle priority, killed when its parent dies. */
export function spinnerCommand(cpu: number): [string, string[]] {
  return ['setpriv', ['--pdeathsig', 'KILL', '--', 'chrt', '--idle', '0', 'taskset', '-c', String(cpu), ...SPIN]];
}

/** `outside`: the cgroup directories (one per controller on v1) the spinners are moved to. */
export function keepAwake(outside: string[], log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): KeepAwake {
  const running = new Map<number, Registration>();
  let warned = false;
  const warn = (why: string) => {
    if (!warned) log(`note: cannot keep the throttled device's CPUs awake (${why}); fractional CPU times then run slower than their share on a VM`);
    warned = true;
  };
  const stopOne = (cpu: number) => {
    running.get(cpu)?.undo();
    running.delete(cpu);
  };
  return {
    set(cpus) {
      for (const cpu of [...running.keys()]) if (!cpus.includes(cpu)) stopOne(cpu);
      for (const cpu of cpus) {
        if (running.has(cpu)) continue;
        const [file, args] = spinnerCommand(cpu);
        const child = spawn(file, args, { detached: true, stdio: 'ignore' });
        child.on('error', (e) => warn(e.message));
        child.unref();
        const pid = child.pid;
        if (pid === undefined) continue;
        const reg = registerChange({ kind: 'process-group', pid, startTime: readProcStat(pid)?.startTime ?? 0, what: `CPU ${cpu} keep-awake spinner` });
        try {
          attachToCgroup(outside, pid);
        } catch (e) {
          // inside the device it would eat the quota it is there to serve
          reg.undo();
          warn((e as Error).message);
          continue;
        }
        running.set(cpu, reg);
      }
    },
    stop() {
      for (const cpu of [...running.keys()]) stopOne(cpu);
    },
  };
}
