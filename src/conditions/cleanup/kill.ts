import { isSameProcess, readProcStat } from '../proc.js';

/** How long a graceful process gets to undo its own changes after SIGTERM, and to die after SIGKILL. */
const GRACE_MS = 3000;

function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Blocks for up to `ms` until `done()`: undo actions must be synchronous (they run in 'exit'). */
export function waitSync(done: () => boolean, ms: number): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) Atomics.wait(cell, 0, 0, 20);
}

export type KillResult = 'not-ours' | 'gone' | 'killed';

/**
 * Kills the process group led by (pid, startTime), never a stranger that reused the pid.
 * graceful: SIGTERM first and a short wait, so a process of ours can undo its own changes;
 * then SIGKILL, and wait for the leader to be gone.
 * Returns 'not-ours' when a living leader has another start time (the pid was reused), 'gone' when
 * there was no group left to signal, 'killed' when the group was signalled.
 */
export function killProcessGroup(pid: number, startTime: number, graceful = false): KillResult {
  // A dead leader with living members: the pgid cannot have been reused while they live.
  const leader = readProcStat(pid);
  if (leader && leader.startTime !== startTime) return 'not-ours';
  const dead = () => !isSameProcess(pid, startTime);
  if (graceful && leader) {
    signalGroup(pid, 'SIGTERM');
    waitSync(dead, GRACE_MS);
  }
  const killed = signalGroup(pid, 'SIGKILL');
  if (graceful) waitSync(dead, GRACE_MS);
  return killed ? 'killed' : 'gone';
}
